package cmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/history"
	"github.com/vigil-k8s/vigil/checks/load"
	"github.com/vigil-k8s/vigil/checks/report"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/internal/version"
)

// Exit codes of vigil check.
const (
	ExitOK       = 0 // no finding at or above --fail-on
	ExitFindings = 1 // at least one finding at or above --fail-on
	ExitUsage    = 2 // bad flags, unreadable or unparsable input, cluster unreachable
)

// ExitError carries the process exit code a command wants; Execute prints Err
// (when there is one) and exits with Code.
type ExitError struct {
	// Code is the process exit code.
	Code int
	// Err is the cause, printed once by Execute; nil when the command has
	// already said all it had to (vigil check's findings are its report).
	Err error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode returns the exit code for a command's error: 0 for nil, the
// ExitError's code, else ExitUsage.
func ExitCode(err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	}
	return ExitUsage
}

// CheckOptions are vigil check's inputs.
type CheckOptions struct {
	ConfigFlags       *genericclioptions.ConfigFlags
	Files             []string
	Output            string
	FailOn            string
	Namespaces        []string
	AllowedRegistries []string
	ShowPassed        bool
	PrometheusURL     string
	Checks            []string
	Timeout           time.Duration
	// AllContexts evaluates every kube context of the kubeconfig (runFleet), Parallel at
	// a time.
	AllContexts bool
	Parallel    int
	// Since, when set, reports the drift from the last evaluation recorded at or before it
	// (RFC 3339, a date, or a duration back from now); NoHistory records nothing.
	Since     string
	NoHistory bool
	// Reachability adds the matrix of who reaches the PCI workloads to the report.
	Reachability bool

	Out, ErrOut io.Writer
	In          io.Reader
	// settings are the config file's settings for the context checked (global ones with -f):
	// what the flags leave unset comes from them, as in the TUI (complete).
	settings config.Settings
	// configFile names the config file the settings came from, for the report's input line.
	configFile string
	// prometheusFrom names where PrometheusURL came from when not the flag, for errors.
	prometheusFrom string
	// getenv finds the state directory, whose attestations vigil check lays over the
	// findings of a live context; nil for none.
	getenv func(string) string
	// changed reports whether a flag was set on the command line (cobra's), for complete
	// per context under --all-contexts.
	changed func(flag string) bool
	// connect resolves the kube connection: under --all-contexts, one context through the
	// fleet's ContextResolver; nil, cluster.ResolveConnection of ConfigFlags.
	connect func() (cluster.Connection, error)
	// loadConfig and contextName are the global flags' (tests replace them).
	loadConfig  func() (config.Config, error)
	contextName func() string
	// listInventory is cluster.ListInventory outside tests.
	listInventory func(ctx context.Context, o *CheckOptions) (*checks.Inventory, error)
	// identity is who listLive's requests were authorized as (history.Identity); scope what
	// the live evaluation looked at, recorded with it in the history and compared with
	// evaluations of the same scope only.
	identity string
	scope    *history.Scope
	// progressOut receives --all-contexts' progress line whatever it is (tests); nil: stderr
	// when it is a terminal (fleetProgressTo).
	progressOut io.Writer
}

// newCheckOptions returns the defaults, listing live clusters of g's kube
// context with cluster.ListInventory.
func newCheckOptions(g *globalFlags, streams genericiooptions.IOStreams) *CheckOptions {
	return &CheckOptions{ConfigFlags: g.kube, Out: streams.Out, ErrOut: streams.ErrOut, In: streams.In, Output: "table", FailOn: "fail",
		AllowedRegistries: append([]string(nil), checks.DefaultAllowedRegistries...), Timeout: 30 * time.Second, Parallel: DefaultParallel,
		loadConfig: g.loadConfig, contextName: func() string { return kubeContextName(g.kube) }, getenv: g.getenv,
		listInventory: listLive}
}

