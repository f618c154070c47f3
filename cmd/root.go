// Package cmd is vigil's whole command line: the root command (the terminal
// UI) and the headless subcommands (check, config, the guarded actions, audit),
// kubectl-style Complete / Validate / Run on cli-runtime's ConfigFlags, so
// --kubeconfig, --context, KUBECONFIG and in-cluster config behave as they do
// for kubectl, before or after any subcommand. main calls Execute, the one
// place that prints an error and chooses the exit code.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/internal/termsafe"
	"github.com/vigil-k8s/vigil/internal/version"
	"github.com/vigil-k8s/vigil/ui"
	"github.com/vigil-k8s/vigil/ui/actionsui"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// rootOptions are the root command's inputs, filled by flags, then Complete.
type rootOptions struct {
	// flags are the connection flags, --config and the read-only switches, shared by every
	// command.
	flags *globalFlags
	// Namespaces is --namespaces/-n; empty means the config file's or the default.
	Namespaces []string
	// ConnectTimeout bounds the first contact with the API server.
	ConnectTimeout time.Duration

	// Set by Complete.
	config config.Config
	// readOnly is the first context's resolved read-only state; readOnlyFrom says why.
	readOnly           bool
	readOnlyFrom       string
	namespacesFromFlag bool
	target             cluster.Connection
	logger             *slog.Logger
	logFile            io.Closer
	// noState says why the state directory cannot be written, "" when it
	// can: vigil then runs read-only (actions need the audit log there)
	// and keeps its log's warnings for stderr at exit (noStateLog).
	noState    string
	noStateLog *boundedBuffer
	errOut     io.Writer
	// namespacesFrom names where the namespaces came from, for errors.
	namespacesFrom string
}

// NewCommand returns the vigil root command and its subcommands, reading and writing
// streams. Connection flags, --config and the read-only switches are persistent: they work
// before and after every subcommand.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	return newCommand(streams, os.Getenv)
}

func newCommand(streams genericiooptions.IOStreams, getenv func(string) string) *cobra.Command {
	return newRootCommand(newGlobalFlags(getenv), streams)
}

// newRootCommand returns the command tree on the global flags g.
func newRootCommand(g *globalFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &rootOptions{flags: g, ConnectTimeout: 10 * time.Second, errOut: streams.ErrOut}
	c := &cobra.Command{
		Use:   "vigil",
		Short: "A terminal cockpit for the fintech services on a Kubernetes cluster",
		Long: `vigil shows the Deployments and StatefulSets of the watched namespaces of a
kube context, unhealthy first, kept live by watches.

Connection flags work as in kubectl, before or after any subcommand:
--kubeconfig, --context, KUBECONFIG, or the in-cluster service account.`,
		Example: `  vigil
  vigil --context prod-eu -n fintech-prod,fintech-staging
  vigil --kubeconfig ./kubeconfig --context local-1
  vigil --context prod-eu audit export --out evidence-2026-q4`,
		Version:       version.String(),
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.Complete(c); err != nil {
				return err
			}
			defer o.close()
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	c.SetIn(streams.In)
	c.SetOut(streams.Out)
	c.SetErr(streams.ErrOut)
	c.SetVersionTemplate("vigil {{.Version}}\n")
	c.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see %s --help)", err, c.CommandPath())
	})
	g.addFlags(c.PersistentFlags())
	c.Flags().StringSliceVarP(&o.Namespaces, "namespaces", "n", nil, "namespaces to watch, comma-separated (default "+fmt.Sprint(config.DefaultNamespaces)+")")
	c.AddCommand(newCheckCommand(newCheckOptions(g, streams)))
	c.AddCommand(newConfigCommand(g, streams.Out))
	c.AddCommand(newActionCommands(g, streams)...)
	c.AddCommand(newLogsCommand(g, streams))
	c.AddCommand(newAttestCommand(g, streams))
	c.AddCommand(newWhoCanCommand(g, streams))
	return c
}

