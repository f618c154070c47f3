// Package attest keeps the attestations of `vigil attest`: evidence for a check or checklist
// item that the API cannot show (an EncryptionConfiguration, a DR test report, the on-call
// rota), vouched for by a person until a date, with the evidence file's SHA-256 and a copy of
// the file, per kube context, each chained into the audit log by one record.
//
// The pure part decides: which check or item a name means (Resolve), whether it may be
// attested (Attestable: only what vigil could not decide; a failure stays a failure), whether
// an attestation still holds (State: not expired, the stored copy has its SHA-256, the audit
// log holds its record) and what the findings then say (Apply). Store reads and writes the
// state directory. The package never imports client-go.
package attest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/checks"
)

// Action is the audit log's action ID of an attestation.
const Action = "attest"

// Attestation is one stored attestation: what a person vouched for, with which file, until
// when, and the audit record that chains it.
type Attestation struct {
	// Context and Server name the kube context it was made for: a cluster's evidence is not
	// another's.
	Context string `json:"context"`
	Server  string `json:"server,omitempty"`
	// Check is the attested check's ID; or Group and Item name the attested checklist item
	// (every check serving it).
	Check string       `json:"check,omitempty"`
	Group checks.Group `json:"group,omitempty"`
	Item  string       `json:"item,omitempty"`
	// SHA256 is the hex SHA-256 of the evidence file, Size its length, File its base name.
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	File   string `json:"file"`
	// KubeUser is who the API server said the attester is (SelfSubjectReview; "admin as
	// scoped" when the attester impersonated scoped with --as); LocalUser the
	// operating-system user who ran vigil attest.
	KubeUser  string `json:"kubeUser"`
	LocalUser string `json:"localUser"`
	// At is when it was attested (its audit record's time); Expires when it stops holding.
	At      time.Time `json:"at"`
	Expires time.Time `json:"expires"`
	// Note is the attester's note.
	Note string `json:"note,omitempty"`
	// AuditSeq is the sequence number of its record in the audit log.
	AuditSeq int64 `json:"auditSeq"`
}

// Target is what the attestation is for, as the audit log's Target: "check/<id>" or
// "item/<group>/<item>".
func (a Attestation) Target() string {
	if a.Check != "" {
		return "check/" + a.Check
	}
	return "item/" + string(a.Group) + "/" + a.Item
}

// Params are the attestation's parameters as its audit record carries them; the record and
// the stored attestation must agree on them.
func (a Attestation) Params() string {
	return fmt.Sprintf("sha256=%s size=%d file=%q expires=%s localUser=%q",
		a.SHA256, a.Size, a.File, a.Expires.UTC().Format(time.RFC3339), a.LocalUser)
}

// Record is the audit record that chains the attestation (Seq, Time and Prev are the log's).
func (a Attestation) Record() audit.Record {
	return audit.Record{Phase: audit.PhaseFinished, Result: "succeeded", User: a.KubeUser, Context: a.Context, Server: a.Server,
		Action: Action, Target: a.Target(), Params: a.Params(), Reason: a.Note}
}

// Key is the attestation's file name stem in its context's directory: the check ID, or
// "item-" and the item's slug. A new attestation of the same target replaces the old one
// (the audit log keeps both).
func (a Attestation) Key() string {
	if a.Check != "" {
		return a.Check
	}
	return "item-" + Slug(a.Item)
}

// Slug is a checklist item's name in lower case with runs of other characters as one "-":
// "Backup and disaster recovery" is backup-and-disaster-recovery.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	return b.String()
}

// Attested is the attestation as findings and reports carry it, with whether it holds.
func (a Attestation) Attested(holds bool, reverted string) checks.Attested {
	return checks.Attested{Target: a.Target(), SHA256: a.SHA256, File: a.File, By: a.KubeUser, LocalUser: a.LocalUser,
		At: a.At, Until: a.Expires, Note: a.Note, AuditSeq: a.AuditSeq, Holds: holds, Reverted: reverted}
}

// Marshal is the attestation as stored: indented JSON and a newline.
func (a Attestation) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(a, "", "  ")
	return append(b, '\n'), err
}

