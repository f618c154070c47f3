package history

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/checks"
)

// TestReadAndAt: a line cut short by a killed writer is skipped, not fatal; At picks the
// last entry at or before a time, whatever the file's order, and none before the first.
func TestReadAndAt(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var b strings.Builder
	for _, h := range []int{0, 2, 1} {
		l, err := Line(Summarize("local-1", t0.Add(time.Duration(h)*time.Hour), nil, nil, checks.Score{}))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(l)
	}
	b.WriteString(`{"time":"2026-12-01T12:00:00Z","cont`) // cut short
	entries, skipped, err := Read(strings.NewReader(b.String()))
	if err != nil || len(entries) != 3 || skipped != 1 {
		t.Fatalf("Read: %d entries, %d skipped, %v; want 3, 1", len(entries), skipped, err)
	}
	for _, tc := range []struct {
		at   time.Duration
		want time.Duration
		ok   bool
	}{{-time.Minute, 0, false}, {0, 0, true}, {90 * time.Minute, time.Hour, true}, {5 * time.Hour, 2 * time.Hour, true}} {
		e, ok := At(entries, t0.Add(tc.at))
		if ok != tc.ok || (ok && !e.Time.Equal(t0.Add(tc.want))) {
			t.Errorf("At(+%v) = %v, %v; want +%v, %v", tc.at, e.Time, ok, tc.want, tc.ok)
		}
	}
}

// TestBetween: new failures, fixed ones, verdict changes and per-check counts, on entries
// built by hand.
func TestBetween(t *testing.T) {
	res := func(n string) checks.Resource {
		return checks.Resource{Kind: "Deployment", Namespace: "fintech-prod", Name: n}
	}
	then := Summarize("c", time.Unix(0, 0), []checks.Finding{
		{Check: "images-pinned", Status: checks.Fail, Resource: res("a")},
		{Check: "images-pinned", Status: checks.Pass, Resource: res("b")},
	}, []checks.ItemVerdict{{ChecklistItem: checks.ChecklistItem{Item: "Images pinned"}, Verdict: checks.NotMet}}, checks.Score{})
	now := Summarize("c", time.Unix(60, 0), []checks.Finding{
		{Check: "images-pinned", Status: checks.Pass, Resource: res("a")},
		{Check: "images-pinned", Status: checks.Fail, Resource: res("b")},
		{Check: "ops-probes", Status: checks.Fail, Resource: res("b")},
	}, []checks.ItemVerdict{{ChecklistItem: checks.ChecklistItem{Item: "Images pinned"}, Verdict: checks.NotMet}}, checks.Score{})
	d := Between(then, now)
	if strings.Join(d.NewFailures, "|") != "images-pinned Deployment/fintech-prod/b|ops-probes Deployment/fintech-prod/b" ||
		strings.Join(d.Fixed, "|") != "images-pinned Deployment/fintech-prod/a" || len(d.Items) != 0 {
		t.Errorf("Between = %+v", d)
	}
	if len(d.Checks) != 1 || d.Checks[0] != (CheckChange{"ops-probes", 0, 1}) {
		t.Errorf("check changes %+v, want ops-probes 0 → 1 (images-pinned stays at 1)", d.Checks)
	}
	if l := d.Lines(); !strings.Contains(strings.Join(l, "\n"), "new failure: ops-probes Deployment/fintech-prod/b") {
		t.Errorf("Lines = %q", l)
	}
}