// Complete loads the config file, merges flags over it (flags > file >
// defaults), opens the log and resolves the kube context.
func (o *rootOptions) Complete(c *cobra.Command) error {
	cfg, err := o.flags.loadConfig()
	if err != nil {
		return err
	}
	if c.Flags().Changed("namespaces") {
		if err = checkNamespaceFlag(o.Namespaces); err != nil {
			return err
		}
		cfg.Namespaces = o.Namespaces
		o.namespacesFrom = "--namespaces"
		o.namespacesFromFlag = true
	} else {
		o.namespacesFrom = "config " + o.flags.configPath().File
	}
	o.config = cfg

	if o.logger, o.logFile, err = openLog(o.flags.getenv); err != nil {
		// Reads need no state directory: vigil starts, read-only, and
		// says why; the log's warnings go to stderr at exit.
		o.noState = noStateReason(err)
		o.noStateLog = &boundedBuffer{max: 64 << 10}
		o.logger = slog.New(slog.NewTextHandler(o.noStateLog, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	// client-go logs through klog: send it to the file too, never to the
	// terminal the UI owns.
	klog.SetSlogLogger(o.logger)
	cluster.SetWarnings(func() *slog.Logger { return o.logger }, nil)

	if o.target, err = cluster.ResolveConnection(o.flags.kube, version.UserAgent()); err != nil {
		return err
	}
	m, err := o.flags.modeFor(o.config, o.flags.identityOf(o.target.Context, o.target.Server).Key())
	o.readOnly, o.readOnlyFrom = m.ReadOnly, m.Source
	if o.noState != "" {
		o.readOnly, o.readOnlyFrom = true, o.noState
	}
	return err
}

// noStateReason is the read-only reason shown when the state directory
// cannot be written, e.g. "no state directory (log directory
// /dev/null/state/vigil: mkdir /dev/null: not a directory): actions are
// disabled, they need the audit log".
func noStateReason(err error) string {
	return "no state directory (" + err.Error() + "): actions are disabled, they need the audit log"
}

// Validate checks the merged settings; errors name the flag or field.
func (o *rootOptions) Validate() error {
	if err := o.config.Validate(); err != nil {
		return fmt.Errorf("%s: %w", o.namespacesFrom, err)
	}
	return nil
}

// Run starts the UI over a Manager, which connects to the context (and
// :ctx switches). A context that cannot be reached does not stop vigil:
// the UI opens on the Contexts screen saying why, and another can be chosen.
func (o *rootOptions) Run(ctx context.Context) error {
	t := o.target
	o.logger.Info("starting", "version", version.String(), "context", t.Context, "server", t.Server, "namespaces", o.config.Namespaces, "readOnly", o.readOnly, "readOnlyFrom", o.readOnlyFrom)
	mo := cluster.ManagerOptions{Flags: o.flags.kube, Config: o.config, UserAgent: version.UserAgent(), Logger: o.logger,
		ConnectTimeout: o.ConnectTimeout}
	if o.namespacesFromFlag {
		mo.Namespaces = o.config.Namespaces
	}
	// Each context's session refuses writes at the transport when that
	// context is read-only (flag, environment or config), also after :ctx.
	mo.ReadOnly = o.contextReadOnly
	mgr, err := cluster.NewManager(mo)
	if err != nil {
		return err
	}
	defer mgr.Stop()
	snaps, unsubscribe := mgr.Subscribe()
	defer unsubscribe()
	backend := &managerBackend{Manager: mgr, Snapshots: snaps, Actions: o.actionsFor, ReadOnly: o.contextReadOnly, ReadOnlyWhy: o.noState,
		Config: o.config, Start: t.Context, ArgoDiff: o.argoDiffFor}
	auditPath, err := audit.DefaultPath(o.flags.getenv)
	if err != nil {
		o.logger.Warn("audit pane unavailable", "err", err)
	}
	// The UI connects (Options.Connect): it shows "connecting" at once and
	// the Contexts screen with the reason when the server cannot be reached.
	feed := ui.Feed{OnScreen: ui.OnScreen{Context: t.Context, Server: t.Server, User: t.User, As: t.As, Anonymous: t.Anonymous}, Snapshots: snaps,
		ReadOnly: o.readOnly, WriteWarning: o.noState}
	model := ui.New(ui.Options{
		Common:      common.Common{Styles: theme.New(o.flags.getenv("NO_COLOR") != ""), Keys: common.DefaultKeyMap(), ReadOnly: o.readOnly},
		Feed:        feed,
		Backend:     backend,
		AuditPath:   auditPath,
		Attest:      (&attestOverlay{getenv: o.flags.getenv}).Apply,
		Evaluations: &historyStore{getenv: o.flags.getenv, now: time.Now},
		Connect:     true,
	})
	if _, err := tea.NewProgram(model, tea.WithContext(ctx)).Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}

// contextReadOnly says whether a context is read-only under the flags, the
// environment and the config (the header badge; the actions' guard; the
// session's transport), at start-up and after :ctx. Each context goes by its own
// setting: the start-up context's says nothing about the next one.
func (o *rootOptions) contextReadOnly(kubeContext string) bool {
	if o.noState != "" {
		return true
	}
	m, err := o.flags.modeFor(o.config, o.flags.identityOf(kubeContext, "").Key())
	return m.ReadOnly || err != nil
}

// argoDiffFor is what the d key on an Argo CD application reads in a context: argocd-server's
// managed-resources diff (a read: its client refuses every method but GET), or why none.
func (o *rootOptions) argoDiffFor(kubeContext string) (common.ArgoDiffFunc, string) {
	return argoDiffOf(o.config.For(kubeContext).ArgoCD, o.flags.getenv, readonly.WrapClient)
}

// actionsFor builds the guarded actions of a context for the UI; nil (no
// actions shown) when a client or the audit log cannot be had.
func (o *rootOptions) actionsFor(t cluster.Connection, generation uint64) actionsui.Provider {
	if t.RESTConfig == nil {
		return nil
	}
	// The policy the headless commands resolve too (resolvePolicy), without their guard flags.
	policy, mode, err := o.flags.resolvePolicy(o.config, o.flags.identityOf(t.Context, t.Server), policyFlags{})
	if err != nil {
		o.logger.Warn("policy", "context", t.Context, "err", err)
	}
	if o.noState != "" {
		policy.ReadOnly = true
	}
	mode.ReadOnly = policy.ReadOnly
	cfg := mode.WrapConfig(t.RESTConfig)
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		o.logger.Warn("actions unavailable", "context", t.Context, "err", err)
		return nil
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		o.logger.Warn("actions unavailable", "context", t.Context, "err", err)
		return nil
	}
	path, err := audit.DefaultPath(o.flags.getenv)
	if err != nil {
		o.logger.Warn("actions unavailable: audit log", "err", err)
		return nil
	}
	log, err := audit.Open(path)
	if err != nil && !policy.ReadOnly {
		o.logger.Warn("actions unavailable: audit log", "path", path, "err", err)
		return nil
	}
	if err != nil {
		// Read-only refuses every action before anything is recorded: the
		// actions are listed, disabled with the reason, with no audit log.
		log = nil
	}
	s := o.config.For(t.Context)
	env := &actions.Env{Context: t.Context, Server: t.Server, Kube: kube, Dynamic: dyn, Policy: policy}
	if env.Unimpersonated, err = unimpersonated(cfg); err != nil {
		o.logger.Warn("actions unavailable", "context", t.Context, "err", err)
		return nil
	}
	// argocd.mode: server sends sync and rollback through argocd-server with its token.
	if env.Argo, err = argoServerOf(s.ArgoCD, o.flags.getenv, mode.WrapClient); err != nil {
		o.logger.Warn("Argo CD server mode unavailable: Argo CD actions go through the Kubernetes API", "context", t.Context, "err", err)
	}
	if s.Alertmanager != "" {
		if am, err := actions.NewAlertmanagerClient(s.Alertmanager, mode.WrapClient(&http.Client{Timeout: 15 * time.Second})); err == nil {
			am.Match = s.AlertLabels.Match
			env.Alertmanager = am
		}
	}
	return actionsui.NewPipeline(actions.NewRunner(env, log), generation)
}

func (o *rootOptions) close() {
	if o.logFile != nil {
		o.logFile.Close()
	}
	if o.noStateLog != nil && o.errOut != nil {
		fmt.Fprintf(o.errOut, "vigil: ran read-only with no log file: %s\n", o.noState)
		_, _ = o.errOut.Write(o.noStateLog.Bytes())
	}
}

// boundedBuffer keeps what is written to it up to max bytes, then drops
// what comes after: the log's warnings when there is no log file, printed
// at exit once the terminal is the shell's again.
type boundedBuffer struct {
	mu      sync.Mutex
	buf     []byte
	max     int
	dropped int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > b.max {
		b.dropped += len(p)
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Bytes returns what was kept, and a line counting what was dropped.
func (b *boundedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := slices.Clone(b.buf)
	if b.dropped > 0 {
		out = fmt.Appendf(out, "(%d more bytes of log dropped)\n", b.dropped)
	}
	return out
}

// openLog opens $XDG_STATE_HOME/vigil/vigil.log (~/.local/state when unset)
// for appending.
func openLog(getenv func(string) string) (*slog.Logger, io.Closer, error) {
	dir := getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil, fmt.Errorf("log: finding home directory: %w", err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	dir = filepath.Join(dir, "vigil")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("log directory %s: %w", dir, err)
	}
	if err := audit.CheckDir(dir); err != nil { // the state directory is never followed through a link
		return nil, nil, err
	}
	path := filepath.Join(dir, "vigil.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("log file %s: %w", path, err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo})), f, nil
}

// headlessLog opens vigil's log for a headless command's API server warnings, or returns nil
// (the warning is still printed on stderr).
func headlessLog() *slog.Logger {
	l, _, err := openLog(os.Getenv)
	if err != nil {
		return nil
	}
	return l // closed at exit
}

// Execute runs vigil with the process's arguments and standard streams and
// returns its exit code. It is the one place that prints an error: one line,
// "<command path>: <error>", on stderr.
//
// Headless output and every error go through termsafe: reports, previews,
// audit records and server errors quote the cluster, whose text is data,
// never terminal control. (The TUI writes to the terminal itself and makes
// cluster text safe where it enters its model.)
func Execute(ctx context.Context) int {
	out, errOut := termsafe.NewWriter(os.Stdout), termsafe.NewWriter(os.Stderr)
	defer func() { _ = out.Close(); _ = errOut.Close() }()
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: out, ErrOut: errOut}
	return execute(ctx, NewCommand(streams), streams.ErrOut)
}

// execute runs root and turns its error into an exit code, printing it once
// on errOut. An *ExitError without a cause (vigil check's findings, which the
// report on stdout has shown) prints nothing.
func execute(ctx context.Context, root *cobra.Command, errOut io.Writer) int {
	// A headless command prints each API server warning once as "warning: …" on errOut and
	// logs it; the TUI's Complete sends them to the log only.
	cluster.SetWarnings(headlessLog, errOut)
	c, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	code := 1
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
		if ee.Err == nil && err == error(ee) {
			return code
		}
	}
	name := root.Name()
	if c != nil {
		name = c.CommandPath()
	}
	fmt.Fprintf(errOut, "%s: %v\n", name, err)
	return code
}
