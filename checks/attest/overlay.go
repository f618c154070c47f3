package attest

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/checks"
)

// Stored is an attestation as read from the state directory (or a bundle), with what its
// stored copy of the evidence file hashes to now.
type Stored struct {
	Attestation
	// FileSHA256 is the hex SHA-256 of the stored copy as read now; FileProblem says why it
	// could not be read ("" when it could).
	FileSHA256  string
	FileProblem string
}

// Chain is the audit log the attestations are checked against: the records whose hash chain
// verified, by sequence number, and why the rest did not.
type Chain struct {
	// Records are the verified records by Seq.
	Records map[int64]audit.Record
	// Problem says what is wrong with the log ("" when the whole chain verified); Missing
	// is true when there is no log at all.
	Problem string
	Missing bool
}

// ChainOf verifies an audit log's bytes (nil: no log) and keeps the records that verified.
func ChainOf(raw []byte) Chain {
	if raw == nil {
		return Chain{Missing: true, Problem: "there is no audit log"}
	}
	rep, err := audit.Verify(bytes.NewReader(raw))
	if err != nil {
		return Chain{Problem: err.Error()}
	}
	c := Chain{Records: map[int64]audit.Record{}, Problem: rep.Problem()}
	trusted := rep.Records
	if rep.Broken != nil && trusted > 0 {
		// A line's edit shows at the next line's prev hash: the line before the break is
		// as suspect as the broken one.
		trusted--
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 0; n < trusted && sc.Scan(); n++ {
		var r audit.Record
		if jsonUnmarshal(sc.Bytes(), &r) == nil {
			c.Records[r.Seq] = r
		}
	}
	return c
}

// Integrity says why s cannot be trusted whatever the date: its stored copy does not have
// its SHA-256 (altered, or gone), or the audit log does not hold the record it names, or
// holds one that disagrees (the stored attestation was edited). "" when it can.
func Integrity(s Stored, chain Chain) string {
	switch {
	case s.FileProblem != "":
		return "its stored evidence file cannot be read (" + s.FileProblem + ")"
	case s.FileSHA256 != s.SHA256:
		return fmt.Sprintf("its stored evidence file %s was altered: it hashes to sha256 %s, attested %s", s.File, s.FileSHA256, s.SHA256)
	}
	rec, ok := chain.Records[s.AuditSeq]
	switch {
	case !ok && chain.Missing:
		return fmt.Sprintf("the audit log that chains it (record %d) is missing", s.AuditSeq)
	case !ok && chain.Problem != "":
		return fmt.Sprintf("its audit record %d is not in the verified chain (%s)", s.AuditSeq, chain.Problem)
	case !ok:
		return fmt.Sprintf("the audit log has no record %d", s.AuditSeq)
	}
	want := s.Record()
	var differ []string
	for _, d := range []struct {
		field string
		same  bool
	}{
		{"action", rec.Action == want.Action}, {"phase", rec.Phase == want.Phase}, {"target", rec.Target == want.Target},
		{"sha256, size, file, expiry or local user", rec.Params == want.Params}, {"kube user", rec.User == want.User},
		{"context", rec.Context == want.Context}, {"note", rec.Reason == want.Reason}, {"time", rec.Time.Equal(s.At)},
	} {
		if !d.same {
			differ = append(differ, d.field)
		}
	}
	if len(differ) > 0 {
		return fmt.Sprintf("it disagrees with its audit record %d on %s: the stored attestation was edited", s.AuditSeq, joinAnd(differ))
	}
	return ""
}

// State decides whether s holds for kubeContext at now: made for that context, intact
// (Integrity) and not expired. It returns s as findings carry it, with why not.
func State(s Stored, kubeContext string, chain Chain, now time.Time) checks.Attested {
	why := ""
	switch {
	case s.Context != kubeContext:
		why = fmt.Sprintf("it was made for context %q, not %q", s.Context, kubeContext)
	default:
		why = Integrity(s, chain)
	}
	if why == "" && !now.Before(s.Expires) {
		why = "it expired on " + checks.FormatUntil(s.Expires)
	}
	return s.Attested(why == "", why)
}

// Apply returns findings with the attestations of kubeContext laid over them: a finding
// vigil could not decide (unknown, or a required check's nothing-to-evaluate) of a check an
// attestation covers becomes a pass, its evidence the attestation and what vigil could not
// see, while the attestation holds; while it does not (expired, altered, edited, another
// context's) the finding stays as it was and its evidence says why the attestation no longer
// stands in. A failing finding stays failing and says that the attestation does not apply.
// Where several attestations cover a finding, one that holds wins, then the newest. findings
// is not modified.
func Apply(cat []checks.Check, findings []checks.Finding, atts []Stored, kubeContext string, chain Chain, now time.Time) []checks.Finding {
	out := slices.Clone(findings)
	if len(atts) == 0 {
		return out
	}
	states := make([]checks.Attested, len(atts))
	for i, s := range atts {
		states[i] = State(s, kubeContext, chain, now)
	}
	byID := map[string]checks.Check{}
	for _, c := range cat {
		byID[c.ID] = c
	}
	for i, f := range out {
		c, ok := byID[f.Check]
		if !ok || !(attestable(c, f) || f.Status == checks.Fail) {
			continue
		}
		best := -1
		for j, s := range atts {
			if !s.TargetOf().covers(c) {
				continue
			}
			if best < 0 || better(states[j], states[best]) {
				best = j
			}
		}
		if best < 0 {
			continue
		}
		a := states[best]
		switch {
		case f.Status == checks.Fail:
			a.Holds, a.Reverted = false, "the check fails: vigil sees it, and no attestation stands in for a failure"
			out[i].Evidence = f.Evidence + " (" + a.RevertedText() + ")"
		case a.Holds:
			ev := a.String()
			if a.Note != "" {
				ev += ": " + a.Note
			}
			out[i].Status, out[i].Remediation = checks.Pass, ""
			out[i].Evidence = ev + "; in place of " + string(f.Status) + ": " + f.Evidence
		default:
			out[i].Evidence = f.Evidence + " (" + a.RevertedText() + ")"
		}
		out[i].Attestation = &a
	}
	return out
}

// better orders attestations covering one finding: one that holds, then the newest.
func better(a, b checks.Attested) bool {
	if a.Holds != b.Holds {
		return a.Holds
	}
	return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.AuditSeq, b.AuditSeq)) > 0
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return fmt.Sprintf("%s and %s", joinComma(s[:len(s)-1]), s[len(s)-1])
}

func joinComma(s []string) string {
	out := s[0]
	for _, x := range s[1:] {
		out += ", " + x
	}
	return out
}
