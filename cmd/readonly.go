package cmd

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/config"
)

// EnvReadOnly names the environment variable that asks for read-only mode, like --readonly.
const EnvReadOnly = "VIGIL_READONLY"

// ModeFlags are the command-line switches of read-only mode. The root command registers them
// (persistent, so they go before or after any subcommand); ResolveMode weighs them.
type ModeFlags struct {
	// ReadOnly is --readonly (or its older spelling --read-only).
	ReadOnly bool
	// Write is --write: leave a read-only config setting, unless the context enforces it.
	Write bool

	// readOnlySet and writeSet record that the switch was given, so that ResolveMode tells
	// "not given" (the environment and config decide) from --readonly=false.
	readOnlySet, writeSet bool
}

// AddFlags registers --readonly, --read-only (hidden alias) and --write on fs.
func (f *ModeFlags) AddFlags(fs *pflag.FlagSet) {
	add := func(name string, v, set *bool, usage string) {
		fl := fs.VarPF(&switchValue{v: v, set: set}, name, "", usage)
		fl.NoOptDefVal = "true"
	}
	add("readonly", &f.ReadOnly, &f.readOnlySet, "read-only mode: no action, and the Kubernetes, Prometheus, Alertmanager and Argo CD clients refuse every write (also $"+EnvReadOnly+"=1)")
	add("read-only", &f.ReadOnly, &f.readOnlySet, "same as --readonly")
	_ = fs.MarkHidden("read-only")
	add("write", &f.Write, &f.writeSet, "allow actions where the config sets readOnly (not where it sets readOnlyEnforced)")
}

// changed reports which switches were given on the command line.
func (f *ModeFlags) changed() (readOnly, write bool) { return f.readOnlySet, f.writeSet }

// switchValue is a boolean flag that remembers it was set.
type switchValue struct{ v, set *bool }

func (b *switchValue) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*b.v, *b.set = v, true
	return nil
}

func (b *switchValue) String() string {
	if b.v == nil {
		return "false"
	}
	return strconv.FormatBool(*b.v)
}

func (b *switchValue) Type() string { return "bool" }

// Mode is the resolved read-only mode of one kube context.
type Mode struct {
	// ReadOnly refuses every mutation: in the UI, in the action pipeline and at the HTTP
	// transport of every client.
	ReadOnly bool
	// Source says which setting decided: "--readonly", "VIGIL_READONLY=1", "--write", a config
	// field with its file and line, or "default".
	Source string
	// Enforced is true when the context's config sets readOnlyEnforced: --write cannot lift it.
	Enforced bool
}

// ResolveMode decides the read-only mode of one kube context from the switches (flags), the
// environment ($VIGIL_READONLY, read through getenv) and the config file. It is the one place
// the precedence lives, and every command goes by it: the UI at start-up and after each :ctx
// (each context by its own settings), the headless actions and their clients' transport.
//
//	readOnlyEnforced > --readonly / --write > $VIGIL_READONLY > context readOnly > global readOnly > read-write
//
// A context whose config sets readOnlyEnforced is read-only whatever is asked; asking for
// --write (or --readonly=false) there is an error that names the setting, and so are
// --readonly with --write, and a $VIGIL_READONLY that is not a boolean. On every error Mode is
// read-only, so a caller that ignores the error stays safe.
func ResolveMode(flags *ModeFlags, getenv func(string) string, cfg config.Config, context string) (Mode, error) {
	setting := cfg.ReadOnlySettingOf(context)
	var readOnlySet, write bool
	if flags != nil {
		readOnlySet, write = flags.changed()
		write = write && flags.Write
	}
	if write && readOnlySet && flags.ReadOnly {
		return Mode{ReadOnly: true, Source: "--readonly", Enforced: setting.Enforced},
			errors.New("--readonly and --write contradict each other: pass one")
	}
	// The switch asked for, if any: a flag, else the environment.
	var asked *bool
	askedFrom := ""
	switch {
	case write:
		f := false
		asked, askedFrom = &f, "--write"
	case readOnlySet:
		v := flags.ReadOnly
		asked, askedFrom = &v, "--readonly"
	case getenv != nil:
		if v := strings.TrimSpace(getenv(EnvReadOnly)); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return Mode{ReadOnly: true, Source: EnvReadOnly, Enforced: setting.Enforced},
					fmt.Errorf("$%s=%q: want 1 or 0 (read-only mode is kept on)", EnvReadOnly, v)
			}
			// VIGIL_READONLY=0 is no opinion: the config decides.
			if on {
				asked, askedFrom = &on, EnvReadOnly+"="+v
			}
		}
	}
	switch {
	case setting.Enforced:
		m := Mode{ReadOnly: true, Source: setting.EnforcedFrom, Enforced: true}
		if asked != nil && !*asked {
			return m, fmt.Errorf("context %s is read-only by %s: %s cannot override it (edit the config to allow writes)", context, setting.EnforcedFrom, askedFrom)
		}
		return m, nil
	case asked != nil:
		return Mode{ReadOnly: *asked, Source: askedFrom}, nil
	case setting.ReadOnly != nil:
		return Mode{ReadOnly: *setting.ReadOnly, Source: setting.ReadOnlyFrom}, nil
	}
	return Mode{ReadOnly: false, Source: "default"}, nil
}

// WrapConfig returns cfg unchanged in read-write mode, else a copy whose every client refuses
// writes at the transport (cluster/readonly.WrapConfig). Every rest.Config a command builds
// must pass through it.
func (m Mode) WrapConfig(cfg *rest.Config) *rest.Config {
	if !m.ReadOnly || cfg == nil {
		return cfg
	}
	return readonly.WrapConfig(cfg)
}

// WrapClient returns the HTTP client for Prometheus, Alertmanager or Argo CD: c itself (a new
// one with a 30 s timeout when nil) in read-write mode, else a copy refusing every method but
// GET, HEAD and OPTIONS (cluster/readonly.WrapClient).
func (m Mode) WrapClient(c *http.Client) *http.Client {
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	if !m.ReadOnly {
		return c
	}
	return readonly.WrapClient(c)
}

// String is the one-line description shown in logs and the evidence bundle.
func (m Mode) String() string {
	switch {
	case m.ReadOnly && m.Enforced:
		return "read-only (enforced by " + m.Source + ")"
	case m.ReadOnly:
		return "read-only (" + m.Source + ")"
	}
	return "read-write (" + m.Source + ")"
}
