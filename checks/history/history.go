// Package history is what vigil check remembers of each live evaluation (a
// summary: the scores, the coverage, per check its counts by status, per
// checklist item its verdict, and the failing findings by name) and the
// drift between two of them: what changed since a date. It is pure: the
// caller reads and appends the file (one JSON entry per line).
package history

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigil-k8s/vigil/checks"
)

// Entry is one evaluation's summary.
type Entry struct {
	Time    time.Time `json:"time"`
	Context string    `json:"context"`
	// Observed and Proven are the overall scores (nil: nothing scored).
	Observed *float64 `json:"observed"`
	Proven   *float64 `json:"proven"`
	// Decided and Items are the coverage: checklist items decided of all.
	Decided int `json:"decided"`
	Items   int `json:"items"`
	// Checks counts each check's findings by status.
	Checks map[string]map[checks.Status]int `json:"checks"`
	// Verdicts is each checklist item's verdict, by the item's text.
	Verdicts map[string]checks.Verdict `json:"verdicts"`
	// Failing are the failing findings, "check resource", sorted.
	Failing []string `json:"failing"`
	// Unknown are the unknown findings, "check resource", sorted (entries
	// recorded before 2026-12-06 have none).
	Unknown []string `json:"unknown,omitempty"`
	// Scope is what the evaluation looked at (entries recorded before
	// 2026-12-07 have none, and are compared with nothing that has one).
	Scope *Scope `json:"scope,omitempty"`
}

// Scope is what one evaluation looked at: the namespaces listed and who the API server
// listed them for. Two evaluations of different scopes read different objects (another
// -n, an identity that may read less), so what differs between them is not drift: they
// are not compared.
type Scope struct {
	// Namespaces are the namespaces evaluated, sorted.
	Namespaces []string `json:"namespaces"`
	// Identity is who the requests were authorized as (Identity).
	Identity string `json:"identity"`
}

// NewScope is the scope of an evaluation of namespaces (in any order) by identity.
func NewScope(namespaces []string, identity string) *Scope {
	ns := slices.Clone(namespaces)
	slices.Sort(ns)
	return &Scope{Namespaces: slices.Compact(ns), Identity: identity}
}

// Identity names who the API server authorizes a connection's requests as: the
// kubeconfig user, the user it impersonates (--as), or "anonymous" when the connection
// carries no credentials.
func Identity(user, as string, anonymous bool) string {
	switch {
	case as != "":
		return user + " as " + as
	case anonymous:
		return "anonymous"
	}
	return user
}

// String is the scope in words: "namespaces a, b by user" ("by user as other" with --as).
func (s *Scope) String() string {
	if s == nil {
		return "scope not recorded"
	}
	return "namespaces " + strings.Join(s.Namespaces, ", ") + " by " + s.Identity
}

// Comparable says whether two evaluations looked at the same thing: both recorded their
// scope and it is the same.
func Comparable(a, b Entry) bool {
	return a.Scope != nil && b.Scope != nil && a.Scope.Identity == b.Scope.Identity &&
		slices.Equal(a.Scope.Namespaces, b.Scope.Namespaces)
}

// Like is the entries comparable with e, in their order.
func Like(entries []Entry, e Entry) []Entry {
	var out []Entry
	for _, r := range entries {
		if Comparable(r, e) {
			out = append(out, r)
		}
	}
	return out
}

// Summarize is the entry of one evaluation.
func Summarize(kubeContext string, at time.Time, findings []checks.Finding, items []checks.ItemVerdict, score checks.Score) Entry {
	e := Entry{Time: at.UTC(), Context: kubeContext, Observed: score.Overall, Proven: score.Proven.Overall,
		Decided: score.Coverage.Decided, Items: score.Coverage.Items,
		Checks: map[string]map[checks.Status]int{}, Verdicts: map[string]checks.Verdict{}, Failing: []string{}}
	for _, f := range findings {
		if e.Checks[f.Check] == nil {
			e.Checks[f.Check] = map[checks.Status]int{}
		}
		e.Checks[f.Check][f.Status]++
		switch f.Status {
		case checks.Fail:
			e.Failing = append(e.Failing, failingKey(f))
		case checks.Unknown:
			e.Unknown = append(e.Unknown, failingKey(f))
		}
	}
	sort.Strings(e.Failing)
	sort.Strings(e.Unknown)
	for _, it := range items {
		e.Verdicts[it.Item] = it.Verdict
	}
	return e
}

func failingKey(f checks.Finding) string { return f.Check + " " + f.Resource.String() }

// Read returns the entries of a history file in order; lines that are not
// an entry (a write cut short) are counted in skipped, not fatal.
func Read(r io.Reader) (entries []Entry, skipped int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	for sc.Scan() {
		var e Entry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Time.IsZero() {
			skipped++
			continue
		}
		entries = append(entries, e)
	}
	return entries, skipped, sc.Err()
}