// TestLosingSightIsNotFixing: a failure whose finding is unknown now (an Ingress whose Secret
// can no longer be listed), or whose whole check is (access to its input refused: one unknown
// finding for the cluster), or whose check did not run, is not fixed: nobody knows. It is
// unseen; a failure whose check decided the resource otherwise (passing now) is fixed. Also
// for an entry recorded before entries kept their unknown findings.
func TestLosingSightIsNotFixing(t *testing.T) {
	res := func(n string) checks.Resource {
		return checks.Resource{Kind: "Deployment", Namespace: "fintech-prod", Name: n}
	}
	cluster := checks.Resource{Kind: "Cluster"}
	then := Summarize("c", time.Unix(0, 0), []checks.Finding{
		{Check: "ingress-tls", Status: checks.Fail, Resource: res("a")},
		{Check: "ingress-tls", Status: checks.Fail, Resource: res("b")},
		{Check: "pss-pods-restricted", Status: checks.Fail, Resource: res("a")},
		{Check: "ops-probes", Status: checks.Fail, Resource: res("a")},
	}, nil, checks.Score{})
	now := Summarize("c", time.Unix(60, 0), []checks.Finding{
		{Check: "ingress-tls", Status: checks.Unknown, Resource: res("a")},
		{Check: "ingress-tls", Status: checks.Pass, Resource: res("b")},
		{Check: "pss-pods-restricted", Status: checks.Unknown, Resource: cluster},
	}, nil, checks.Score{})
	for _, tc := range []struct {
		name string
		now  Entry
	}{{"entries with their unknown findings", now}, {"an entry without them", func() Entry { e := now; e.Unknown = nil; return e }()}} {
		t.Run(tc.name, func(t *testing.T) {
			d := Between(then, tc.now)
			wantFixed := "ingress-tls Deployment/fintech-prod/b"
			wantUnseen := "ingress-tls Deployment/fintech-prod/a|ops-probes Deployment/fintech-prod/a|pss-pods-restricted Deployment/fintech-prod/a"
			if tc.now.Unknown == nil {
				// Without the list, a resource's own unknown finding beside decided ones
				// cannot be told from a pass.
				wantFixed = "ingress-tls Deployment/fintech-prod/a|ingress-tls Deployment/fintech-prod/b"
				wantUnseen = "ops-probes Deployment/fintech-prod/a|pss-pods-restricted Deployment/fintech-prod/a"
			}
			if got := strings.Join(d.Fixed, "|"); got != wantFixed {
				t.Errorf("fixed %q, want %q", got, wantFixed)
			}
			if got := strings.Join(d.Unseen, "|"); got != wantUnseen {
				t.Errorf("unseen %q, want %q", got, wantUnseen)
			}
		})
	}
	if l := strings.Join(Between(then, now).Lines(), "\n"); !strings.Contains(l, "not decided now (was failing): pss-pods-restricted Deployment/fintech-prod/a") {
		t.Errorf("Lines:\n%s", l)
	}
}

// TestScopes: a scope is its namespaces as a set and who read them; entries compare only
// when both recorded the same one. Each case's answer is written out by hand.
func TestScopes(t *testing.T) {
	for _, c := range []struct {
		user, as  string
		anonymous bool
		want      string
	}{{"admin", "", false, "admin"}, {"admin", "scoped", false, "admin as scoped"}, {"nobody", "", true, "anonymous"}, {"nobody", "x", true, "nobody as x"}} {
		if got := Identity(c.user, c.as, c.anonymous); got != c.want {
			t.Errorf("Identity(%q, %q, %v) = %q, want %q", c.user, c.as, c.anonymous, got, c.want)
		}
	}
	in := []string{"b", "a", "b"}
	s := NewScope(in, "admin")
	if want := (&Scope{Namespaces: []string{"a", "b"}, Identity: "admin"}); !reflect.DeepEqual(s, want) || !slices.Equal(in, []string{"b", "a", "b"}) {
		t.Errorf("NewScope = %+v (input now %v), want %+v and the input untouched", s, in, want)
	}
	if got := s.String(); got != "namespaces a, b by admin" {
		t.Errorf("String = %q", got)
	}
	if got := (*Scope)(nil).String(); got != "scope not recorded" {
		t.Errorf("nil String = %q", got)
	}
	at := func(sc *Scope) Entry { return Entry{Scope: sc} }
	for _, c := range []struct {
		a, b *Scope
		want bool
	}{
		{NewScope([]string{"a", "b"}, "admin"), NewScope([]string{"b", "a"}, "admin"), true},
		{NewScope([]string{"a", "b"}, "admin"), NewScope([]string{"a"}, "admin"), false},
		{NewScope([]string{"a"}, "admin"), NewScope([]string{"a"}, "admin as scoped"), false},
		{nil, NewScope([]string{"a"}, "admin"), false},
		{nil, nil, false},
	} {
		if got := Comparable(at(c.a), at(c.b)); got != c.want {
			t.Errorf("Comparable(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	entries := []Entry{at(NewScope([]string{"a"}, "admin")), at(nil), at(NewScope([]string{"a"}, "x")), at(NewScope([]string{"a"}, "admin"))}
	if got := Like(entries, at(NewScope([]string{"a"}, "admin"))); len(got) != 2 || got[0].Scope != entries[0].Scope || got[1].Scope != entries[3].Scope {
		t.Errorf("Like = %+v, want the first and the last", got)
	}
}
