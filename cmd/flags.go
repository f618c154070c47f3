package cmd

import (
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/vigil-k8s/vigil/config"
)

// globalFlags are the flags every vigil command takes. The root command registers them as
// persistent flags, so, as in kubectl, they go before or after any subcommand:
// `vigil --context X audit export` and `vigil audit export --context X` are the same.
//
// They are cli-runtime's connection flags (--kubeconfig, --context, --cluster, --user,
// --token, ...), --config and the read-only switches. --namespace is not among them: each
// command defines its own -n for what it targets (a list of namespaces to watch or check, or
// the namespace of one target), and commands that reach no namespace have none.
type globalFlags struct {
	// kube are kubectl's connection flags, without Namespace.
	kube *genericclioptions.ConfigFlags
	// configFile is --config.
	configFile string
	// mode is --readonly (--read-only) and --write; see ResolveMode.
	mode ModeFlags
	// getenv is os.Getenv outside tests.
	getenv func(string) string
}

// newGlobalFlags returns the flags with kubectl's defaults.
func newGlobalFlags(getenv func(string) string) *globalFlags {
	f := genericclioptions.NewConfigFlags(true)
	f.Namespace = nil
	return &globalFlags{kube: f, getenv: getenv}
}

// addFlags registers the flags on fs (the root command's persistent flag set).
func (g *globalFlags) addFlags(fs *pflag.FlagSet) {
	g.kube.AddFlags(fs)
	fs.StringVar(&g.configFile, "config", "", "vigil config file (default $"+config.EnvPath+", else $XDG_CONFIG_HOME/vigil/config.yaml)")
	g.mode.AddFlags(fs)
}

// configPath is where the config file is: --config, else $VIGIL_CONFIG, else the XDG path.
func (g *globalFlags) configPath() config.Path { return config.Resolve(g.configFile, g.getenv) }

// loadConfig reads the config file over the defaults, with the system-wide config
// (config.SystemFile, $VIGIL_SYSTEM_CONFIG) on top, which only tightens: the configuration
// every command goes by.
func (g *globalFlags) loadConfig() (config.Config, error) {
	return config.LoadWithSystem(g.configPath(), g.getenv)
}

// modeFor is the read-only mode of a kube context under these flags, the environment and cfg:
// what every command (the UI at start-up and after :ctx, the headless actions) goes by.
func (g *globalFlags) modeFor(cfg config.Config, kubeContext string) (Mode, error) {
	return ResolveMode(&g.mode, g.getenv, cfg, kubeContext)
}
