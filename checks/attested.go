package checks

import (
	"fmt"
	"time"
)

// Attested is an attestation as a finding or a checklist item carries it: evidence from
// outside the API (an EncryptionConfiguration, a DR test report) that a person vouched for
// with `vigil attest`, for a check or item vigil could not decide. checks/attest keeps the
// records and decides whether one still holds; this is what the reports and the screen show.
type Attested struct {
	// Target is what was attested: "check/<id>" or "item/<group>/<item>".
	Target string `json:"target"`
	// SHA256 is the hex SHA-256 of the evidence file; File its name when attested.
	SHA256 string `json:"sha256"`
	File   string `json:"file"`
	// By is the kube user the API server authenticated (SelfSubjectReview); LocalUser the
	// operating-system user who ran vigil attest.
	By        string `json:"by"`
	LocalUser string `json:"localUser"`
	// At is when it was attested, Until when it stops holding (UTC).
	At    time.Time `json:"at"`
	Until time.Time `json:"until"`
	// Note is the attester's note, if any.
	Note string `json:"note,omitempty"`
	// AuditSeq is the sequence number of its record in the hash-chained audit log.
	AuditSeq int64 `json:"auditSeq"`
	// Holds is true while the attestation stands in for the unknown: not expired, the stored
	// file still has its SHA-256 and the audit log still holds its record. Reverted says why
	// it no longer holds.
	Holds    bool   `json:"holds"`
	Reverted string `json:"reverted,omitempty"`
}

// shortSum is how many hex digits of a SHA-256 the one-line text shows.
const shortSum = 12

// String is the attestation in one line: "attested by alice (local bob) on 2026-12-01 until
// 2027-03-31 (sha256 0123456789ab…)".
func (a Attested) String() string {
	sum := a.SHA256
	if len(sum) > shortSum {
		sum = sum[:shortSum] + "…"
	}
	by := a.By
	if a.LocalUser != "" {
		by += " (local " + a.LocalUser + ")"
	}
	return fmt.Sprintf("attested by %s on %s until %s (sha256 %s)", by, a.At.UTC().Format(time.DateOnly), FormatUntil(a.Until), sum)
}

// FormatUntil is an expiry as vigil prints it: the date alone when it falls at midnight UTC
// (--expires DATE), else the time in RFC 3339.
func FormatUntil(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

// same reports whether b is the same attestation as a (one record of the audit log).
func (a Attested) same(b Attested) bool {
	return a.Target == b.Target && a.AuditSeq == b.AuditSeq && a.SHA256 == b.SHA256
}

// revertedText says, for an attestation that no longer holds, whose it was and why not.
func (a Attested) revertedText() string {
	return fmt.Sprintf("the attestation by %s on %s no longer holds: %s", a.By, a.At.UTC().Format(time.DateOnly), a.Reverted)
}

// RevertedText is revertedText for the packages that set findings' evidence.
func (a Attested) RevertedText() string { return a.revertedText() }
