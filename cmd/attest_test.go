package cmd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/attest"
	"github.com/vigil-k8s/vigil/checks/load"
	"github.com/vigil-k8s/vigil/config"
)

// TestAttestRefusesBadInputBeforeTheCluster: a past or malformed expiry, a missing, empty or
// directory evidence file are refused in one line naming the flag, before any request.
func TestAttestRefusesBadInputBeforeTheCluster(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "dr-report.txt")
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(good, []byte("DR test passed"), 0o600)
	os.WriteFile(empty, nil, 0o600)
	env := map[string]string{"HOME": dir, "XDG_STATE_HOME": filepath.Join(dir, "state"), "KUBECONFIG": filepath.Join(dir, "no-kubeconfig")}
	next := time.Now().UTC().AddDate(0, 1, 0).Format(time.DateOnly)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--file", good}, "--expires is required"},
		{[]string{"--file", good, "--expires", "2020-01-01"}, "--expires 2020-01-01 is not in the future"},
		{[]string{"--file", good, "--expires", "next tuesday"}, `--expires "next tuesday": want a date (YYYY-MM-DD) or an RFC 3339 time`},
		{[]string{"--expires", next}, "--file is required"},
		{[]string{"--file", empty, "--expires", next}, "is empty: an empty file is no evidence"},
		{[]string{"--file", dir, "--expires", next}, "is not a regular file"},
		{[]string{"--file", filepath.Join(dir, "nope"), "--expires", next}, "--file: stat "},
	} {
		_, errOut, code := runVigil(t, env, "", append([]string{"attest", "ops-dr-plan"}, tc.args...)...)
		if code == 0 || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "vigil attest: ") || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want one line with %q", tc.args, code, errOut, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "state")); !os.IsNotExist(err) {
		t.Errorf("a refused attestation wrote state: %v", err)
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-12-02":                time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC),
		"2027-03-31T12:00:00+02:00": time.Date(2027, 3, 31, 10, 0, 0, 0, time.UTC),
	} {
		if got, err := parseExpiry(in, now); err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseExpiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseExpiry("2026-12-01", now); err == nil {
		t.Error("today (00:00 already past) accepted")
	}
}

// TestCheckLaysTheContextsAttestations: vigil check on a live context (the inventory listed by
// a stand-in, the context resolved from a kubeconfig) shows the attestation stored for that
// context in the state directory: ops-dr-plan, unknown in the fixture, passes and its item
// reads met — attested by …, with the SHA-256 worked out here. The same inventory checked as
// another context stays unknown: attestations are per context.
func TestCheckLaysTheContextsAttestations(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: local-1, context: {cluster: c, user: u}}, {name: local-2, context: {cluster: c, user: u}}]
current-context: local-1
`), 0o600)
	env := map[string]string{"HOME": dir, "XDG_STATE_HOME": filepath.Join(dir, "state")}
	getenv := func(k string) string { return env[k] }

	content := []byte("DR test 2026-11-20: RPO 4 min, RTO 38 min\n")
	raw := sha256.Sum256(content)
	sum := hex.EncodeToString(raw[:])
	stateDir, _ := attest.StateDir(getenv)
	store := attest.ForContext(stateDir, "local-1")
	if _, err := store.SaveFile(content); err != nil {
		t.Fatal(err)
	}
	a := attest.Attestation{Context: "local-1", Check: "ops-dr-plan", SHA256: sum, Size: int64(len(content)), File: "dr.txt",
		KubeUser: "alice", LocalUser: "bob", Expires: time.Now().UTC().AddDate(0, 1, 0).Truncate(24 * time.Hour)}
	auditPath, _ := audit.DefaultPath(getenv)
	l, err := audit.Open(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := l.Append(a.Record())
	if err != nil {
		t.Fatal(err)
	}
	a.At, a.AuditSeq = rec.Time, rec.Seq
	if err = store.SaveRecord(a); err != nil {
		t.Fatal(err)
	}
	line := "attested by alice (local bob) on " + rec.Time.UTC().Format(time.DateOnly) + " until " + a.Expires.Format(time.DateOnly) + " (sha256 " + sum[:12] + "…)"

	for _, tc := range []struct{ context, verdict, why string }{{"local-1", "met", line}, {"local-2", "unverified", "1 of 1 checks undecided"}} {
		var out, errOut bytes.Buffer
		g := newGlobalFlags(getenv)
		*g.kube.KubeConfig, *g.kube.Context = kubeconfig, tc.context
		o := newCheckOptions(g, genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
		o.loadConfig = func() (config.Config, error) { return config.Default(), nil }
		o.listInventory = func(context.Context, *CheckOptions) (*checks.Inventory, error) {
			return load.Paths([]string{filepath.Join("..", "testdata", "checks", "ops-dr-plan", "unknown.yaml")}, nil)
		}
		c := newCheckCommand(o)
		c.SetArgs([]string{"--check", "ops-dr-plan", "-o", "json"})
		if code := ExitCode(c.ExecuteContext(context.Background())); code != ExitOK {
			t.Fatalf("%s: exit %d: %s", tc.context, code, errOut.String())
		}
		var doc struct {
			Items []struct{ Item, Verdict, Why string }
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		for _, it := range doc.Items {
			if it.Item == "Disaster recovery plan validated" && (it.Verdict != tc.verdict || it.Why != tc.why) {
				t.Errorf("%s: %s — %s; want %s — %s", tc.context, it.Verdict, it.Why, tc.verdict, tc.why)
			}
		}
	}
}
