package e2e

import (
	"context"
	"encoding/base64"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSecretYAMLInTheTerminal: on the GitOps screen, y on an ExternalSecret offers the Secret it
// writes; its YAML shows the Secret's name and labels as client-go reads them and neither its
// value nor the base64 of it.
func TestSecretYAMLInTheTerminal(t *testing.T) {
	ns := lc.Namespace(t, "local-1")
	cs := lc.Client(t, "local-1")
	ctx := context.Background()
	const value = "e2e-Secret-Value-never-shown-4410"
	if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ledger-creds", Labels: map[string]string{"team": "ledger"}},
		StringData: map[string]string{"password": value}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	es := `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: ledger-es
  namespace: ` + ns + `
spec:
  refreshInterval: 1h
  secretStoreRef: {name: vault-backend, kind: SecretStore}
  target: {name: ledger-creds}
  data:
  - secretKey: password
    remoteRef: {key: ledger/password}
`
	apply := exec.Command("kubectl", "--kubeconfig", lc.Kubeconfig, "--context", "local-1", "apply", "-f", "-")
	apply.Stdin = strings.NewReader(es)
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	term := startVigil(t, "--context", "local-1", "-n", ns)
	if screen, ok := term.WaitFor(30*time.Second, func(s string) bool { return strings.Contains(s, "● connected") }); !ok {
		t.Fatalf("vigil did not start:\n%s", screen)
	}
	_ = term.Send(":")
	_ = term.Type("gitops")
	_ = term.Send("Enter")
	if screen, ok := term.WaitFor(20*time.Second, func(s string) bool { return LineWith(s, "ledger-es") != "" }); !ok {
		t.Fatalf("the ExternalSecret never showed:\n%s", screen)
	}
	for range 12 {
		if LineWith(term.Screen(), "› ", "ledger-es") != "" {
			break
		}
		_ = term.Send("j")
		time.Sleep(200 * time.Millisecond)
	}
	_ = term.Send("y")
	if screen, ok := term.WaitFor(5*time.Second, func(s string) bool { return LineWith(s, "Secret "+ns+"/ledger-creds") != "" }); !ok {
		t.Fatalf("y on the ExternalSecret does not offer its Secret:\n%s", screen)
	}
	_ = term.Send("j")
	time.Sleep(200 * time.Millisecond)
	_ = term.Send("Enter")
	screen, ok := term.WaitFor(15*time.Second, func(s string) bool {
		return LineWith(s, "YAML of Secret "+ns+"/ledger-creds") != "" && LineWith(s, "team:", "ledger") != ""
	})
	if !ok {
		t.Fatalf("the Secret's YAML never showed:\n%s", screen)
	}
	for _, v := range []string{value, base64.StdEncoding.EncodeToString([]byte(value))} {
		if strings.Contains(screen, v) {
			t.Fatalf("the Secret's value %q is on screen:\n%s", v, screen)
		}
	}
	if LineWith(screen, "metadata only") == "" {
		t.Errorf("the Secret's YAML does not say it is metadata only:\n%s", screen)
	}
	for _, l := range strings.Split(screen, "\n") {
		if f := strings.TrimSpace(l); strings.HasPrefix(f, "data:") || strings.HasPrefix(f, "stringData:") {
			t.Errorf("the Secret's YAML has %q:\n%s", f, screen)
		}
	}
}
