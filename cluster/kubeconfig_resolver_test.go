package cluster

import (
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
)

// resolverKubeconfig is a kubeconfig whose contexts connect in every way a kubeconfig can say:
// CA file (relative to the kubeconfig), insecure, proxy, TLS server name, compression off; a
// token, a token file, client certificate files, impersonation, an exec plugin; a namespace;
// and contexts that cannot resolve (a cluster that is not there, a CA that is not PEM).
const resolverKubeconfig = `apiVersion: v1
kind: Config
current-context: plain
clusters:
- name: c-ca
  cluster: {server: "https://10.0.0.1:6443", certificate-authority: ca.crt}
- name: c-insecure
  cluster: {server: "https://10.0.0.2:6443", insecure-skip-tls-verify: true}
- name: c-proxy
  cluster: {server: "https://10.0.0.3:6443", certificate-authority: ca.crt, proxy-url: "http://proxy.internal:3128", tls-server-name: api.internal, disable-compression: true}
- name: c-bad-ca
  cluster: {server: "https://10.0.0.4:6443", certificate-authority: notpem.crt}
users:
- name: u-token
  user: {token: tok}
- name: u-token-file
  user: {tokenFile: token}
- name: u-cert
  user: {client-certificate: client.crt, client-key: client.key}
- name: u-as
  user: {token: tok2, as: someone, as-groups: [g1, g2], as-uid: "7", as-user-extra: {reason: [audit]}}
- name: u-exec
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/true, args: [token], interactiveMode: Never, env: [{name: A, value: b}]}
contexts:
- name: plain
  context: {cluster: c-ca, user: u-token}
- name: with-namespace
  context: {cluster: c-ca, user: u-token-file, namespace: fintech-prod}
- name: insecure-cert
  context: {cluster: c-insecure, user: u-cert}
- name: proxied-as
  context: {cluster: c-proxy, user: u-as}
- name: exec
  context: {cluster: c-ca, user: u-exec}
- name: no-user
  context: {cluster: c-insecure}
- name: missing-cluster
  context: {cluster: c-gone, user: u-token}
- name: bad-ca
  context: {cluster: c-bad-ca, user: u-token}
`

// writeResolverKubeconfig writes resolverKubeconfig and the files it names into a directory
// of the test's and returns the kubeconfig's path and the CA's (a flag's value below).
func writeResolverKubeconfig(t *testing.T) (kubeconfig, ca string) {
	t.Helper()
	dir := t.TempDir()
	cert, key := selfSignedPEM(t, "resolver")
	for name, data := range map[string][]byte{
		"kubeconfig": []byte(resolverKubeconfig), "ca.crt": cert, "client.crt": cert, "token": []byte("file-token"),
		"client.key": key, "notpem.crt": []byte("not a certificate"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "kubeconfig"), filepath.Join(dir, "ca.crt")
}

// TestContextResolverAgrees: a context resolved from the ContextResolver's one parse connects
// exactly as ResolveConnection(FlagsFor(flags, name)) does, its own parse with cli-runtime's
// overrides: the same Connection and rest.Config field for field (the proxy compared by where
// it sends a request, functions by presence), or an error where that has one (and Resolve
// then that very error), for every context of a
// kubeconfig that says everything a kubeconfig can, under 150 random sets of the connection
// flags a user can pass, each flag in about half of them.
func TestContextResolverAgrees(t *testing.T) {
	path, ca := writeResolverKubeconfig(t)
	client := filepath.Join(filepath.Dir(ca), "client")
	flagSets := [][]string{
		{"--as", "auditor"}, {"--as-group", "pci", "--as-group", "ops"}, {"--as-uid", "u-1"},
		{"--as-user-extra", "reason=change-4711", "--as-user-extra", "reason=again"},
		{"--token", "flag-token"}, {"--server", "https://10.9.9.9:6443"}, {"--insecure-skip-tls-verify"},
		{"--tls-server-name", "flag.internal"}, {"--certificate-authority", ca},
		{"--client-certificate", client + ".crt", "--client-key", client + ".key"},
		{"--cluster", "c-insecure"}, {"--user", "u-as"}, {"--request-timeout", "9s"},
		{"--proxy-url", "http://flag-proxy:3128"}, {"--disable-compression"}, {"--namespace", "other"},
	}
	contexts := []string{"plain", "with-namespace", "insecure-cert", "proxied-as", "exec", "no-user", "missing-cluster", "bad-ca", "not-in-kubeconfig"}
	rng := mrand.New(mrand.NewPCG(1, 2))
	resolvedSome, failedSome := false, false
	for trial := range 150 {
		args := []string{"--kubeconfig", path}
		for _, set := range flagSets {
			if trial == 1 || (trial > 1 && rng.IntN(2) == 0) { // trial 0: no flag; trial 1: all
				args = append(args, set...)
			}
		}
		flags := userFlags(t, args...)
		r := NewContextResolver(flags, "vigil/test")
		for _, name := range contexts {
			want, wantErr := ResolveConnection(FlagsFor(flags, name), "vigil/test")
			if _, err := r.Resolve(name); fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("%v, context %s: error %v, ResolveConnection's %v", args[2:], name, err, wantErr)
			}
			got, gotErr := r.fromParse(name) // not Resolve, which would take ResolveConnection's way on an error
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("%v, context %s: from the parse, error %v; ResolveConnection's %v", args[2:], name, gotErr, wantErr)
			}
			if wantErr != nil {
				failedSome = true
				continue
			}
			resolvedSome = true
			if d := connectionDiff(got, want); d != "" {
				t.Fatalf("%v, context %s: %s", args[2:], name, d)
			}
		}
	}
	if !resolvedSome || !failedSome {
		t.Fatalf("resolved some: %v, failed some: %v; the test wants both", resolvedSome, failedSome)
	}
}

