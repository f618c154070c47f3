package integration

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/vigil-k8s/vigil/cmd"
)

// vigil runs one headless command as a runbook would, through the root command, with the
// connection flag before the subcommand (the persistent flags of kubectl's rule).
func vigil(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := cmd.NewCommand(genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	root.SetArgs(append([]string{"--kubeconfig", lc.Kubeconfig}, args...))
	err := root.Execute()
	return out.String() + errOut.String(), err
}

// TestHeadlessRunbook drives the CLI: a dry run, a refusal without --confirm, a rollback
// confirmed with --confirm, a read-only refusal, then audit verify and audit log.
func TestHeadlessRunbook(t *testing.T) {
	e := env(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	rolledOut(t, e.Kube, ns, "payment-service", img+"v1.2.2", img+"v1.2.3")
	log := filepath.Join(t.TempDir(), "audit.jsonl")
	common := []string{"deploy/payment-service", "-n", ns, "--context", "local-1", "--audit-log", log}

	out, err := vigil(t, "", append([]string{"rollback"}, append(common, "--dry-run")...)...)
	if err != nil || !strings.Contains(out, "v1.2.3 → "+img+"v1.2.2") || !strings.Contains(out, "dry run: nothing changed") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	// No --confirm and an empty stdin: Enter alone never confirms.
	out, err = vigil(t, "\n", append([]string{"rollback"}, common...)...)
	if err == nil || !strings.Contains(err.Error(), "Enter alone never confirms") {
		t.Fatalf("unconfirmed: %v\n%s", err, out)
	}
	// The prompt on stdin: y.
	out, err = vigil(t, "y\n", append([]string{"rollback"}, append(common, "--reason", "INC-123")...)...)
	if err != nil || !strings.Contains(out, "rolled back") || !strings.Contains(out, "verified: live pod template matches the target revision") {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	if d := waitRevision(t, e.Kube, ns, "payment-service", "3"); d.Spec.Template.Spec.Containers[0].Image != img+"v1.2.2" {
		t.Fatalf("image %s", d.Spec.Template.Spec.Containers[0].Image)
	}
	// --confirm with the typed target, and read-only mode.
	out, err = vigil(t, "", append([]string{"restart"}, append(common, "--read-only", "--confirm", "local-1/"+ns+"/payment-service")...)...)
	if err == nil || !strings.Contains(err.Error(), "refused (read-only): read-only mode") {
		t.Fatalf("read-only: %v\n%s", err, out)
	}
	out, err = vigil(t, "", append([]string{"scale"}, append(common, "--replicas", "3", "--confirm", "local-1/"+ns+"/payment-service")...)...)
	if err != nil || !strings.Contains(out, "verified: spec.replicas is 3") {
		t.Fatalf("scale: %v\n%s", err, out)
	}

	out, err = vigil(t, "", "audit", "verify", "--audit-log", log)
	if err != nil || !strings.Contains(out, "7 records verify") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	out, err = vigil(t, "", "audit", "log", "--audit-log", log)
	if err != nil || strings.Count(out, "\n") != 8 || !strings.Contains(out, "INC-123") || !strings.Contains(out, "refused") {
		t.Fatalf("audit log: %v\n%s", err, out)
	}
	t.Logf("audit log:\n%s", out)
}
