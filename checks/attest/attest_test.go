package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/checks"
)

const atRest = "secrets-encrypted-at-rest"

var (
	attestedAt = time.Date(2026, 12, 1, 23, 10, 0, 0, time.UTC)
	expires    = time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)
	evidence   = []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n")
)

// estate is the whole catalogue with one passing finding per check, except the ones given.
func estate(except map[string]checks.Finding) ([]checks.Check, []checks.Finding) {
	cat := checks.Catalogue()
	var fs []checks.Finding
	for _, c := range cat {
		f, ok := except[c.ID]
		if !ok {
			f = checks.Finding{Status: checks.Pass, Resource: checks.Resource{Kind: "Cluster"}, Evidence: "fine"}
		}
		f.Check = c.ID
		fs = append(fs, f)
	}
	return cat, fs
}

func unknownAtRest() map[string]checks.Finding {
	return map[string]checks.Finding{atRest: {Status: checks.Unknown, Resource: checks.Resource{Kind: "Cluster"},
		Evidence: "no kube-apiserver mirror pod in kube-system: its flags cannot be read"}}
}

// sum is the evidence's SHA-256 computed here, not by the package.
func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// attested returns an attestation of target on local-1 chained into a real audit log, and
// that log's chain.
func attested(t *testing.T, check string, group checks.Group, item string) (Stored, Chain) {
	t.Helper()
	a := Attestation{Context: "local-1", Server: "https://127.0.0.1:6443", Check: check, Group: group, Item: item,
		SHA256: sum(evidence), Size: int64(len(evidence)), File: "encryption-config.yaml",
		KubeUser: "alice", LocalUser: "bob", Expires: expires, Note: "CHG-42"}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = l.Append(audit.Record{Phase: audit.PhaseRefused, Action: "scale", Target: "deployment/x/y"}); err != nil {
		t.Fatal(err)
	}
	rec, err := l.Append(a.Record())
	if err != nil {
		t.Fatal(err)
	}
	a.At, a.AuditSeq = rec.Time, rec.Seq
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Stored{Attestation: a, FileSHA256: sum(evidence)}, ChainOf(raw)
}

func verdictOf(t *testing.T, cat []checks.Check, fs []checks.Finding, item string) checks.ItemVerdict {
	t.Helper()
	for _, v := range checks.Verdicts(cat, fs) {
		if v.Item == item {
			return v
		}
	}
	t.Fatalf("no verdict for %q", item)
	return checks.ItemVerdict{}
}

func findingOf(fs []checks.Finding, check string) checks.Finding {
	i := slices.IndexFunc(fs, func(f checks.Finding) bool { return f.Check == check })
	return fs[i]
}

// TestAttestedUnknownIsMet: an attestation that holds turns the unknown finding into a pass
// and its item into met, reading "attested by X on D until E (sha256 …)"; the proven score
// and the coverage move with it, the input findings stay as they were.
func TestAttestedUnknownIsMet(t *testing.T) {
	cat, fs := estate(unknownAtRest())
	s, chain := attested(t, atRest, "", "")
	before := verdictOf(t, cat, fs, "Secrets encrypted at rest")
	if before.Verdict != checks.Unverified {
		t.Fatalf("before: %s, want unverified", before.Verdict)
	}
	got := Apply(cat, fs, []Stored{s}, "local-1", chain, attestedAt.Add(time.Hour))
	if findingOf(fs, atRest).Status != checks.Unknown {
		t.Fatal("Apply modified its input")
	}
	f := findingOf(got, atRest)
	wantLine := "attested by alice (local bob) on " + s.At.UTC().Format(time.DateOnly) + " until 2027-03-31 (sha256 " + sum(evidence)[:12] + "…)"
	if f.Status != checks.Pass || f.Attestation == nil || !f.Attestation.Holds || f.Attestation.SHA256 != sum(evidence) {
		t.Fatalf("finding %+v", f)
	}
	if !strings.HasPrefix(f.Evidence, wantLine+": CHG-42; in place of unknown: no kube-apiserver mirror pod") {
		t.Errorf("evidence %q", f.Evidence)
	}
	v := verdictOf(t, cat, got, "Secrets encrypted at rest")
	if v.Verdict != checks.Met || v.Why != wantLine || len(v.Attestations) != 1 {
		t.Errorf("verdict %s — %s (%d attestations), want met — %s", v.Verdict, v.Why, len(v.Attestations), wantLine)
	}
	sb, sa := checks.ComputeScore(cat, fs), checks.ComputeScore(cat, got)
	if sa.Coverage.Met != sb.Coverage.Met+1 || *sa.Proven.Overall <= *sb.Proven.Overall {
		t.Errorf("coverage met %d → %d, proven %.1f → %.1f", sb.Coverage.Met, sa.Coverage.Met, *sb.Proven.Overall, *sa.Proven.Overall)
	}
}