// connectionDiff says how two connections differ, "" when they do not.
func connectionDiff(got, want Connection) string {
	if got.Context != want.Context || got.Server != want.Server || got.User != want.User || got.Kubeconfig != want.Kubeconfig {
		return fmt.Sprintf("connection %s %s %s %s, ResolveConnection's %s %s %s %s", got.Context, got.Server, got.User, got.Kubeconfig, want.Context, want.Server, want.User, want.Kubeconfig)
	}
	g, w := configView(got.RESTConfig), configView(want.RESTConfig)
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("rest.Config\n%+v\nResolveConnection's\n%+v", g, w)
	}
	return ""
}

// restConfigView is a rest.Config with its functions and interfaces replaced by what they
// do or whether they are there, so that reflect.DeepEqual compares what matters.
type restConfigView struct {
	Config           rest.Config
	Proxy            string
	Funcs, Persister []bool
}

func configView(c *rest.Config) restConfigView {
	v := restConfigView{Config: *rest.CopyConfig(c)}
	if c.Proxy != nil {
		req, _ := http.NewRequest(http.MethodGet, c.Host, nil)
		u, err := c.Proxy(req)
		v.Proxy = fmt.Sprint(u, err)
	}
	v.Funcs = []bool{c.WarningHandlerWithContext != nil, c.WrapTransport != nil, c.Dial != nil}
	v.Persister = []bool{c.AuthConfigPersister != nil}
	cc := &v.Config
	cc.Proxy, cc.WarningHandlerWithContext, cc.WrapTransport, cc.Dial, cc.AuthConfigPersister = nil, nil, nil, nil, nil
	return v
}

// TestConfigOverridesKnowsEveryFlag: every exported field of cli-runtime's ConfigFlags is
// bound by configOverrides or named here as not an override, so a connection flag a new
// cli-runtime adds fails this test rather than being dropped by ContextResolver.
func TestConfigOverridesKnowsEveryFlag(t *testing.T) {
	bound := []string{"CertFile", "KeyFile", "BearerToken", "Impersonate", "ImpersonateUserExtra", "ImpersonateUID",
		"ImpersonateGroup", "Username", "APIServer", "TLSServerName", "CAFile", "Insecure", "DisableCompression",
		"ProxyURL", "Context", "ClusterName", "AuthInfoName", "Namespace", "Timeout"}
	notOverrides := []string{"KubeConfig", "CacheDir", "WrapConfigFn", "Password"} // the file; discovery's cache; applied after; prompts (ResolveConnection's way)
	typ := reflect.TypeFor[genericclioptions.ConfigFlags]()
	var unknown []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.IsExported() && !slices.Contains(bound, f.Name) && !slices.Contains(notOverrides, f.Name) {
			unknown = append(unknown, f.Name)
		}
	}
	if len(unknown) > 0 {
		t.Fatalf("ConfigFlags has fields configOverrides does not bind: %s; bind them as cli-runtime does", strings.Join(unknown, ", "))
	}
}
