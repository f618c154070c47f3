package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/internal/version"
)

// newActionCommands returns vigil's headless guarded actions for runbooks: rollback, restart,
// scale, argo (sync|rollback), secret (refresh), silence (create|expire) and audit
// (verify|log). Every mutation goes through actions.Pipeline: read-only, RBAC,
// preconditions, server-side dry run, confirmation (--confirm must carry
// <context>/<namespace>/<name> for protected targets), audit record, execute, verify.
//
// The connection flags, --config and the read-only switches are g's, persistent on the root.
func newActionCommands(g *globalFlags, streams genericiooptions.IOStreams) []*cobra.Command {
	o := &actionOptions{g: g, flags: g.kube, in: streams.In, out: streams.Out, errOut: streams.ErrOut, getenv: g.getenv}
	return []*cobra.Command{
		o.rollbackCommand(), o.restartCommand(), o.scaleCommand(), o.argoCommand(),
		o.secretCommand(), o.silenceCommand(), o.auditCommand(),
	}
}

// actionOptions are the flags every action command shares.
type actionOptions struct {
	// g are the root's persistent flags; flags is g.kube.
	g           *globalFlags
	flags       *genericclioptions.ConfigFlags
	in          io.Reader
	out, errOut io.Writer
	getenv      func(string) string

	namespace              string
	reason, confirm        string
	dryRun                 bool
	resolved               Mode
	auditLog               string
	protectedContexts      []string
	requireReason          bool
	requireReasonProtected bool
	timeout                time.Duration
}

// addFlags adds -n when the command targets a namespace, and the guard flags. The
// connection flags, --config and the read-only switches come from the root.
func (o *actionOptions) addFlags(c *cobra.Command, namespaced bool) {
	fs := c.Flags()
	if namespaced {
		fs.StringVarP(&o.namespace, "namespace", "n", "", "namespace of the target (default: the context's namespace)")
	}
	o.addGuardFlags(fs)
}

func (o *actionOptions) addGuardFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.reason, "reason", "", "why: a ticket or incident, recorded in the audit log")
	fs.StringVar(&o.confirm, "confirm", "", "confirm without a prompt: <context>/<namespace>/<name> (protected targets), or yes")
	fs.BoolVar(&o.dryRun, "dry-run", false, "preview only (server-side dry run); change nothing")
	fs.StringVar(&o.auditLog, "audit-log", "", "audit log file (default $XDG_STATE_HOME/vigil/audit.jsonl)")
	fs.StringSliceVar(&o.protectedContexts, "protected-context", nil, "contexts whose every target needs the typed confirmation (repeatable)")
	fs.BoolVar(&o.requireReason, "require-reason", false, "require --reason for every action")
	fs.BoolVar(&o.requireReasonProtected, "require-reason-protected", true, "require --reason for protected targets")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up after this long")
}

// ns is the target namespace: -n, else the kubeconfig context's, else "default".
func (o *actionOptions) ns(fallback string) string {
	if o.flags != nil && o.flags.Namespace != nil && *o.flags.Namespace != "" {
		return *o.flags.Namespace
	}
	if o.namespace != "" {
		return o.namespace
	}
	if fallback != "" {
		return fallback
	}
	if o.flags != nil {
		if ns, _, err := o.flags.ToRawKubeConfigLoader().Namespace(); err == nil && ns != "" {
			return ns
		}
	}
	return "default"
}

// env builds the actions.Env of the selected kube context.
func (o *actionOptions) env() (*actions.Env, error) {
	if o.flags == nil {
		return nil, errors.New("no kube connection flags")
	}
	cfg, err := o.flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("kube config: %w", err)
	}
	raw, err := o.flags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, fmt.Errorf("kube config: %w", err)
	}
	ctxName := raw.CurrentContext
	if o.flags.Context != nil && *o.flags.Context != "" {
		ctxName = *o.flags.Context
	}
	vcfg, err := o.g.loadConfig()
	if err != nil {
		return nil, err
	}
	if o.resolved, err = o.g.modeFor(vcfg, ctxName); err != nil {
		return nil, err
	}
	// Read-only mode refuses at the transport too, below the pipeline's own refusal.
	cfg = o.resolved.WrapConfig(cfg)
	cfg.UserAgent = version.UserAgent()
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &actions.Env{Context: ctxName, Server: cfg.Host, Kube: kube, Dynamic: dyn,
		ReadOnly: o.resolved.ReadOnly, ProtectedContexts: o.protectedContexts,
		RequireReason: o.requireReason, RequireReasonProtected: o.requireReasonProtected}, nil
}

func (o *actionOptions) auditPath() (string, error) {
	if o.auditLog != "" {
		return o.auditLog, nil
	}
	return audit.DefaultPath(o.getenv)
}

// run sends one action through the pipeline and prints its preview, progress and result.
func (o *actionOptions) run(ctx context.Context, env *actions.Env, a *actions.Action, t actions.Target) error {
	path, err := o.auditPath()
	if err != nil {
		return err
	}
	log, err := audit.Open(path)
	if err != nil {
		return err
	}
	var confirmer actions.Confirmer
	if o.confirm != "" {
		confirmer = actions.PresetConfirmer{Answer: o.confirm, Reason: o.reason}
	} else {
		confirmer = actions.NewPromptConfirmer(o.in, o.errOut)
	}
	p := &actions.Pipeline{Env: env, Audit: log, Confirmer: confirmer}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	out, err := p.Execute(ctx, a, t, actions.Request{Reason: o.reason, DryRun: o.dryRun, Progress: func(e actions.Event) {
		if e.Message != "" && (e.Stage == actions.StageExecute || e.Stage == actions.StageVerify) {
			fmt.Fprintf(o.errOut, "[%s] %s\n", e.Stage, e.Message)
		}
	}})
	if out.Preview.Summary != "" && (o.dryRun || o.confirm != "") {
		fmt.Fprint(o.out, out.Preview.String())
	}
	if err != nil {
		return fmt.Errorf("%s %s in %s: %w (attempt %s, audit log %s)", a.ID, t, env.Context, err, out.Attempt, path)
	}
	if out.DryRunOnly {
		fmt.Fprintf(o.out, "dry run: nothing changed (attempt %s recorded in %s)\n", out.Attempt, path)
		return nil
	}
	fmt.Fprintf(o.out, "%s\n", out.Result.Message)
	if out.Result.Verified != "" {
		fmt.Fprintf(o.out, "verified: %s\n", out.Result.Verified)
	}
	return nil
}

// workloadTarget parses TYPE/NAME for the workload commands.
func (o *actionOptions) workloadTarget(ref string) (actions.Target, error) {
	t, err := actions.ParseTarget(ref, o.ns(""), actions.KindDeployment)
	if err != nil {
		return t, err
	}
	switch t.Kind {
	case actions.KindDeployment, actions.KindStatefulSet, actions.KindDaemonSet:
		return t, nil
	}
	return t, fmt.Errorf("%s: want a deploy/, sts/ or ds/ workload", ref)
}

func actionExample(lines ...string) string { return "  " + strings.Join(lines, "\n  ") }