// Target names a check or a checklist item to attest.
type Target struct {
	// Check is set for a check; Group and Item for a checklist item.
	Check string
	Group checks.Group
	Item  string
}

func (t Target) String() string {
	if t.Check != "" {
		return "check " + t.Check
	}
	return fmt.Sprintf("checklist item %q (%s)", t.Item, t.Group)
}

// Resolve finds what name means in cat: a check ID, else a checklist item by its text
// (any case) or its Slug.
func Resolve(cat []checks.Check, name string) (Target, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Target{}, errors.New("name a check ID or a checklist item (vigil check -o json lists both)")
	}
	for _, c := range cat {
		if c.ID == name {
			return Target{Check: c.ID}, nil
		}
	}
	var hits []checks.ChecklistItem
	for _, it := range items(cat) {
		if strings.EqualFold(it.Item, name) || Slug(it.Item) == Slug(name) {
			hits = append(hits, it)
		}
	}
	switch len(hits) {
	case 1:
		return Target{Group: hits[0].Group, Item: hits[0].Item}, nil
	case 0:
		return Target{}, fmt.Errorf("%q is neither a check ID nor a checklist item (docs/checks.md lists both; vigil check -o json too)", name)
	}
	return Target{}, fmt.Errorf("%q names %d checklist items: use a check ID", name, len(hits))
}

// items are the checklist's items followed by any item of cat not on it, as Verdicts lists them.
func items(cat []checks.Check) []checks.ChecklistItem {
	out := slices.Clone(checks.Checklist)
	for _, c := range cat {
		if !slices.ContainsFunc(out, func(it checks.ChecklistItem) bool { return it.Group == c.Group && it.Item == c.Item }) {
			out = append(out, checks.ChecklistItem{Group: c.Group, Item: c.Item})
		}
	}
	return out
}

// covers reports whether an attestation of t stands in for check c's findings.
func (t Target) covers(c checks.Check) bool {
	if t.Check != "" {
		return c.ID == t.Check
	}
	return c.Group == t.Group && c.Item == t.Item
}

// TargetOf is the attestation's target.
func (a Attestation) TargetOf() Target { return Target{Check: a.Check, Group: a.Group, Item: a.Item} }

// attestable reports whether a finding of check c is one an attestation stands in for: an
// unknown, or the not-applicable finding of a check the checklist requires (nothing shown).
func attestable(c checks.Check, f checks.Finding) bool {
	if f.Status == checks.Unknown {
		return true
	}
	_, required := checks.Required(c.ID)
	return required && f.Status == checks.NotApplicable
}

// Attestable says whether t may be attested given the findings of cat (before any
// attestation): nil when at least one check it covers has a finding vigil could not decide
// (unknown, or a required check with nothing to evaluate) and none fails. The error is one
// line naming the check and what it saw: a failing check stays failing, a pass needs no
// attestation.
func Attestable(cat []checks.Check, findings []checks.Finding, t Target) error {
	var covered []checks.Check
	for _, c := range cat {
		if t.covers(c) {
			covered = append(covered, c)
		}
	}
	if len(covered) == 0 {
		return fmt.Errorf("no check of this run serves %s", t)
	}
	open := 0
	var warns []string
	for _, c := range covered {
		for _, f := range findings {
			if f.Check != c.ID {
				continue
			}
			switch {
			case f.Status == checks.Fail:
				return fmt.Errorf("%s cannot be attested: check %s fails on %s (%s); a failing check stays failing, attestations only stand in for what vigil cannot see",
					t, c.ID, f.Resource, oneLine(f.Evidence))
			case attestable(c, f):
				open++
			case f.Status == checks.Warn:
				warns = append(warns, fmt.Sprintf("%s warns on %s (%s)", c.ID, f.Resource, oneLine(f.Evidence)))
			}
		}
	}
	switch {
	case open > 0:
		return nil
	case len(warns) > 0:
		return fmt.Errorf("%s cannot be attested: nothing of it is unknown, and %s: a warning is vigil's own finding, fix it", t, warns[0])
	}
	return fmt.Errorf("%s cannot be attested: nothing of it is unknown (vigil decided every finding: see vigil check)", t)
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