// complete fills what the flags left unset from the config file (--config, $VIGIL_CONFIG or
// the default path) the way the TUI reads it: flags > the context's settings > global
// settings > defaults, for namespaces (and namespaceSelector), allowedRegistries and
// prometheus. With -f the global settings apply.
func (o *CheckOptions) complete(changed func(flag string) bool) error {
	if changed("namespaces") {
		if err := checkNamespaceFlag(o.Namespaces); err != nil {
			return err
		}
	}
	if o.loadConfig == nil {
		return nil
	}
	cfg, err := o.loadConfig()
	if err != nil {
		return err
	}
	o.configFile = cfg.File()
	kubeContext := ""
	if len(o.Files) == 0 && o.contextName != nil {
		kubeContext = o.contextName()
	}
	o.settings = cfg.For(kubeContext)
	if !changed("namespaces") && len(o.settings.Namespaces) > 0 && len(o.Files) == 0 {
		o.Namespaces = append([]string(nil), o.settings.Namespaces...)
	}
	if !changed("allowed-registry") && len(o.settings.AllowedRegistries) > 0 {
		o.AllowedRegistries = append([]string(nil), o.settings.AllowedRegistries...)
	}
	if !changed("prometheus-url") && o.PrometheusURL == "" && len(o.Files) == 0 && o.settings.Prometheus != "" {
		o.PrometheusURL = o.settings.Prometheus
		o.prometheusFrom = "config " + o.configFile + ": prometheus"
	}
	return nil
}

// kubeContextName is the context the kube flags select: --context, else the kubeconfig's
// current context; "" when neither is known.
func kubeContextName(f *genericclioptions.ConfigFlags) string {
	if f == nil {
		return ""
	}
	if f.Context != nil && *f.Context != "" {
		return *f.Context
	}
	if raw, err := f.ToRawKubeConfigLoader().RawConfig(); err == nil {
		return raw.CurrentContext
	}
	return ""
}

// newCheckCommand returns `vigil check`: the production-readiness catalogue
// run headless against a kube context or manifest files, for CI and
// auditors. Its RunE returns an *ExitError whose Code is the process exit
// code (see ExitCode): with the cause for ExitUsage, without one when
// findings reached --fail-on (the report has said it).
func newCheckCommand(o *CheckOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "check",
		Short: "Evaluate the production-readiness checklist against a cluster or manifests",
		Long: `check evaluates the seed's production-readiness checklist (Security, Compliance,
Operations) and prints findings with evidence, a verdict per checklist item
(met, not met, or unverified with the evidence needed), the coverage (items
decided of items) and two scores: observed (unknown and not-applicable
findings left out) and proven (they count 0 where the checklist needs
evidence; a critical check that scores 0 caps its group at 50).

Input is a live cluster (the current or --context kube context; namespaced
objects are listed in --namespaces) or, with -f, manifest files and
directories (multi-document YAML or JSON, read recursively; "-" is stdin).

With --all-contexts every context of the kubeconfig is evaluated (--parallel
at a time, each as --context would, with its own --timeout): one report per
context and a fleet summary, in table, json or prometheus. A context that
cannot be reached is its error line; the others still report.

Exit codes: 0 no finding at or above --fail-on; 1 at least one;
2 usage or input error (bad flag, unreadable or unparsable file, cluster
unreachable; with --all-contexts, any context that could not be evaluated).
See docs/checks.md for the catalogue, the score and the metrics.`,
		Example: `  vigil check --context prod-eu
  vigil check --all-contexts -o prometheus > /var/lib/node_exporter/textfile/vigil.prom
  vigil check -f deploy/ -o sarif > vigil.sarif
  vigil check -f testdata/fintech/all -f testdata/fintech/local-1 --fail-on warn -o junit`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usage("unexpected arguments %q (manifests go after -f)", args)
			}
			return nil
		},
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(c *cobra.Command, _ []string) error {
			o.changed = c.Flags().Changed
			if o.AllContexts {
				// Each context completes its own settings (runFleet).
				return o.Run(c.Context())
			}
			if err := o.complete(c.Flags().Changed); err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			return o.Run(c.Context())
		},
	}
	c.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	fs := c.Flags()
	fs.StringSliceVarP(&o.Files, "filename", "f", nil, "manifest file or directory to check instead of a cluster (repeatable; - for stdin)")
	fs.StringVarP(&o.Output, "output", "o", o.Output, "output format: "+strings.Join(outputFormats(), ", "))
	fs.StringVar(&o.FailOn, "fail-on", o.FailOn, "exit 1 when a finding is at or above this status: fail or warn")
	fs.StringSliceVarP(&o.Namespaces, "namespaces", "n", nil, "namespaces to list from the cluster, comma-separated (default "+fmt.Sprint(config.DefaultNamespaces)+"); with -f, limits namespace-level checks")
	fs.StringSliceVar(&o.AllowedRegistries, "allowed-registry", o.AllowedRegistries, "registries (host or host/path) images may come from (repeatable)")
	fs.BoolVar(&o.ShowPassed, "show-passed", false, "list pass and not-applicable findings in table and markdown output")
	fs.StringVar(&o.PrometheusURL, "prometheus-url", "", "Prometheus base URL; its /api/v1/rules tells which alert rules are loaded")
	fs.StringSliceVar(&o.Checks, "check", nil, "run only these check IDs (comma-separated; default all)")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "time limit for listing the cluster and querying Prometheus (per context with --all-contexts)")
	fs.BoolVar(&o.AllContexts, "all-contexts", false, "evaluate every context of the kubeconfig, one report per context and a fleet summary (-o table, json or prometheus)")
	fs.IntVar(&o.Parallel, "parallel", o.Parallel, "with --all-contexts, how many contexts to evaluate at once")
	fs.StringVar(&o.Since, "since", "", "report the drift since the last evaluation recorded at or before this time: RFC 3339, YYYY-MM-DD, or a duration back from now (24h)")
	fs.BoolVar(&o.NoHistory, "no-history", false, "do not record this evaluation in the state directory's history")
	fs.BoolVar(&o.Reachability, "reachability", false, "add who reaches the PCI workloads, and where they send, by the NetworkPolicies (a long list on a large estate)")
	return c
}

