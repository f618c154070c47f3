package cluster

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
)

const testKubeconfig = `apiVersion: v1
kind: Config
current-context: local-1
clusters:
- name: c1
  cluster: {server: "https://127.0.0.1:6443"}
contexts:
- name: local-1
  context: {cluster: c1, user: admin}
- name: local-1-reviewer
  context: {cluster: c1, user: reviewer}
users:
- name: admin
  user: {token: a}
- name: reviewer
  user: {token: r}
`

func flagsFor(kubeconfig, context string) *genericclioptions.ConfigFlags {
	f := genericclioptions.NewConfigFlags(false)
	f.KubeConfig = &kubeconfig
	f.Context = &context
	return f
}

// testKubeconfigFile writes testKubeconfig to a file of the test's and returns its path.
func testKubeconfigFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// userFlags are vigil's root kube flags parsed from args as a user types them.
func userFlags(t *testing.T, args ...string) *genericclioptions.ConfigFlags {
	t.Helper()
	f := genericclioptions.NewConfigFlags(true)
	fs := pflag.NewFlagSet("vigil", pflag.ContinueOnError)
	f.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestResolveConnection(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}

	got, err := ResolveConnection(flagsFor(path, "local-1-reviewer"), "vigil/test")
	if err != nil {
		t.Fatal(err)
	}
	if got.Context != "local-1-reviewer" || got.User != "reviewer" || got.Server != "https://127.0.0.1:6443" ||
		got.Kubeconfig != path || got.RESTConfig.UserAgent != "vigil/test" {
		t.Errorf("ResolveConnection() = %+v", got)
	}
	if got, _ := ResolveConnection(flagsFor(path, ""), "vigil/test"); got.Context != "local-1" || got.Anonymous {
		t.Errorf("current context = %q (anonymous %v), want local-1 with its token", got.Context, got.Anonymous)
	}
	// A context whose user the kubeconfig does not define: client-go connects without
	// credentials (kubectl would prompt), and the connection says so.
	nobody := filepath.Join(dir, "nobody")
	if err := os.WriteFile(nobody, []byte(strings.Replace(testKubeconfig, "user: reviewer}", "user: nobody}", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ResolveConnection(flagsFor(nobody, "local-1-reviewer"), "vigil/test"); err != nil || !got.Anonymous || got.User != "nobody" {
		t.Errorf("user not in the kubeconfig: %+v, %v; want user nobody, anonymous", got, err)
	}
	// --as: the API server authorizes every request as that user; the connection names it.
	if got, err := ResolveConnection(userFlags(t, "--kubeconfig", path, "--context", "local-1", "--as", "scoped"), "vigil/test"); err != nil || got.As != "scoped" || got.User != "admin" {
		t.Errorf("--as scoped: user %q as %q, %v; want admin as scoped", got.User, got.As, err)
	}
	// --as-group: the groups authorize too (system:masters grants everything): named with the user.
	if got, err := ResolveConnection(userFlags(t, "--kubeconfig", path, "--context", "local-1", "--as", "scoped", "--as-group", "system:masters", "--as-group", "ops"), "vigil/test"); err != nil || got.As != "scoped (groups system:masters, ops)" {
		t.Errorf("--as scoped --as-group system:masters --as-group ops: as %q, %v", got.As, err)
	}
	if got, _ := ResolveConnection(flagsFor(path, "local-1"), "vigil/test"); got.As != "" {
		t.Errorf("no --as: as %q", got.As)
	}
	if got, err := ResolveConnection(userFlags(t, "--kubeconfig", nobody, "--context", "local-1-reviewer", "--token", "t"), "vigil/test"); err != nil || got.Anonymous {
		t.Errorf("user not in the kubeconfig, --token given: anonymous %v, %v; want credentials", got.Anonymous, err)
	}

	badCA := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(badCA, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badPath := filepath.Join(dir, "bad-ca")
	bad := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:6443\", certificate-authority: " + badCA +
		"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: bad-ca\n  context: {cluster: c, user: u}\n"
	if err := os.WriteFile(badPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}

	gonePath := filepath.Join(dir, "gone-cluster")
	if err := os.WriteFile(gonePath, []byte(strings.Replace(testKubeconfig, "context: {cluster: c1, user: reviewer}", "context: {cluster: c-gone, user: reviewer}", 1)), 0o600); err != nil {
		t.Fatal(err)
	}

	errs := []struct {
		name, kubeconfig, context, want string
	}{
		{"CA file not PEM", badPath, "bad-ca", `context "bad-ca": TLS settings (certificate-authority ` + badCA + `): unable to load root certificates: unable to parse bytes as PEM block`},
		{"unknown context", path, "nope", fmt.Sprintf(`context "nope" not found in kubeconfig %s (have: local-1, local-1-reviewer)`, path)},
		{"cluster not in the kubeconfig", gonePath, "local-1-reviewer", fmt.Sprintf(`context "local-1-reviewer": cluster "c-gone" not found in kubeconfig %s (have: c1)`, gonePath)},
		{"missing file", filepath.Join(dir, "missing"), "", "kubeconfig " + filepath.Join(dir, "missing") + ": no such file or directory"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ResolveConnection(flagsFor(tt.kubeconfig, tt.context), "vigil/test")
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\nwant    %s", err, tt.want)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	refused := &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/version",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	tests := []struct {
		err  error
		want string
	}{
		{refused, "connection refused"},
		{fmt.Errorf("watch pods: %w", refused), "connection refused"},
		{&url.Error{Op: "Get", URL: "https://x", Err: &net.DNSError{Name: "api.nope", Err: "no such host"}}, "unknown host api.nope"},
	}
	for _, tt := range tests {
		if got := Explain(tt.err); got != tt.want {
			t.Errorf("Explain(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if got := Explain(fmt.Errorf("%s", strings.Repeat("x", 10))); got != "xxxxxxxxxx" {
		t.Errorf("Explain(plain) = %q", got)
	}
}

// TestFlagsForConnectsAsTheFlagsSay: a context resolved through FlagsFor (:ctx, the Contexts
// screen, check --all-contexts) connects as the same flags given with --context do, for every
// connection flag a user can pass. Before, the copy dropped --proxy-url, --as-user-extra and
// --disable-compression: the TUI went around the proxy and impersonated without the extras.
func TestFlagsForConnectsAsTheFlagsSay(t *testing.T) {
	path := testKubeconfigFile(t)
	args := []string{"--kubeconfig", path, "--proxy-url", "http://proxy.example:3128", "--as", "auditor",
		"--as-uid", "u-1", "--as-group", "pci", "--as-group", "ops", "--as-user-extra", "reason=change-4711",
		"--disable-compression", "--tls-server-name", "api.internal", "--request-timeout", "7s",
		"--token", "flag-token", "--server", "https://10.0.0.9:6443", "--user", "reviewer", "--cluster", "c1"}
	want, err := ResolveConnection(userFlags(t, append(slices.Clone(args), "--context", "local-1-reviewer")...), "vigil/test")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ResolveConnection(FlagsFor(userFlags(t, args...), "local-1-reviewer"), "vigil/test")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, want.Server, nil)
	proxy := func(c Connection) string {
		if c.RESTConfig.Proxy == nil {
			return "(none)"
		}
		u, err := c.RESTConfig.Proxy(req)
		if err != nil || u == nil {
			return fmt.Sprint("(none) ", err)
		}
		return u.String()
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"context", got.Context, want.Context},
		{"server", got.RESTConfig.Host, want.RESTConfig.Host},
		{"token", got.RESTConfig.BearerToken, want.RESTConfig.BearerToken},
		{"impersonation", got.RESTConfig.Impersonate, want.RESTConfig.Impersonate},
		{"proxy", proxy(got), proxy(want)},
		{"compression disabled", got.RESTConfig.DisableCompression, want.RESTConfig.DisableCompression},
		{"TLS server name", got.RESTConfig.ServerName, want.RESTConfig.ServerName},
		{"timeout", got.RESTConfig.Timeout, want.RESTConfig.Timeout},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s through FlagsFor = %v, with the flags = %v", c.what, c.got, c.want)
		}
	}
	// The flags did reach the config (else equal above says little).
	if want.RESTConfig.Impersonate.Extra["reason"] == nil || proxy(want) != "http://proxy.example:3128" || !want.RESTConfig.DisableCompression {
		t.Fatalf("the flags did not reach the config: %+v, proxy %s", want.RESTConfig.Impersonate, proxy(want))
	}
}

// TestFlagsForCopiesEveryField holds FlagsFor to every exported field of ConfigFlags, so a flag
// cli-runtime adds is not silently dropped from :ctx and --all-contexts.
func TestFlagsForCopiesEveryField(t *testing.T) {
	src := genericclioptions.NewConfigFlags(true)
	v := reflect.ValueOf(src).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		switch f.Kind() {
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem())) // a pointer of its own, compared by identity below
		case reflect.Func:
			f.Set(reflect.ValueOf(func(c *rest.Config) *rest.Config { return c }))
		default:
			t.Fatalf("ConfigFlags.%s is a %s: teach FlagsFor and this test about it", v.Type().Field(i).Name, f.Kind())
		}
	}
	got := reflect.ValueOf(FlagsFor(src, "")).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if !v.Type().Field(i).IsExported() {
			continue
		}
		if name == "Namespace" {
			if !got.Field(i).IsNil() {
				t.Errorf("FlagsFor kept --namespace")
			}
			continue
		}
		if got.Field(i).Pointer() != v.Field(i).Pointer() {
			t.Errorf("FlagsFor does not carry ConfigFlags.%s over", name)
		}
	}
}

// TestContextsReadTheKubeconfigAfresh: a context added to the kubeconfig while vigil runs
// (a new cluster's credentials written by a cloud CLI) is listed at the next refresh, one
// removed is no longer listed.
func TestContextsReadTheKubeconfigAfresh(t *testing.T) {
	path := testKubeconfigFile(t)
	root := genericclioptions.NewConfigFlags(true) // as vigil's root command makes them
	root.KubeConfig = &path
	m := &Manager{opts: ManagerOptions{Flags: root}}
	names := func() string {
		cs, err := m.Contexts()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return strings.Join(out, " ")
	}
	if got := names(); got != "local-1 local-1-reviewer" {
		t.Fatalf("contexts = %s", got)
	}
	edited := strings.Replace(testKubeconfig, "- name: local-1-reviewer\n", "- name: eks-prod\n  context: {cluster: c1, user: admin}\n- name: local-1-reviewer\n", 1)
	edited = strings.Replace(edited, "- name: local-1\n  context: {cluster: c1, user: admin}\n", "", 1)
	edited = strings.Replace(edited, "current-context: local-1\n", "current-context: eks-prod\n", 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := names(); got != "eks-prod local-1-reviewer" {
		t.Fatalf("after the kubeconfig was edited, contexts = %s, want eks-prod local-1-reviewer", got)
	}
}

// TestExplainNamesTheProxy: with a proxy configured (--proxy-url) that does not answer, the
// reason names the proxy, through client-go's own transport: its "connection refused" is not
// the API server's, which a person at 3 a.m. would otherwise go and check.
func TestExplainNamesTheProxy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close() // nothing listens there now: connecting is refused
	f := userFlags(t, "--kubeconfig", testKubeconfigFile(t), "--proxy-url", "http://"+dead, "--insecure-skip-tls-verify")
	conn, err := ResolveConnection(FlagsFor(f, "local-1"), "vigil/test")
	if err != nil {
		t.Fatal(err)
	}
	client, err := rest.HTTPClientFor(conn.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(conn.Server + "/version")
	if err == nil {
		resp.Body.Close()
		t.Fatal("a request through a proxy nobody listens on succeeded")
	}
	if got, want := Explain(err), "proxy "+dead+": connection refused"; got != want {
		t.Errorf("Explain(%v) = %q, want %q", err, got, want)
	}
}
