package clustertest

import (
	"strings"
	"testing"
)

func TestCountAudit(t *testing.T) {
	log := strings.Join([]string{
		`{"stage":"ResponseComplete","verb":"list","userAgent":"vigil/dev (linux/amd64)"}`,
		`{"stage":"RequestReceived","verb":"patch","userAgent":"vigil/dev"}`,
		`{"stage":"ResponseComplete","verb":"patch","userAgent":"vigil/dev"}`,
		`{"stage":"ResponseComplete","verb":"patch","userAgent":"kubectl/v1.37"}`,
	}, "\n")
	cases := []struct {
		verbs []string
		want  int
	}{
		{nil, 2},
		{[]string{"patch", "create"}, 1},
		{[]string{"delete"}, 0},
	}
	for _, tc := range cases {
		got, err := countAudit(strings.NewReader(log), "vigil/", tc.verbs)
		if err != nil || got != tc.want {
			t.Errorf("countAudit(%v) = %d, %v; want %d", tc.verbs, got, err, tc.want)
		}
	}
	if _, err := countAudit(strings.NewReader("not json"), "vigil/", nil); err == nil {
		t.Error("a broken audit line must be an error, not a silent zero")
	}
}
