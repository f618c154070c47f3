package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/history"
)

// TestHistoryStoreRecordsHourlyAndRereads: the Compliance screen's history records a live
// evaluation only when the context has none from the last hour (its own or vigil check's),
// sees a run vigil check appended meanwhile, and tells its own runs from others'. The file is
// read back here line by line with encoding/json, not through the store.
func TestHistoryStoreRecordsHourlyAndRereads(t *testing.T) {
	state := t.TempDir()
	getenv := func(k string) string {
		if k == "XDG_STATE_HOME" {
			return state
		}
		return ""
	}
	t0 := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	now := t0
	s := &historyStore{getenv: getenv, now: func() time.Time { return now }}
	entry := func(at time.Time, v checks.Verdict) history.Entry {
		return history.Entry{Time: at, Context: "arn:aws:eks:eu-west-1:1:cluster/prod", Verdicts: map[string]checks.Verdict{"Audit logging enabled": v},
			Scope: history.NewScope([]string{"fintech-prod"}, "admin")}
	}
	path, err := historyPath(getenv, "arn:aws:eks:eu-west-1:1:cluster/prod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(path, state) {
		t.Fatalf("history at %s, not under the state directory %s", path, state)
	}
	lines := func() []history.Entry {
		t.Helper()
		b, rerr := os.ReadFile(path)
		if rerr != nil {
			t.Fatal(rerr)
		}
		var out []history.Entry
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var e history.Entry
			if jerr := json.Unmarshal([]byte(l), &e); jerr != nil {
				t.Fatalf("line %q: %v", l, jerr)
			}
			out = append(out, e)
		}
		return out
	}
	ctx := "arn:aws:eks:eu-west-1:1:cluster/prod"
	if runs := s.Recorded(ctx); len(runs) != 0 {
		t.Fatalf("recorded %v before anything was", runs)
	}
	s.Offer(entry(t0, checks.Met))
	now = t0.Add(30 * time.Minute)
	s.Offer(entry(now, checks.NotMet)) // half an hour later: not recorded
	if got := lines(); len(got) != 1 || got[0].Verdicts["Audit logging enabled"] != checks.Met {
		t.Fatalf("file holds %+v; want the first evaluation only", got)
	}
	// vigil check appends a run of its own (another process), and one of another scope
	// (-n fintech-staging) after it: the store reads both.
	ext := entry(t0.Add(40*time.Minute), checks.Unverified)
	other := entry(t0.Add(85*time.Minute), checks.Met)
	other.Scope = history.NewScope([]string{"fintech-staging"}, "admin")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []history.Entry{ext, other} {
		b, _ := json.Marshal(e)
		_, _ = f.Write(append(b, '\n'))
	}
	_ = f.Close()
	runs := s.Recorded(ctx)
	if len(runs) != 3 || !runs[0].Here || runs[1].Here || runs[1].Verdicts["Audit logging enabled"] != checks.Unverified {
		t.Fatalf("recorded %+v; want ours then vigil check's two", runs)
	}
	// The other scope's run does not stand in for this one's: the hour counts from ext.
	now = t0.Add(90 * time.Minute) // 50 min after vigil check's run: not yet
	s.Offer(entry(now, checks.NotMet))
	now = t0.Add(101 * time.Minute)
	s.Offer(entry(now, checks.NotMet))
	if got := lines(); len(got) != 4 || !got[3].Time.Equal(now) {
		t.Fatalf("file holds %d entries (last %v); want a fourth at %v", len(got), got[len(got)-1].Time, now)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("history directory: %v %v; want 0700", fi, err)
	}
}

// TestHistoryStoreWithoutStateDirectory: nothing is read or written, and nothing fails.
func TestHistoryStoreWithoutStateDirectory(t *testing.T) {
	s := &historyStore{getenv: func(string) string { return "" }, now: time.Now}
	s.Offer(history.Entry{Time: time.Now(), Context: "x"})
	if runs := s.Recorded("x"); runs != nil {
		t.Errorf("recorded %v without a state directory", runs)
	}
}
