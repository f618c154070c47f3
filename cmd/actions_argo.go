package cmd

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/spec"
)

// argoFlags select Kubernetes mode (default: .operation through the kube API) or server mode
// (Argo CD's REST API with a token from the flags or the argocd CLI's config file).
type argoFlags struct {
	serverMode bool
	server     string
	token      string
	cliConfig  string
	cliContext string
	insecure   bool
	plainText  bool
}

func (f *argoFlags) add(c *cobra.Command) {
	fs := c.PersistentFlags()
	fs.BoolVar(&f.serverMode, "argocd-server-mode", false, "go through Argo CD's REST API instead of the Kubernetes API")
	fs.StringVar(&f.server, "argocd-server", "", "Argo CD server (server mode; default from the argocd CLI config)")
	fs.StringVar(&f.token, "argocd-token", "", "Argo CD token (server mode; default $ARGOCD_AUTH_TOKEN, else the argocd CLI config)")
	fs.StringVar(&f.cliConfig, "argocd-config", "", "argocd CLI config file (default ~/.config/argocd/config)")
	fs.StringVar(&f.cliContext, "argocd-context", "", "argocd CLI context (default its current-context)")
	fs.BoolVar(&f.insecure, "argocd-insecure", false, "skip TLS verification of the Argo CD server")
	fs.BoolVar(&f.plainText, "argocd-plaintext", false, "talk http to the Argo CD server")
}

func (o *actionOptions) argoClient(f *argoFlags, kubeContext string) (*actions.ArgoServerClient, error) {
	if !f.serverMode && f.server == "" {
		// No flag: the context's argocd settings in vigil's config decide (mode: server).
		cfg, err := o.g.loadConfig()
		if err != nil {
			return nil, err
		}
		return argoServerOf(cfg.For(kubeContext).ArgoCD, o.getenv, nil)
	}
	server, token, insecure, plain := f.server, f.token, f.insecure, f.plainText
	if token == "" {
		token = o.getenv("ARGOCD_AUTH_TOKEN")
	}
	if server == "" || token == "" {
		path := f.cliConfig
		if path == "" {
			path = actions.DefaultArgoCLIConfigPath(o.getenv)
		}
		cfg, err := actions.LoadArgoCLIConfig(path, f.cliContext)
		if err != nil {
			return nil, err
		}
		if server == "" {
			server, insecure, plain = cfg.Server, cfg.Insecure || insecure, cfg.PlainText || plain
		}
		if token == "" {
			token = cfg.Token
		}
	}
	return actions.NewArgoServerClient(server, token, insecure, plain), nil
}

func (o *actionOptions) argoCommand() *cobra.Command {
	f := &argoFlags{}
	c := &cobra.Command{
		Use:   "argo",
		Short: "Argo CD sync and rollback through vigil's guards",
		Long: `argo sync and argo rollback request an Argo CD operation on an Application.

By default they write the Application's .operation through the Kubernetes API
exactly as argocd-server does; --argocd-server-mode uses Argo CD's REST API
with a token instead. Both refuse while an operation runs and honour the
AppProject's sync windows; rollback is refused while automated sync is on.
The audit log records the request as "requested"; vigil then waits (up to
5 minutes) for Argo CD's controller to run the operation and records its
result (succeeded, failed, or unknown when none came in time).
-n is the Application's namespace (default argocd).`,
	}
	f.add(c)
	var revision string
	var prune bool
	sync := &cobra.Command{
		Use:     "sync APP",
		Short:   "Sync an Argo CD application",
		Example: actionExample("vigil argo sync fintech-app --revision 11a4ab0 --reason CHG-42 --confirm local-1/argocd/fintech-app"),
		Args:    cobra.ExactArgs(1), SilenceUsage: true,
		RunE: func(c *cobra.Command, args []string) error {
			env, err := o.argoEnv(f)
			if err != nil {
				return err
			}
			t := spec.Object{Kind: spec.KindApplication, Namespace: o.ns("argocd"), Name: args[0]}
			return o.run(c.Context(), env, actions.ArgoSync(env, spec.ArgoSyncParams{Revision: revision, Prune: prune}), t)
		},
	}
	o.addFlags(sync, true)
	sync.Flags().StringVar(&revision, "revision", "", "revision to sync to (default: the application's targetRevision)")
	sync.Flags().BoolVar(&prune, "prune", false, "delete resources no longer in Git")

	var rbPrune bool
	rollback := &cobra.Command{
		Use:     "rollback APP HISTORY-ID",
		Short:   "Roll an Argo CD application back to a history entry",
		Example: actionExample("vigil argo rollback fintech-staging-app 0 --confirm yes"),
		Args:    cobra.ExactArgs(2), SilenceUsage: true,
		RunE: func(c *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil {
				return fmt.Errorf("history id %q: %w", args[1], err)
			}
			env, err := o.argoEnv(f)
			if err != nil {
				return err
			}
			t := spec.Object{Kind: spec.KindApplication, Namespace: o.ns("argocd"), Name: args[0]}
			return o.run(c.Context(), env, actions.ArgoRollback(env, spec.ArgoRollbackParams{ID: id, Prune: rbPrune}), t)
		},
	}
	o.addFlags(rollback, true)
	rollback.Flags().BoolVar(&rbPrune, "prune", false, "delete resources not in the target revision")
	c.AddCommand(sync, rollback)
	c.AddCommand(o.autoSyncCommands()...)
	return c
}

func (o *actionOptions) argoEnv(f *argoFlags) (*actions.Env, error) {
	env, err := o.env()
	if err != nil {
		return nil, err
	}
	if env.Argo, err = o.argoClient(f, env.Context); err != nil {
		return nil, err
	}
	if env.Argo != nil {
		env.Argo.HTTP = o.resolved.WrapClient(env.Argo.HTTP)
	}
	return env, nil
}
