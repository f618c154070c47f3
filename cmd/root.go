// Package cmd is vigil's command line: kubectl-style Complete / Validate /
// Run on cli-runtime's ConfigFlags, so --kubeconfig, --context, KUBECONFIG
// and in-cluster config behave as they do for kubectl.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/klog/v2"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/internal/version"
	"github.com/vigil-k8s/vigil/ui"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// Options are the command's inputs, filled by flags, then Complete.
type Options struct {
	// ConfigFlags are kubectl's connection flags (--kubeconfig, --context, ...).
	ConfigFlags *genericclioptions.ConfigFlags
	// ConfigFile is --config.
	ConfigFile string
	// Namespaces is --namespaces/-n; empty means the config file's or the default.
	Namespaces []string
	// ConnectTimeout bounds the first contact with the API server.
	ConnectTimeout time.Duration

	// Set by Complete.
	config  config.Config
	target  cluster.Target
	logger  *slog.Logger
	logFile io.Closer
	// namespacesFrom names where the namespaces came from, for errors.
	namespacesFrom string
	getenv         func(string) string
}

// NewOptions returns Options with kubectl's connection flags, minus
// --namespace, whose -n vigil uses for --namespaces.
func NewOptions() *Options {
	f := genericclioptions.NewConfigFlags(true)
	f.Namespace = nil
	return &Options{ConfigFlags: f, ConnectTimeout: 10 * time.Second, getenv: os.Getenv}
}

// NewCommand returns the vigil root command.
func NewCommand() *cobra.Command {
	o := NewOptions()
	c := &cobra.Command{
		Use:   "vigil",
		Short: "A terminal cockpit for the fintech services on a Kubernetes cluster",
		Long: `vigil shows the Deployments and StatefulSets of the watched namespaces of a
kube context, unhealthy first, kept live by watches.

Connection flags work as in kubectl: --kubeconfig, --context, KUBECONFIG,
or the in-cluster service account.`,
		Example: `  vigil
  vigil --context prod-eu -n fintech-prod,fintech-staging
  vigil --kubeconfig ./kubeconfig --context local-1`,
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
	c.SetVersionTemplate("vigil {{.Version}}\n")
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w (see vigil --help)", err)
	})
	o.ConfigFlags.AddFlags(c.Flags())
	c.Flags().StringVar(&o.ConfigFile, "config", "", "vigil config file (default $VIGIL_CONFIG, else $XDG_CONFIG_HOME/vigil/config.yaml)")
	c.Flags().StringSliceVarP(&o.Namespaces, "namespaces", "n", nil, "namespaces to watch, comma-separated (default "+fmt.Sprint(config.DefaultNamespaces)+")")
	return c
}

// Complete loads the config file, merges flags over it (flags > file >
// defaults), opens the log and resolves the kube context.
func (o *Options) Complete(c *cobra.Command) error {
	cfg, err := config.Load(config.Resolve(o.ConfigFile, o.getenv))
	if err != nil {
		return err
	}
	if c.Flags().Changed("namespaces") {
		cfg.Namespaces = o.Namespaces
		o.namespacesFrom = "--namespaces"
	} else {
		o.namespacesFrom = "config " + config.Resolve(o.ConfigFile, o.getenv).File
	}
	o.config = cfg

	if o.logger, o.logFile, err = openLog(o.getenv); err != nil {
		return err
	}
	// client-go logs through klog: send it to the file too, never to the
	// terminal the UI owns.
	klog.SetSlogLogger(o.logger)

	o.target, err = cluster.ResolveTarget(o.ConfigFlags, version.UserAgent())
	return err
}

// Validate checks the merged settings; errors name the flag or field.
func (o *Options) Validate() error {
	if err := o.config.Validate(); err != nil {
		return fmt.Errorf("%s: %w", o.namespacesFrom, err)
	}
	return nil
}

// Run connects, starts the session and runs the UI until the user quits.
func (o *Options) Run(ctx context.Context) error {
	t := o.target
	o.logger.Info("starting", "version", version.String(), "context", t.Context, "server", t.Server, "namespaces", o.config.Namespaces)
	sess, err := cluster.New(cluster.Options{
		RESTConfig: t.RESTConfig,
		Context:    t.Context,
		Namespaces: o.config.Namespaces,
		Logger:     o.logger,
	})
	if err != nil {
		return err
	}
	pingCtx, cancel := context.WithTimeout(ctx, o.ConnectTimeout)
	serverVersion, err := sess.Ping(pingCtx)
	cancel()
	if err != nil {
		return &ReachError{Server: t.Server, Context: t.Context, Err: err}
	}
	o.logger.Info("connected", "serverVersion", serverVersion)

	if err := sess.Start(ctx); err != nil {
		return err
	}
	defer sess.Stop()
	snaps, unsubscribe := sess.Subscribe()
	defer unsubscribe()

	model := ui.New(ui.Options{
		Common:    common.Common{Styles: theme.New(o.getenv("NO_COLOR") != ""), Keys: common.DefaultKeyMap()},
		Target:    ui.Target{Context: t.Context, Server: t.Server, User: t.User, Generation: sess.Generation()},
		Snapshots: snaps,
	})
	if _, err := tea.NewProgram(model, tea.WithContext(ctx)).Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}

func (o *Options) close() {
	if o.logFile != nil {
		o.logFile.Close()
	}
}

// ReachError says the API server of a context could not be reached.
type ReachError struct {
	Server, Context string
	Err             error
}

func (e *ReachError) Error() string {
	return fmt.Sprintf("cannot reach %s (context %s): %s", e.Server, e.Context, cluster.Explain(e.Err))
}

func (e *ReachError) Unwrap() error { return e.Err }

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
	path := filepath.Join(dir, "vigil.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("log file %s: %w", path, err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo})), f, nil
}

// Execute runs the root command and returns the process exit code, printing
// any error as one line on stderr.
func Execute(ctx context.Context) int {
	if err := NewCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "vigil: %v\n", err)
		return 1
	}
	return 0
}