// TestAttestationReverts: expired, altered file, edited record, missing audit record or
// log, another context: the finding stays unknown and its evidence and the item say why.
func TestAttestationReverts(t *testing.T) {
	cat, fs := estate(unknownAtRest())
	for _, tc := range []struct {
		name   string
		change func(s *Stored, c *Chain)
		now    time.Time
		ctx    string
		why    string
	}{
		{"expired", nil, expires, "local-1", "it expired on 2027-03-31"},
		{"expired a second later", nil, expires.Add(time.Second), "local-1", "it expired on 2027-03-31"},
		{"file altered", func(s *Stored, _ *Chain) { s.FileSHA256 = sum([]byte("something else")) }, attestedAt, "local-1",
			"its stored evidence file encryption-config.yaml was altered: it hashes to sha256 " + sum([]byte("something else"))},
		{"file gone", func(s *Stored, _ *Chain) { s.FileSHA256, s.FileProblem = "", "no such file" }, attestedAt, "local-1",
			"its stored evidence file cannot be read (no such file)"},
		{"expiry edited", func(s *Stored, _ *Chain) { s.Expires = s.Expires.AddDate(1, 0, 0) }, attestedAt, "local-1",
			"it disagrees with its audit record 2 on sha256, size, file, expiry or local user: the stored attestation was edited"},
		{"attester edited", func(s *Stored, _ *Chain) { s.KubeUser = "mallory" }, attestedAt, "local-1",
			"it disagrees with its audit record 2 on kube user: the stored attestation was edited"},
		{"record gone", func(_ *Stored, c *Chain) { delete(c.Records, 2) }, attestedAt, "local-1", "the audit log has no record 2"},
		{"no audit log", func(_ *Stored, c *Chain) { *c = ChainOf(nil) }, attestedAt, "local-1", "the audit log that chains it (record 2) is missing"},
		{"other context", nil, attestedAt, "local-2", `it was made for context "local-1", not "local-2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, chain := attested(t, atRest, "", "")
			if tc.change != nil {
				tc.change(&s, &chain)
			}
			got := Apply(cat, fs, []Stored{s}, tc.ctx, chain, tc.now)
			f := findingOf(got, atRest)
			if f.Status != checks.Unknown || f.Attestation == nil || f.Attestation.Holds || !strings.HasPrefix(f.Attestation.Reverted, tc.why) {
				t.Fatalf("finding %s %+v, want unknown reverted %q", f.Status, f.Attestation, tc.why)
			}
			if !strings.Contains(f.Evidence, "no kube-apiserver mirror pod") || !strings.Contains(f.Evidence, "on "+s.At.UTC().Format(time.DateOnly)+" no longer holds: "+tc.why) {
				t.Errorf("evidence %q", f.Evidence)
			}
			v := verdictOf(t, cat, got, "Secrets encrypted at rest")
			if v.Verdict != checks.Unverified || !strings.Contains(v.Why, "no longer holds: "+tc.why) {
				t.Errorf("verdict %s — %s", v.Verdict, v.Why)
			}
		})
	}
}

// TestEditedAuditLogRevertsAttestation: the audit record itself edited (the expiry in its
// params moved to match an edited attestation) breaks the chain, and the attestation it
// chained no longer holds.
func TestEditedAuditLogRevertsAttestation(t *testing.T) {
	s, _ := attested(t, atRest, "", "")
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, _ := audit.Open(path)
	l.Append(audit.Record{Phase: audit.PhaseRefused, Action: "scale"})
	rec, _ := l.Append(s.Record())
	l.Append(audit.Record{Phase: audit.PhaseRefused, Action: "scale"})
	s.At = rec.Time
	raw, _ := os.ReadFile(path)
	if why := Integrity(s, ChainOf(raw)); why != "" {
		t.Fatalf("intact: %s", why)
	}
	s.Expires = s.Expires.AddDate(5, 0, 0)
	edited := strings.Replace(string(raw), "expires=2027-03-31", "expires=2032-03-31", 1)
	why := Integrity(s, ChainOf([]byte(edited)))
	if !strings.HasPrefix(why, "its audit record 2 is not in the verified chain (chain broken at line 3") {
		t.Errorf("edited log: %q", why)
	}
}

// TestItemAttestationCoversItsChecks: an item's attestation stands in for the unknown
// findings of every check serving it; a check of the item that passes on its own keeps its
// evidence.
func TestItemAttestationCoversItsChecks(t *testing.T) {
	dr := map[string]checks.Finding{}
	var drChecks []string
	for _, c := range checks.Catalogue() {
		if c.Item == "Disaster recovery plan validated" {
			drChecks = append(drChecks, c.ID)
			dr[c.ID] = checks.Finding{Status: checks.Unknown, Resource: checks.Resource{Kind: "Cluster"}, Evidence: "cannot see " + c.ID}
		}
	}
	if len(drChecks) < 2 {
		t.Fatalf("the DR item has %d checks; this test wants several", len(drChecks))
	}
	// The first passes on its own.
	dr[drChecks[0]] = checks.Finding{Status: checks.Pass, Resource: checks.Resource{Kind: "Cluster"}, Evidence: "seen"}
	cat, fs := estate(dr)
	target, err := Resolve(cat, "disaster-recovery-plan-validated")
	if err != nil || target.Item != "Disaster recovery plan validated" || target.Group != checks.Operations {
		t.Fatalf("Resolve: %+v %v", target, err)
	}
	if err := Attestable(cat, fs, target); err != nil {
		t.Fatal(err)
	}
	s, chain := attested(t, "", target.Group, target.Item)
	got := Apply(cat, fs, []Stored{s}, "local-1", chain, attestedAt)
	if f := findingOf(got, drChecks[0]); f.Evidence != "seen" || f.Attestation != nil {
		t.Errorf("the passing check changed: %+v", f)
	}
	for _, id := range drChecks[1:] {
		if f := findingOf(got, id); f.Status != checks.Pass || !strings.HasSuffix(f.Evidence, "in place of unknown: cannot see "+id) {
			t.Errorf("%s: %s %q", id, f.Status, f.Evidence)
		}
	}
	v := verdictOf(t, cat, got, target.Item)
	if v.Verdict != checks.Met || !strings.Contains(v.Why, drChecks[0]+": 1 pass") || !strings.Contains(v.Why, drChecks[1]+": attested by alice") {
		t.Errorf("verdict %s — %s", v.Verdict, v.Why)
	}
}

// TestOnlyUnknownCanBeAttested: a failing check (or item) is refused with one line that says
// it fails and stays failing; so are a pass and a warning; an unknown and a required check's
// nothing-to-evaluate are attestable.
func TestOnlyUnknownCanBeAttested(t *testing.T) {
	cluster := checks.Resource{Kind: "Cluster"}
	for _, tc := range []struct {
		name   string
		f      checks.Finding
		target string
		err    string
	}{
		{"unknown", checks.Finding{Status: checks.Unknown, Resource: cluster}, atRest, ""},
		{"required, nothing to evaluate", checks.Finding{Status: checks.NotApplicable, Resource: cluster}, atRest, ""},
		{"fails", checks.Finding{Status: checks.Fail, Resource: cluster, Evidence: "no --encryption-provider-config"}, atRest,
			"check secrets-encrypted-at-rest cannot be attested: check secrets-encrypted-at-rest fails on Cluster (no --encryption-provider-config); a failing check stays failing"},
		{"item fails", checks.Finding{Status: checks.Fail, Resource: cluster, Evidence: "no\n--encryption-provider-config"}, "Secrets Encrypted At Rest",
			`checklist item "Secrets encrypted at rest" (Security) cannot be attested: check secrets-encrypted-at-rest fails on Cluster (no --encryption-provider-config)`},
		{"passes", checks.Finding{Status: checks.Pass, Resource: cluster}, atRest, "nothing of it is unknown"},
		{"warns", checks.Finding{Status: checks.Warn, Resource: cluster, Evidence: "hmm"}, atRest, "secrets-encrypted-at-rest warns on Cluster (hmm): a warning is vigil's own finding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cat, fs := estate(map[string]checks.Finding{atRest: tc.f})
			target, err := Resolve(cat, tc.target)
			if err != nil {
				t.Fatal(err)
			}
			err = Attestable(cat, fs, target)
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n")):
				t.Errorf("error %v, want one line containing %q", err, tc.err)
			}
		})
	}
	// And a failing finding stays failing under an attestation made while it was unknown.
	cat, fs := estate(map[string]checks.Finding{atRest: {Status: checks.Fail, Resource: cluster, Evidence: "no --encryption-provider-config"}})
	s, chain := attested(t, atRest, "", "")
	f := findingOf(Apply(cat, fs, []Stored{s}, "local-1", chain, attestedAt), atRest)
	if f.Status != checks.Fail || !strings.Contains(f.Evidence, "no attestation stands in for a failure") {
		t.Errorf("failing finding under an attestation: %s %q", f.Status, f.Evidence)
	}
}

func TestResolve(t *testing.T) {
	cat := checks.Catalogue()
	for name, want := range map[string]Target{
		atRest:                          {Check: atRest},
		"Secrets encrypted at rest":     {Group: checks.Security, Item: "Secrets encrypted at rest"},
		"secrets ENCRYPTED at rest":     {Group: checks.Security, Item: "Secrets encrypted at rest"},
		"on-call-procedures-documented": {Group: checks.Operations, Item: "On-call procedures documented"},
	} {
		if got, err := Resolve(cat, name); err != nil || got != want {
			t.Errorf("Resolve(%q) = %+v, %v; want %+v", name, got, err, want)
		}
	}
	if _, err := Resolve(cat, "secrets-encrypted"); err == nil || !strings.Contains(err.Error(), "neither a check ID nor a checklist item") {
		t.Errorf("unknown name: %v", err)
	}
}

// TestStoreRoundTrip: a saved attestation loads with its stored copy hashed as crypto/sha256
// hashes the file; altering the copy shows in the hash Load reports; contexts do not share
// a directory, whatever their names.
func TestStoreRoundTrip(t *testing.T) {
	state := t.TempDir()
	st := ForContext(state, "arn:aws:eks:eu-west-1:1234:cluster/prod")
	s, _ := attested(t, atRest, "", "")
	got, err := st.SaveFile(evidence)
	if err != nil || got != sum(evidence) {
		t.Fatalf("SaveFile: %s %v", got, err)
	}
	if err = st.SaveRecord(s.Attestation); err != nil {
		t.Fatal(err)
	}
	loaded, problems, err := st.Load()
	if err != nil || len(problems) > 0 || len(loaded) != 1 {
		t.Fatalf("Load: %v %v %v", loaded, problems, err)
	}
	if l := loaded[0]; l.FileSHA256 != sum(evidence) || !l.At.Equal(s.At) || l.Attestation.Params() != s.Params() {
		t.Errorf("loaded %+v", l)
	}
	copyPath := filepath.Join(st.Dir, "files", sum(evidence))
	if b, rerr := os.ReadFile(copyPath); rerr != nil || string(b) != string(evidence) {
		t.Fatalf("stored copy: %q %v", b, rerr)
	}
	if err = os.WriteFile(copyPath, []byte("altered"), 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, _, _ = st.Load()
	if loaded[0].FileSHA256 != sum([]byte("altered")) {
		t.Errorf("after altering, Load hashes %s", loaded[0].FileSHA256)
	}

	seen := map[string]string{}
	for _, name := range []string{"local-1", "..", ".", "a/b", "a%2Fb", "", "arn:aws:eks:eu-west-1:1234:cluster/prod"} {
		d := ContextDir(name)
		if strings.ContainsAny(d, "/\\") || d == "." || d == ".." || d == "" {
			t.Errorf("ContextDir(%q) = %q is not one plain directory", name, d)
		}
		if other, dup := seen[d]; dup {
			t.Errorf("contexts %q and %q share directory %q", other, name, d)
		}
		seen[d] = name
	}
}
