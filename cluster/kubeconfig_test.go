package cluster

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
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
	if got, _ := ResolveConnection(flagsFor(path, ""), "vigil/test"); got.Context != "local-1" {
		t.Errorf("current context = %q, want local-1", got.Context)
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

	errs := []struct {
		name, kubeconfig, context, want string
	}{
		{"CA file not PEM", badPath, "bad-ca", `context "bad-ca": TLS settings (certificate-authority ` + badCA + `): unable to load root certificates: unable to parse bytes as PEM block`},
		{"unknown context", path, "nope", fmt.Sprintf(`context "nope" not found in kubeconfig %s (have: local-1, local-1-reviewer)`, path)},
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
