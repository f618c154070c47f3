package cmd

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// noNamespace are the commands that reach no namespace, so take no -n. Every other command
// of the tree must take -n before and after its name.
var noNamespace = []string{
	"vigil audit log", "vigil audit verify", "vigil config init", "vigil config validate", "vigil silence expire",
}

// globalCase is one global flag as given on the command line and where its value must land.
type globalCase struct {
	args []string
	want string
	got  func(g *globalFlags) string
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

var globalCases = []globalCase{
	{[]string{"--kubeconfig", "/tmp/k"}, "/tmp/k", func(g *globalFlags) string { return deref(g.kube.KubeConfig) }},
	{[]string{"--context", "ctx-x"}, "ctx-x", func(g *globalFlags) string { return deref(g.kube.Context) }},
	{[]string{"--context=ctx-y"}, "ctx-y", func(g *globalFlags) string { return deref(g.kube.Context) }},
	{[]string{"--cluster", "cl-x"}, "cl-x", func(g *globalFlags) string { return deref(g.kube.ClusterName) }},
	{[]string{"--user", "u-x"}, "u-x", func(g *globalFlags) string { return deref(g.kube.AuthInfoName) }},
	{[]string{"--server", "https://x:6443"}, "https://x:6443", func(g *globalFlags) string { return deref(g.kube.APIServer) }},
	{[]string{"--token", "t-x"}, "t-x", func(g *globalFlags) string { return deref(g.kube.BearerToken) }},
	{[]string{"--insecure-skip-tls-verify"}, "true", func(g *globalFlags) string { return boolString(g.kube.Insecure) }},
	{[]string{"--config", "/tmp/vigil.yaml"}, "/tmp/vigil.yaml", func(g *globalFlags) string { return g.configFile }},
	{[]string{"--readonly"}, "readonly", func(g *globalFlags) string { return modeString(g) }},
	{[]string{"--read-only"}, "readonly", func(g *globalFlags) string { return modeString(g) }},
	{[]string{"--write"}, "write", func(g *globalFlags) string { return modeString(g) }},
}

func boolString(b *bool) string {
	if b == nil {
		return "<nil>"
	}
	if *b {
		return "true"
	}
	return "false"
}

func modeString(g *globalFlags) string {
	ro, w := g.mode.changed()
	switch {
	case ro && g.mode.ReadOnly && !w:
		return "readonly"
	case w && g.mode.Write && !ro:
		return "write"
	}
	return "neither"
}

// commandPaths are the runnable commands of the tree, as the words after "vigil" ("" is the
// root itself), walked from the tree so that a new subcommand is covered without a line here.
func commandPaths(root *cobra.Command) [][]string {
	var out [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Runnable() {
			out = append(out, path)
		}
		for _, s := range c.Commands() {
			walk(s, append(slices.Clone(path), s.Name()))
		}
	}
	walk(root, nil)
	return out
}

// fakeRun replaces the work of every command of the tree by recording which one ran, and lifts
// the argument and required-flag checks, so only the flag parsing is left to test.
func fakeRun(root *cobra.Command, ran *string) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() {
			c.Run, c.PreRunE, c.PreRun = nil, nil, nil
			c.RunE = func(c *cobra.Command, _ []string) error { *ran = c.CommandPath(); return nil }
			c.Args = cobra.ArbitraryArgs
			c.Flags().VisitAll(func(f *pflag.Flag) { delete(f.Annotations, cobra.BashCompOneRequiredFlag) })
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// placements puts flag args before the command's words, after them, and between them for a
// nested command, as kubectl allows.
func placements(path, flag []string) map[string][]string {
	cat := func(parts ...[]string) []string { return slices.Concat(parts...) }
	p := map[string][]string{
		"before": cat(flag, path),
		"after":  cat(path, flag),
	}
	if len(path) > 1 {
		p["between"] = cat(path[:1], flag, path[1:])
	}
	return p
}

// TestGlobalFlagsBeforeAndAfterEverySubcommand: the connection flags, --config and the
// read-only switches parse before, between and after the words of every command of the tree,
// and land in the one set of flags the commands read.
func TestGlobalFlagsBeforeAndAfterEverySubcommand(t *testing.T) {
	paths := commandPaths(newCommand(genericiooptions.NewTestIOStreamsDiscard(), func(string) string { return "" }))
	if len(paths) < 15 {
		t.Fatalf("only %d runnable commands found: %v", len(paths), paths)
	}
	for _, path := range paths {
		name := strings.TrimSpace("vigil " + strings.Join(path, " "))
		for _, gc := range globalCases {
			for where, args := range placements(path, gc.args) {
				g := newGlobalFlags(func(string) string { return "" })
				root := newRootCommand(g, genericiooptions.NewTestIOStreamsDiscard())
				var ran string
				fakeRun(root, &ran)
				root.SetArgs(args)
				if _, err := root.ExecuteC(); err != nil {
					t.Errorf("%s: %s %s: %v", name, strings.Join(gc.args, " "), where, err)
					continue
				}
				if ran != name {
					t.Errorf("vigil %s: ran %q, want %q", strings.Join(args, " "), ran, name)
				}
				if got := gc.got(g); got != gc.want {
					t.Errorf("vigil %s: the flag set %q, want %q", strings.Join(args, " "), got, gc.want)
				}
			}
		}
	}
}

// TestNamespaceBeforeAndAfterEveryNamespacedCommand: every command that reaches a namespace
// takes -n before, between and after its words; the others (noNamespace) take none.
func TestNamespaceBeforeAndAfterEveryNamespacedCommand(t *testing.T) {
	for _, path := range commandPaths(newCommand(genericiooptions.NewTestIOStreamsDiscard(), func(string) string { return "" })) {
		name := strings.TrimSpace("vigil " + strings.Join(path, " "))
		if slices.Contains(noNamespace, name) {
			root := newCommand(genericiooptions.NewTestIOStreamsDiscard(), func(string) string { return "" })
			c, _, err := root.Find(path)
			if err != nil {
				t.Fatal(err)
			}
			if c.Flags().ShorthandLookup("n") != nil {
				t.Errorf("%s takes -n: take it off noNamespace", name)
			}
			continue
		}
		for where, args := range placements(path, []string{"-n", "ns-x"}) {
			root := newCommand(genericiooptions.NewTestIOStreamsDiscard(), func(string) string { return "" })
			var ran string
			fakeRun(root, &ran)
			root.SetArgs(args)
			c, err := root.ExecuteC()
			if err != nil {
				t.Errorf("%s: -n %s: %v", name, where, err)
				continue
			}
			if ran != name {
				t.Errorf("vigil %s: ran %q, want %q", strings.Join(args, " "), ran, name)
				continue
			}
			if f := c.Flags().ShorthandLookup("n"); f == nil || !strings.Contains(f.Value.String(), "ns-x") {
				t.Errorf("vigil %s: -n did not reach the command's flag", strings.Join(args, " "))
			}
		}
	}
}
