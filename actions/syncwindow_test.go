package actions

import (
	"strings"
	"testing"
	"time"
)

func TestSyncWindows(t *testing.T) {
	freeze := SyncWindow{Kind: "deny", Schedule: "0 0 24 12 *", Duration: "72h", TimeZone: "UTC", Applications: []string{"*"}, ManualSync: true}
	strict := freeze
	strict.ManualSync = false
	office := SyncWindow{Kind: "allow", Schedule: "0 9 * * 1-5", Duration: "8h", Namespaces: []string{"fintech-*"}}
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	cases := []struct {
		name    string
		windows []SyncWindow
		manual  bool
		now     time.Time
		ok      bool
		reason  string
	}{
		{"no windows", nil, false, at("2026-12-25T10:00:00Z"), true, ""},
		{"freeze closed in November", []SyncWindow{strict}, false, at("2026-11-26T10:00:00Z"), true, ""},
		{"freeze active blocks automated", []SyncWindow{freeze}, false, at("2026-12-25T10:00:00Z"), false, `deny window "0 0 24 12 *"`},
		{"freeze active lets manual through (manualSync)", []SyncWindow{freeze}, true, at("2026-12-25T10:00:00Z"), true, ""},
		{"strict freeze blocks manual", []SyncWindow{strict}, true, at("2026-12-26T23:59:00Z"), false, "is active"},
		{"freeze over after 72h", []SyncWindow{strict}, true, at("2026-12-27T00:00:01Z"), true, ""},
		{"deny beats allow", []SyncWindow{strict, office}, true, at("2026-12-24T10:00:00Z"), false, "deny"},
		{"inside allow window", []SyncWindow{office}, false, at("2026-11-26T10:00:00Z"), true, ""},
		{"outside allow window", []SyncWindow{office}, true, at("2026-11-26T20:00:00Z"), false, "no allow window is open"},
	}
	for _, tc := range cases {
		ok, reason, err := canSync(tc.windows, tc.manual, tc.now)
		if err != nil || ok != tc.ok || !strings.Contains(reason, tc.reason) {
			t.Errorf("%s: canSync = %v %q %v, want %v %q", tc.name, ok, reason, err, tc.ok, tc.reason)
		}
	}
	if _, _, err := canSync([]SyncWindow{{Kind: "deny", Schedule: "bogus", Duration: "1h"}}, true, time.Now()); err == nil {
		t.Error("a bad schedule must be an error")
	}
	m := matchingWindows([]SyncWindow{freeze, office, {Kind: "deny", Schedule: "* * * * *", Duration: "1h", Applications: []string{"other-*"}}},
		"fintech-app", "fintech-prod", "https://kubernetes.default.svc", "")
	if len(m) != 2 {
		t.Errorf("matching windows %v", m)
	}
}