// outputFormats are vigil check's -o values: the report's formats and prometheus.
func outputFormats() []string {
	return append(slices.Clone(report.Formats), report.Prometheus)
}

// usage wraps an error as an ExitUsage error.
func usage(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// checkNamespaceFlag holds --namespaces to namespace names. An empty one ("a,,b", -n "")
// was taken for "all namespaces", as the API takes it: vigil read every namespace, Secret
// metadata included, where it was asked for none.
func checkNamespaceFlag(ns []string) error {
	if ns != nil && len(ns) == 0 { // -n "": given, and empty
		return usage("--namespaces: no namespace given (leave the flag out for the configured ones)")
	}
	for _, n := range ns {
		if err := config.CheckNamespaceName(n); err != nil {
			return usage("--namespaces: %v", err)
		}
	}
	return nil
}

// Validate checks the flags.
func (o *CheckOptions) Validate() error {
	if !slices.Contains(outputFormats(), o.Output) && o.Output != "md" {
		return usage("--output %q: want one of %s", o.Output, strings.Join(outputFormats(), ", "))
	}
	if o.AllContexts {
		switch {
		case len(o.Files) > 0:
			return usage("--all-contexts evaluates clusters: it does not take -f")
		case o.ConfigFlags != nil && o.ConfigFlags.Context != nil && *o.ConfigFlags.Context != "":
			return usage("--all-contexts evaluates every context: drop --context %q", *o.ConfigFlags.Context)
		case !slices.Contains(report.FleetFormats, o.Output):
			return usage("--output %q with --all-contexts: want one of %s", o.Output, strings.Join(report.FleetFormats, ", "))
		case o.Parallel < 1:
			return usage("--parallel %d: want 1 or more", o.Parallel)
		}
	}
	if o.Since != "" {
		switch {
		case len(o.Files) > 0 || o.AllContexts:
			return usage("--since compares evaluations of one context recorded by earlier runs: it does not take -f or --all-contexts")
		case o.Output == report.Prometheus:
			return usage("--since: -o prometheus carries no drift (chart the metrics over time instead)")
		}
		if _, err := parseSince(o.Since, time.Now()); err != nil {
			return usage("--since %q: %v", o.Since, err)
		}
	}
	if o.FailOn != string(checks.Fail) && o.FailOn != string(checks.Warn) {
		return usage("--fail-on %q: want fail or warn", o.FailOn)
	}
	for _, id := range o.Checks {
		if _, ok := checks.Lookup(id); !ok {
			return usage("--check %q: no such check (see docs/checks.md)", id)
		}
	}
	if len(o.AllowedRegistries) == 0 {
		return usage("--allowed-registry: at least one registry is needed")
	}
	if o.PrometheusURL != "" {
		if u, err := url.Parse(o.PrometheusURL); err != nil || u.Scheme == "" || u.Host == "" {
			return usage("--prometheus-url %q: want an absolute URL such as http://prometheus:9090", o.PrometheusURL)
		}
	}
	return nil
}

// Run loads the inventory, evaluates the catalogue, writes the report and
// returns the exit status as an *ExitError (nil when below --fail-on).
// With --all-contexts it evaluates every kube context (runFleet).
func (o *CheckOptions) Run(ctx context.Context) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if o.AllContexts {
		return o.runFleet(ctx)
	}
	start := time.Now()
	rep, err := o.evaluateShowingProgress(ctx)
	if err != nil {
		return err
	}
	if len(o.Files) == 0 {
		if err = o.recordHistory(&rep, start); err != nil {
			return err
		}
	}
	if o.Output == report.Prometheus {
		cl := ""
		if len(o.Files) == 0 {
			cl = kubeContextName(o.ConfigFlags)
		}
		err = report.WritePrometheus(o.Out, []report.Run{{Context: cl, Report: &rep, At: start, Duration: time.Since(start)}})
	} else {
		err = report.Write(o.Out, o.Output, rep, report.Options{FailOn: checks.Status(o.FailOn), ShowPassed: o.ShowPassed})
	}
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("writing %s output: %w", o.Output, err)}
	}
	if o.reachesFailOn(rep) {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

// evaluateShowingProgress is evaluate with, on a terminal, a line that says the kube context
// is still being read once the wait passes a second: an API server that accepts and does not
// answer holds the check for its whole --timeout (30 s by default), which would otherwise be
// silence. What is said meanwhile (warnings) is written above the line; it is erased before
// the report. Manifests (-f) are read without it.
func (o *CheckOptions) evaluateShowingProgress(ctx context.Context) (report.Report, error) {
	var progress *fleetProgress
	if len(o.Files) == 0 {
		name := "the cluster"
		if o.contextName != nil {
			name = cmp.Or(o.contextName(), name)
		}
		progress = startCheckProgress(o.fleetProgressTo(), name, time.Second, time.Now)
	}
	if progress == nil {
		return o.evaluate(ctx)
	}
	defer progress.close()
	cluster.SetWarnings(headlessLog, progress.above(o.ErrOut))
	defer cluster.SetWarnings(headlessLog, o.ErrOut)
	co := *o
	co.ErrOut = progress.above(o.ErrOut)
	return co.evaluate(ctx)
}

// reachesFailOn reports whether a finding of rep is at or above --fail-on.
func (o *CheckOptions) reachesFailOn(rep report.Report) bool {
	return slices.ContainsFunc(rep.Findings, func(f checks.Finding) bool {
		return report.AtOrAbove(f.Status, checks.Status(o.FailOn))
	})
}

// evaluate loads the inventory (files or the flags' kube context, within --timeout),
// evaluates the catalogue and packages the report; every output format renders it.
// Its error is an *ExitError with ExitUsage.
func (o *CheckOptions) evaluate(ctx context.Context) (report.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	var inv *checks.Inventory
	var err error
	if len(o.Files) > 0 {
		inv, err = load.Paths(o.Files, o.In)
		if err != nil {
			return report.Report{}, &ExitError{Code: ExitUsage, Err: err}
		}
		inv.Origin = "manifests: " + strings.Join(o.Files, ", ")
		// Every object read is judged or said: a file whose objects no check
		// reads must not look like a clean one.
		for _, s := range inv.Skipped {
			fmt.Fprintf(o.ErrOut, "skipped: %s\n", s)
		}
		inv.Config.Namespaces = o.Namespaces
	} else {
		inv, err = o.listInventory(ctx, o)
		if err != nil {
			return report.Report{}, &ExitError{Code: ExitUsage, Err: o.timedOut(ctx, err)}
		}
		o.scope = history.NewScope(inv.Config.Namespaces, o.identity)
		// A namespace asked for that does not exist is said, not scored as an empty one.
		if missing := checks.MissingNamespaces(inv); len(missing) > 0 {
			for _, ns := range missing {
				fmt.Fprintf(o.ErrOut, "warning: namespace %q does not exist (%s): nothing in it was checked\n", ns, inv.Origin)
			}
			inv.Origin += "; namespaces not found: " + strings.Join(missing, ", ")
		}
		if hint := readableHint(inv); hint != "" {
			fmt.Fprintln(o.ErrOut, hint)
		}
	}
	inv.Config.AllowedRegistries = o.AllowedRegistries
	if o.configFile != "" {
		inv.Origin += "; config " + o.configFile
	}
	if o.PrometheusURL != "" {
		names, err := cluster.LoadedAlertRules(ctx, o.PrometheusURL, readonly.WrapClient(&http.Client{Timeout: 30 * time.Second}))
		if err != nil {
			return report.Report{}, usage("%s: %w", cmp.Or(o.prometheusFrom, "--prometheus-url"), o.timedOut(ctx, err))
		}
		inv.LoadedAlertRules = names
	}

	cat := checks.Catalogue()
	if len(o.Checks) > 0 {
		cat = slices.DeleteFunc(cat, func(c checks.Check) bool { return !slices.Contains(o.Checks, c.ID) })
	}
	findings := checks.Run(cat, inv)
	if len(o.Files) == 0 && o.getenv != nil {
		// A context's attestations stand in for what its API cannot show (vigil attest).
		findings = overlayAttestations(o.getenv, o.attestContext(), cat, findings, time.Now(), o.ErrOut)
	}
	rep := report.New(cat, findings, inv)
	rep.Version = version.String()
	if o.Reachability {
		if m := inv.Reachability(); len(m.Scope) > 0 {
			rep.Reach = &m
		}
	}
	return rep, nil
}

// timedOut is err, said to come from --timeout when ctx, evaluate's, ran out of it: "timed
// out" alone does not say whose limit it was, nor that one flag raises it.
func (o *CheckOptions) timedOut(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (after --timeout %s: raise it for a large or distant cluster)", err, o.Timeout)
	}
	return err
}

