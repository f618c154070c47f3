package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/internal/version"
)

// whoCanOptions are `vigil who-can`'s inputs.
type whoCanOptions struct {
	g *globalFlags
	genericiooptions.IOStreams

	namespace string
	output    string
	timeout   time.Duration

	question checks.WhoCanQuestion
	// rbac lists the RBAC objects and resolves the resource of the flags' context;
	// liveRBAC outside tests.
	rbac func(ctx context.Context, o *whoCanOptions) (*checks.Inventory, string, error)
}

// whoCanOutput is the JSON document of vigil who-can -o json (docs/checks.md, "Who can").
type whoCanOutput struct {
	// Context is the kube context asked.
	Context string `json:"context"`
	checks.WhoCanAnswer
}

func newWhoCanCommand(g *globalFlags, streams genericiooptions.IOStreams) *cobra.Command {
	return whoCanCommand(&whoCanOptions{g: g, IOStreams: streams, output: "text", timeout: 30 * time.Second, rbac: liveRBAC})
}

// whoCanCommand returns `vigil who-can` on o's defaults.
func whoCanCommand(o *whoCanOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "who-can VERB RESOURCE[/SUBRESOURCE] [NAME] [-n NAMESPACE]",
		Short: "List the users, groups and service accounts RBAC allows a request, and the bindings that grant it",
		Long: `who-can answers "who can VERB RESOURCE" from the cluster's RBAC as the API shows it:
every ClusterRoleBinding, and the RoleBindings of -n NAMESPACE, their roles resolved
(aggregated ClusterRoles expanded) and matched rule by rule as the RBAC authorizer
matches a request, resourceNames included when NAME is given.

RESOURCE is a plural, singular or short name, optionally with its group
(deployments.apps) and a subresource (pods/exec: exec into a pod is create on
pods/exec). Without -n the question is cluster-wide: a cluster-scoped resource, or a
namespaced one in every namespace, which RoleBindings never grant.

Only RBAC is read: the API server's system:masters group, the Node authorizer and
webhook authorizers can allow more. The notes say what else bears on the answer.`,
		Example: `  vigil who-can get secrets payment-secrets -n fintech-prod
  vigil who-can create pods/exec -n fintech-prod
  vigil who-can create pods -n fintech-prod -o json
  vigil who-can impersonate users
  vigil who-can escalate clusterroles.rbac.authorization.k8s.io`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < 2 || len(args) > 3 {
				return usage("want VERB RESOURCE [NAME], got %d arguments (see vigil who-can --help)", len(args))
			}
			return nil
		},
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.complete(args); err != nil {
				return err
			}
			return o.run(c.Context())
		},
	}
	c.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usage("%w (see %s --help)", err, c.CommandPath())
	})
	fs := c.Flags()
	fs.StringVarP(&o.namespace, "namespace", "n", "", "namespace of the request (default: cluster-wide)")
	fs.StringVarP(&o.output, "output", "o", o.output, "output format: text or json")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "time limit for reading the cluster's RBAC")
	return c
}

// complete reads the arguments into the question.
func (o *whoCanOptions) complete(args []string) error {
	if o.output != "text" && o.output != "json" {
		return usage("--output %q: want text or json", o.output)
	}
	name := ""
	if len(args) == 3 {
		name = args[2]
	}
	q, err := checks.NewWhoCanQuestion(args[0], args[1], name, o.namespace)
	if err != nil {
		return usage("%v", err)
	}
	o.question = q
	return nil
}

func (o *whoCanOptions) run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	inv, contextName, err := o.rbac(ctx, o)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	ans := checks.WhoCan(inv, o.question)
	if o.output == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(whoCanOutput{Context: contextName, WhoCanAnswer: ans})
	}
	return writeWhoCanText(o.Out, contextName, ans)
}

// writeWhoCanText writes the answer as a table, one row per subject and
// binding, then the notes.
func writeWhoCanText(w io.Writer, contextName string, ans checks.WhoCanAnswer) error {
	where := "cluster-wide"
	if ans.Question.Namespace != "" {
		where = "in namespace " + ans.Question.Namespace
	}
	fmt.Fprintf(w, "who can %s (%s, context %s): %d subjects\n", ans.Question, where, contextName, len(ans.Subjects))
	if len(ans.Subjects) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SUBJECT KIND\tNAME\tNAMESPACE\tVIA")
		for _, s := range ans.Subjects {
			for _, p := range s.Via {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Kind, s.Name, dash(s.Namespace), p)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, n := range ans.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// liveRBAC reads the RBAC objects of the flags' kube context and resolves
// the question's resource through discovery, read-only.
func liveRBAC(ctx context.Context, o *whoCanOptions) (*checks.Inventory, string, error) {
	target, err := cluster.ResolveConnection(o.g.kube, version.UserAgent())
	if err != nil {
		return nil, "", err
	}
	cfg := readonly.WrapConfig(target.RESTConfig)
	res, err := cluster.ResolveResource(cfg, o.question.Resource, o.question.Group)
	if err != nil {
		return nil, target.Context, err
	}
	if res.Served {
		o.question.Resource, o.question.Group = res.Resource, res.Group
		if !res.Namespaced && o.question.Namespace != "" {
			return nil, target.Context, fmt.Errorf("%s is cluster-scoped: ask without -n", res.Resource)
		}
	}
	inv, err := cluster.ListRBAC(ctx, cfg, o.question.Namespace)
	if err != nil {
		return nil, target.Context, err
	}
	if !res.Served && o.question.Resource != "*" && !virtualResources[o.question.Resource] {
		fmt.Fprintf(o.ErrOut, "warning: the API server serves no resource %q%s: answering for the name as given\n", o.question.Resource, groupSuffix(o.question.Group))
	}
	return &inv, target.Context, nil
}

// virtualResources are resources RBAC authorizes that discovery does not
// list: the targets of impersonate and of certificate signing.
var virtualResources = map[string]bool{"users": true, "groups": true, "uids": true, "userextras": true, "signers": true}

func groupSuffix(g string) string {
	if g == "" {
		return ""
	}
	return " in group " + g
}
