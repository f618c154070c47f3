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
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
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

	namespace       string
	reason, confirm string
	dryRun          bool
	resolved        Mode
	auditLog        string
	policy          policyFlags
	// reasonProtected is the hidden --require-reason-protected, kept so old runbooks that
	// pass true still run; false is refused.
	reasonProtected *pflag.Flag
	timeout         time.Duration
	// settings are the config's for the context env resolved (read once, by env).
	settings config.Settings
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
	fs.StringSliceVar(&o.policy.protectedContexts, "protected-context", nil, "contexts (names or patterns such as prod-*, as the config's protectedContexts) whose every target needs the typed confirmation, in addition to the config's (repeatable)")
	fs.BoolVar(&o.policy.requireReason, "require-reason", false, "require --reason for every action (in addition to the config's requireReason)")
	fs.Bool("require-reason-protected", true, "protected targets always need --reason, as in the terminal UI; false is refused")
	_ = fs.MarkHidden("require-reason-protected")
	o.reasonProtected = fs.Lookup("require-reason-protected")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up after this long: the checks and preview, then, from the confirmation on, the change and its verification (the time taken to confirm does not count)")
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

// env builds the actions.Env of the selected kube context, its policy resolved as the UI's is
// (resolvePolicy) with the guard flags added.
func (o *actionOptions) env() (*actions.Env, error) {
	if o.flags == nil {
		return nil, errors.New("no kube connection flags")
	}
	if f := o.reasonProtected; f != nil && f.Value.String() == "false" {
		return nil, errors.New("--require-reason-protected=false: protected targets always need a reason, as in the terminal UI; drop the flag")
	}
	if err := o.policy.validate(); err != nil {
		return nil, err
	}
	// The same resolution as the UI's: "in-cluster" for the service account.
	target, err := cluster.ResolveConnection(o.flags, version.UserAgent())
	if err != nil {
		return nil, err
	}
	vcfg, err := o.g.loadConfig()
	if err != nil {
		return nil, err
	}
	o.settings = vcfg.For(target.Context)
	policy, mode, err := o.g.resolvePolicy(vcfg, o.g.identityOf(target.Context, target.Server), o.policy)
	if o.resolved = mode; err != nil {
		return nil, err
	}
	// Read-only mode refuses at the transport too, below the pipeline's own refusal.
	cfg := o.resolved.WrapConfig(target.RESTConfig)
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	env := &actions.Env{Context: target.Context, Server: target.Server, Kube: kube, Dynamic: dyn, Policy: policy}
	if env.Unimpersonated, err = unimpersonated(cfg); err != nil {
		return nil, err
	}
	return env, nil
}

// unimpersonated is a client of cfg's own credentials when cfg impersonates (--as,
// --as-group, a kubeconfig user's as:), for the audit log to name who acted behind the
// impersonated user; nil when it does not.
func unimpersonated(cfg *rest.Config) (kubernetes.Interface, error) {
	own := cluster.Unimpersonated(cfg)
	if own == nil {
		return nil, nil
	}
	return kubernetes.NewForConfig(own)
}

func (o *actionOptions) auditPath() (string, error) {
	if o.auditLog != "" {
		return o.auditLog, nil
	}
	return audit.DefaultPath(o.getenv)
}

// pipeline is the guard pipeline of env for a headless command: the audit log of the flags or
// the environment (auditPath, for messages), and the confirmation --confirm presets or the
// terminal prompt asks for.
func (o *actionOptions) pipeline(env *actions.Env) (p *actions.Pipeline, auditPath string, err error) {
	path, err := o.auditPath()
	if err != nil {
		return nil, "", err
	}
	log, err := audit.Open(path)
	if err != nil {
		return nil, "", err
	}
	var confirmer spec.Confirmer
	if o.confirm != "" {
		confirmer = actions.PresetConfirmer{Answer: o.confirm, Reason: o.reason}
	} else {
		confirmer = actions.NewPromptConfirmer(o.in, o.errOut)
	}
	return &actions.Pipeline{Env: env, Audit: log, Confirmer: confirmer}, path, nil
}

// run sends one action through the pipeline and prints its preview, progress and result.
func (o *actionOptions) run(ctx context.Context, env *actions.Env, a *actions.Action, t spec.Object) error {
	p, path, err := o.pipeline(env)
	if err != nil {
		return err
	}
	// --timeout is the pipeline's: a slow answer at the prompt does not eat into the change's time.
	out, err := p.Execute(ctx, a, t, spec.Request{Reason: o.reason, DryRun: o.dryRun, Timeout: o.timeout, Progress: func(e spec.Progress) {
		if e.Message != "" && (e.Stage == spec.StageExecute || e.Stage == spec.StageVerify || e.Stage == spec.StageOperation) {
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
	if out.Result.Operation != "" {
		fmt.Fprintf(o.out, "operation: %s\n", out.Result.Operation)
	}
	return nil
}

// workloadTarget parses TYPE/NAME for the workload commands.
func (o *actionOptions) workloadTarget(ref string) (spec.Object, error) {
	t, err := spec.ParseObject(ref, o.ns(""), spec.KindDeployment)
	if err != nil {
		return t, err
	}
	switch t.Kind {
	case spec.KindDeployment, spec.KindStatefulSet, spec.KindDaemonSet:
		return t, nil
	}
	return t, fmt.Errorf("%s: want a deploy/, sts/ or ds/ workload", ref)
}

func actionExample(lines ...string) string { return "  " + strings.Join(lines, "\n  ") }
