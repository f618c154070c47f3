package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// attestEnv is one person's machine: their own state directory (audit log, attestations) and
// an empty config, against the shared local clusters.
type attestEnv struct {
	t     *testing.T
	home  string
	state string
	env   []string
}

func newAttestEnv(t *testing.T) *attestEnv {
	home := t.TempDir()
	e := &attestEnv{t: t, home: home, state: filepath.Join(home, "state")}
	cfg := filepath.Join(home, "none.yaml")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.env = []string{"KUBECONFIG=" + lc.Kubeconfig, "HOME=" + home, "XDG_STATE_HOME=" + e.state, "VIGIL_CONFIG=" + cfg, "NO_COLOR=1"}
	return e
}

// vigil runs the binary and returns stdout, stderr and the exit code.
func (e *attestEnv) vigil(args ...string) (string, string, int) {
	e.t.Helper()
	cmd := exec.Command(vigil, args...)
	cmd.Env = append(os.Environ(), e.env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// attestReport is what this test reads of `vigil check -o json`.
type attestReport struct {
	Findings []struct {
		Check, Status, Evidence string
		Attestation             *struct {
			SHA256, By, LocalUser string
			Holds                 bool
			Reverted              string
		}
	}
	Items []struct {
		Item, Verdict, Why string
		Checks             []string
		Needed             []string
	}
}

func (e *attestEnv) check() attestReport {
	e.t.Helper()
	out, errOut, code := e.vigil("check", "--context", "local-1", "-o", "json")
	if code > 1 {
		e.t.Fatalf("vigil check: exit %d: %s", code, errOut)
	}
	var r attestReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		e.t.Fatalf("vigil check -o json: %v\n%s", err, out)
	}
	return r
}

func (r attestReport) item(name string) (verdict, why string, needed []string) {
	for _, it := range r.Items {
		if it.Item == name {
			return it.Verdict, it.Why, it.Needed
		}
	}
	return "", "", nil
}

func (r attestReport) statuses(check string) map[string]int {
	n := map[string]int{}
	for _, f := range r.Findings {
		if f.Check == check {
			n[f.Status]++
		}
	}
	return n
}

const atRestCheck, atRestItem = "secrets-encrypted-at-rest", "Secrets encrypted at rest"

// TestAttestEndToEnd: on local-1, whose apiserver flags vigil cannot read, the check
// secrets-encrypted-at-rest is unknown. Attesting it with an EncryptionConfiguration makes
// its item met in `vigil check -o json`, reading "attested by <the kube user
// SelfSubjectReview names> (local <the OS user>) on D until E (sha256 <computed here>…)", in
// every other format too; the audit log verifies with the record. The evidence bundle carries
// it and verifies, and a bundle whose evidence copy was swapped (manifest redone) does not.
// Altering the stored copy turns it unknown, saying so; restoring it, met again. A failing
// check is refused with one line, and the refusal recorded. An attestation (made read-only)
// that expires turns unknown and says it expired.
func TestAttestEndToEnd(t *testing.T) {
	e := newAttestEnv(t)
	before := e.check()
	if v, _, _ := before.item(atRestItem); v != "unverified" || before.statuses(atRestCheck)["unknown"] == 0 {
		t.Fatalf("precondition: %s is %q with findings %v, want unverified with an unknown finding", atRestItem, v, before.statuses(atRestCheck))
	}

	// Who: the kube user as the API server says, the OS user as the OS says.
	ssr, err := lc.Client(t, "local-1").AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kubeUser := ssr.Status.UserInfo.Username
	osUser, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	evidence := filepath.Join(e.home, "encryption-config.yaml")
	content := []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - kms: {apiVersion: v2, name: vault}\n")
	if err = os.WriteFile(evidence, content, 0o600); err != nil {
		t.Fatal(err)
	}
	raw := sha256.Sum256(content)
	sum := hex.EncodeToString(raw[:])
	expires := time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly)

	out, errOut, code := e.vigil("attest", atRestCheck, "--context", "local-1", "--file", evidence, "--expires", expires, "--note", "CHG-4211")
	if code != 0 {
		t.Fatalf("vigil attest: exit %d\n%s%s", code, out, errOut)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	line := fmt.Sprintf("attested by %s (local %s) on %s until %s (sha256 %s…)", kubeUser, osUser.Username, today, expires, sum[:12])
	if !strings.Contains(out, "sha256 "+sum) || !strings.Contains(out, atRestItem+": met — "+line) {
		t.Errorf("vigil attest said:\n%s\nwant the sha256 and %q", out, atRestItem+": met — "+line)
	}

	r := e.check()
	if v, why, _ := r.item(atRestItem); v != "met" || why != line {
		t.Errorf("after attesting: %s — %s\nwant met — %s", v, why, line)
	}
	for _, f := range r.Findings {
		if f.Check == atRestCheck && (f.Status != "pass" || f.Attestation == nil || f.Attestation.SHA256 != sum || f.Attestation.By != kubeUser || !f.Attestation.Holds) {
			t.Errorf("finding %s %q %+v", f.Status, f.Evidence, f.Attestation)
		}
	}
	for _, format := range []string{"table", "markdown", "junit", "sarif"} {
		if out, _, _ = e.vigil("check", "--context", "local-1", "-o", format); !strings.Contains(out, line) {
			t.Errorf("vigil check -o %s does not show %q", format, line)
		}
	}
	if out, errOut, code = e.vigil("audit", "verify"); code != 0 {
		t.Errorf("audit verify: exit %d %s%s", code, out, errOut)
	}
	if out, _, _ = e.vigil("audit", "log"); !strings.Contains(out, "attest") || !strings.Contains(out, "check/"+atRestCheck) {
		t.Errorf("audit log lacks the attestation:\n%s", out)
	}

	// The bundle carries it and verifies; a swapped evidence copy does not, manifest redone or not.
	bundle := filepath.Join(e.home, "bundle")
	if out, errOut, code = e.vigil("audit", "export", "--context", "local-1", "--out", bundle); code != 0 {
		t.Fatalf("audit export: exit %d %s%s", code, out, errOut)
	}
	if b, rerr := os.ReadFile(filepath.Join(bundle, "attestations", "files", sum)); rerr != nil || !bytes.Equal(b, content) {
		t.Errorf("bundle's evidence copy: %v", rerr)
	}
	if b, _ := os.ReadFile(filepath.Join(bundle, "report.json")); !strings.Contains(string(b), line) {
		t.Errorf("bundle's report.json does not show %q", line)
	}
	if out, errOut, code = e.vigil("audit", "export", "--verify", bundle); code != 0 || !strings.Contains(out, "1 attestations") {
		t.Errorf("verify bundle: exit %d %s%s", code, out, errOut)
	}
	copyInBundle := filepath.Join(bundle, "attestations", "files", sum)
	if err = os.WriteFile(copyInBundle, []byte("kind: Nothing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	redoManifest(t, bundle)
	if _, errOut, code = e.vigil("audit", "export", "--verify", bundle); code == 0 || !strings.Contains(errOut, "attestations/"+atRestCheck+".json: attestation") || !strings.Contains(errOut, "was altered") {
		t.Errorf("a bundle with a swapped evidence copy: exit %d %q", code, errOut)
	}

	// Altering the stored copy reverts the item to unknown, saying why; restoring it, met again.
	stored := filepath.Join(e.state, "vigil", "attestations", "local-1", "files", sum)
	if b, rerr := os.ReadFile(stored); rerr != nil || !bytes.Equal(b, content) {
		t.Fatalf("stored copy at %s: %v", stored, rerr)
	}
	if err = os.WriteFile(stored, append(content, '#'), 0o600); err != nil {
		t.Fatal(err)
	}
	r = e.check()
	altered := "its stored evidence file encryption-config.yaml was altered"
	if v, why, _ := r.item(atRestItem); v != "unverified" || !strings.Contains(why, altered) || r.statuses(atRestCheck)["pass"] != 0 {
		t.Errorf("altered: %s — %s (%v)", v, why, r.statuses(atRestCheck))
	}
	if _, _, needed := r.item(atRestItem); !strings.Contains(strings.Join(needed, " "), altered) {
		t.Errorf("altered: needed %q does not say why", needed)
	}
	if err = os.WriteFile(stored, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := e.check().item(atRestItem); v != "met" {
		t.Errorf("restored: %s", v)
	}

	// A failing check is refused, in one line, and the attempt recorded.
	failing := ""
	for _, f := range before.Findings {
		if f.Status == "fail" {
			failing = f.Check
			break
		}
	}
	if failing == "" {
		t.Fatal("precondition: no failing check on local-1")
	}
	out, errOut, code = e.vigil("attest", failing, "--context", "local-1", "--file", evidence, "--expires", expires)
	if code == 0 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "check "+failing+" fails on ") || !strings.Contains(errOut, "a failing check stays failing") {
		t.Errorf("attesting failing %s: exit %d\nstdout %q\nstderr %q", failing, code, out, errOut)
	}
	if out, _, _ = e.vigil("audit", "log"); !strings.Contains(out, "check/"+failing) {
		t.Errorf("the refused attestation of %s is not in the audit log:\n%s", failing, out)
	}
	if v, _, _ := e.check().item(atRestItem); v != "met" {
		t.Errorf("after the refusal, %s is %s", atRestItem, v)
	}

	// An attestation that expires: met until then, unknown after, saying so. It is made in
	// read-only mode, which allows it (it changes nothing in the cluster).
	until := time.Now().UTC().Add(4 * time.Second).Truncate(time.Second).Add(time.Second)
	if out, errOut, code = e.vigil("--readonly", "attest", atRestItem, "--context", "local-1", "--file", evidence, "--expires", until.Format(time.RFC3339)); code != 0 {
		t.Fatalf("attest the item until %s: exit %d %s%s", until, code, out, errOut)
	}
	time.Sleep(time.Until(until) + 100*time.Millisecond)
	r = e.check()
	expired := "expired on " + until.Format(time.RFC3339)
	v, why, _ := r.item(atRestItem)
	// The check's own attestation still holds: the item's expired one must say so, and the
	// check's keeps the item met. Remove the check's to see the item revert.
	if v != "met" {
		t.Errorf("with the check's attestation holding, %s is %s — %s", atRestItem, v, why)
	}
	if err = os.Remove(filepath.Join(e.state, "vigil", "attestations", "local-1", atRestCheck+".json")); err != nil {
		t.Fatal(err)
	}
	r = e.check()
	if v, why, _ = r.item(atRestItem); v != "unverified" || !strings.Contains(why, expired) {
		t.Errorf("expired: %s — %s; want unverified saying %q", v, why, expired)
	}
}

// redoManifest rewrites MANIFEST.sha256 from the files as they are, as someone covering a
// change would.
func redoManifest(t *testing.T, dir string) {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "MANIFEST.sha256" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		s := sha256.Sum256(b)
		lines = append(lines, hex.EncodeToString(s[:])+"  "+filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err = os.WriteFile(filepath.Join(dir, "MANIFEST.sha256"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAttestOnComplianceScreen: the Compliance screen (tmux, as a person sees it) shows the
// attested item MET; when its stored evidence is altered while vigil runs, the row turns
// UNVERIFIED within seconds, and the item's page says the file was altered.
func TestAttestOnComplianceScreen(t *testing.T) {
	e := newAttestEnv(t)
	evidence := filepath.Join(e.home, "encryption-config.yaml")
	content := []byte("kind: EncryptionConfiguration\n")
	if err := os.WriteFile(evidence, content, 0o600); err != nil {
		t.Fatal(err)
	}
	raw := sha256.Sum256(content)
	sum := hex.EncodeToString(raw[:])
	if out, errOut, code := e.vigil("attest", atRestCheck, "--context", "local-1", "--file", evidence, "--expires", time.Now().UTC().AddDate(0, 1, 0).Format(time.DateOnly)); code != 0 {
		t.Fatalf("vigil attest: exit %d %s%s", code, out, errOut)
	}
	term, err := StartTerminal(fmt.Sprintf("vigil-attest-%d", time.Now().UnixNano()), 160, 60, e.env, vigil, "--context", "local-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(term.Close)
	waitSynced(t, term, "fintech-prod", "payment-service")
	command(t, term, "check")
	if screen, ok := term.WaitFor(30*time.Second, func(s string) bool {
		return strings.HasPrefix(strings.TrimSpace(LineWith(s, atRestItem)), "MET ")
	}); !ok {
		t.Fatalf("the attested item's row never read MET:\n%s", screen)
	}

	stored := filepath.Join(e.state, "vigil", "attestations", "local-1", "files", sum)
	if err = os.WriteFile(stored, []byte("kind: Altered\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitLine(t, term, "altered evidence", 15*time.Second, "UNVERIFIED", atRestItem)
	// Open the item (j down to its row from the first, Enter): its page says why.
	screen := term.Screen()
	lines := strings.Split(screen, "\n")
	header, row := -1, -1
	for i, l := range lines {
		if header < 0 && strings.Contains(l, "VERDICT") && strings.Contains(l, "CHECKLIST ITEM") {
			header = i
		}
		if header >= 0 && row < 0 && strings.Contains(l, atRestItem) {
			row = i
		}
	}
	if header < 0 || row < 0 {
		t.Fatalf("no table header or row on screen:\n%s", screen)
	}
	for range row - header - 1 {
		_ = term.Send("j")
	}
	_ = term.Send("Enter")
	waitLine(t, term, "item page", 10*time.Second, "was altered")
}