// connection resolves the kube context the check lists.
func (o *CheckOptions) connection() (cluster.Connection, error) {
	if o.connect != nil {
		return o.connect()
	}
	return cluster.ResolveConnection(o.ConfigFlags, version.UserAgent())
}

// listLive lists the inventory of the flags' kube context.
func listLive(ctx context.Context, o *CheckOptions) (*checks.Inventory, error) {
	if o.ConfigFlags == nil {
		return nil, errors.New("no kube connection flags: pass -f to check manifests")
	}
	// The TUI's resolution: its errors name the kubeconfig, the context and the file at fault.
	t, err := o.connection()
	if err != nil {
		return nil, err
	}
	o.identity = history.Identity(t.User, t.As, t.Anonymous)
	// check only lists: its client refuses writes whatever the mode.
	cfg := readonly.WrapConfig(t.RESTConfig)
	ns := o.Namespaces
	if len(ns) == 0 && o.settings.NamespaceSelector != "" {
		if ns, err = cluster.NamespacesMatching(ctx, cfg, o.settings.NamespaceSelector); err != nil {
			return nil, fmt.Errorf("config namespaceSelector: %w", err)
		}
		if len(ns) == 0 {
			return nil, fmt.Errorf("config namespaceSelector %q matches no namespace", o.settings.NamespaceSelector)
		}
	}
	if len(ns) == 0 {
		ns = config.DefaultNamespaces
	}
	inv, err := cluster.ListInventory(ctx, cfg, ns)
	if err != nil {
		return nil, err
	}
	origin := "cluster"
	if name := kubeContextName(o.ConfigFlags); name != "" {
		origin = "context " + name
	}
	inv.Origin = origin + " (namespaces " + strings.Join(ns, ", ") + ")"
	if t.As != "" || t.Anonymous {
		// The report is of what this identity can read: say so when it is not the
		// kubeconfig user's own.
		inv.Origin += " by " + o.identity
	}
	inv.Config.Namespaces = ns
	return &inv, nil
}

// readableHint says, when the API lets the identity list a kind in some of the asked
// namespaces and refuses it in others (a user bound in some namespaces only), that the checks
// needing those kinds are unknown in every namespace, and which -n evaluates them where it can
// read them; "" otherwise.
func readableHint(inv *checks.Inventory) string {
	kinds, refused, readable := checks.Readable(inv)
	if len(kinds) == 0 {
		return ""
	}
	return "warning: " + checks.ReadableHint(kinds, refused, readable, "-n")
}