// Line is e as one line of the history file.
func Line(e Entry) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// At returns the last entry at or before t: the state as of t.
func At(entries []Entry, t time.Time) (Entry, bool) {
	var out Entry
	found := false
	for _, e := range entries {
		if !e.Time.After(t) && (!found || !e.Time.Before(out.Time)) {
			out, found = e, true
		}
	}
	return out, found
}

// Drift is what changed between two evaluations.
type Drift struct {
	Since time.Time `json:"since"`
	Now   time.Time `json:"now"`
	// Observed and Proven are the overall scores then and now.
	Observed [2]*float64 `json:"observed"`
	Proven   [2]*float64 `json:"proven"`
	// Coverage is the items decided then and now.
	Coverage [2]int `json:"coverage"`
	// Items are the checklist items whose verdict changed.
	Items []ItemChange `json:"items"`
	// NewFailures failed now and not then; Fixed failed then and not now, and
	// is decided now; Unseen failed then and is not decided now: its finding,
	// or its whole check, is unknown (access lost, an API that stopped
	// answering) or was not run. Not fixed: nobody knows.
	NewFailures []string `json:"newFailures"`
	Fixed       []string `json:"fixed"`
	Unseen      []string `json:"unseen"`
	// Checks are the checks whose failing count changed.
	Checks []CheckChange `json:"checks"`
}

// ItemChange is one checklist item's verdict then and now.
type ItemChange struct {
	Item string         `json:"item"`
	From checks.Verdict `json:"from"`
	To   checks.Verdict `json:"to"`
}

// CheckChange is one check's failing findings then and now.
type CheckChange struct {
	Check string `json:"check"`
	From  int    `json:"from"`
	To    int    `json:"to"`
}

// Between is the drift from then to now, two evaluations of the same scope (Comparable):
// between others it would count what one read and the other did not as changes.
func Between(then, now Entry) Drift {
	d := Drift{Since: then.Time, Now: now.Time, Observed: [2]*float64{then.Observed, now.Observed},
		Proven: [2]*float64{then.Proven, now.Proven}, Coverage: [2]int{then.Decided, now.Decided},
		Items: []ItemChange{}, NewFailures: []string{}, Fixed: []string{}, Unseen: []string{}, Checks: []CheckChange{}}
	for item, v := range now.Verdicts {
		if was, ok := then.Verdicts[item]; ok && was != v {
			d.Items = append(d.Items, ItemChange{item, was, v})
		}
	}
	sort.Slice(d.Items, func(i, j int) bool { return d.Items[i].Item < d.Items[j].Item })
	for _, f := range now.Failing {
		if _, ok := slices.BinarySearch(then.Failing, f); !ok {
			d.NewFailures = append(d.NewFailures, f)
		}
	}
	for _, f := range then.Failing {
		if _, ok := slices.BinarySearch(now.Failing, f); ok {
			continue
		}
		if undecided(now, f) {
			d.Unseen = append(d.Unseen, f)
		} else {
			d.Fixed = append(d.Fixed, f)
		}
	}
	ids := map[string]bool{}
	for id := range now.Checks {
		ids[id] = true
	}
	for id := range then.Checks {
		ids[id] = true
	}
	for id := range ids {
		if a, b := then.Checks[id][checks.Fail], now.Checks[id][checks.Fail]; a != b {
			d.Checks = append(d.Checks, CheckChange{id, a, b})
		}
	}
	sort.Slice(d.Checks, func(i, j int) bool { return d.Checks[i].Check < d.Checks[j].Check })
	return d
}

// undecided reports whether finding key ("check resource") is not decided in e: unknown
// itself, or its check ran to no decided finding (a check refused its input says one unknown
// finding for the cluster), or its check did not run.
func undecided(e Entry, key string) bool {
	if _, ok := slices.BinarySearch(e.Unknown, key); ok {
		return true
	}
	check, _, _ := strings.Cut(key, " ")
	n := e.Checks[check]
	return n[checks.Pass]+n[checks.Fail]+n[checks.Warn]+n[checks.NotApplicable] == 0
}

// Lines is d in words, one change per line, for the table output.
func (d Drift) Lines() []string {
	out := []string{fmt.Sprintf("since %s (now %s): observed %s → %s, proven %s → %s, coverage %d → %d items decided",
		d.Since.Format(time.RFC3339), d.Now.Format(time.RFC3339), pct(d.Observed[0]), pct(d.Observed[1]), pct(d.Proven[0]), pct(d.Proven[1]), d.Coverage[0], d.Coverage[1])}
	for _, c := range d.Items {
		out = append(out, fmt.Sprintf("item %q: %s → %s", c.Item, c.From, c.To))
	}
	for _, f := range d.NewFailures {
		out = append(out, "new failure: "+f)
	}
	for _, f := range d.Fixed {
		out = append(out, "fixed: "+f)
	}
	for _, f := range d.Unseen {
		out = append(out, "not decided now (was failing): "+f)
	}
	if len(out) == 1 {
		out = append(out, "no change")
	}
	return out
}

func pct(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", *p)
}
