package ui

import (
	"strings"
	"testing"

	"github.com/vigil-k8s/vigil/ui/services"
)

// TestRolloutHistoryImagesDistinct: two revisions whose images differ only in their digest's
// last characters read differently in ROLLOUT HISTORY: whole at 220 columns, and at 160 and 80
// columns (too narrow for these 141 characters) the distinguishing tail (the digest's end) is kept. The expected text is taken
// from the Revision values themselves.
func TestRolloutHistoryImagesDistinct(t *testing.T) {
	const base = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fintech/payment-service@sha256:"
	imgs := []string{base + strings.Repeat("0", 63) + "a", base + strings.Repeat("0", 63) + "b"}
	for _, w := range []int{220, 160, 80} {
		snap := seedEstate(2)
		for i := range snap.Services {
			if snap.Services[i].Name == "payment-service" && snap.Services[i].Namespace == "fintech-prod" {
				for j := range snap.Services[i].Revisions {
					snap.Services[i].Revisions[j].Images = []string{imgs[j]}
				}
			}
		}
		m := newModelWith(t, w, 60, &fakeBackend{}, newFakeActions())
		run(m, SnapshotMsg{Snapshot: snap})
		run(m, press("/"))
		typeText(m, "payment")
		run(m, press("enter"))
		run(m, press("enter"))
		if _, ok := m.Top().(*services.Detail); !ok {
			t.Fatalf("Enter opened %T", m.Top())
		}
		s := screenText(m)
		var rows []string
		for j, rev := range []string{"3*", "2 "} {
			l := ""
			for _, line := range strings.Split(s, "\n") {
				if strings.HasPrefix(line, rev) && strings.Contains(line, "deploy v1.2.") {
					l = line
				}
			}
			if l == "" {
				t.Fatalf("%d columns: no history row of revision %s:\n%s", w, rev, s)
			}
			want := imgs[j]
			if w < 220 { // 141 characters do not fit beside the other columns: the tail does
				want = want[len(want)-12:]
			}
			if !strings.Contains(l, want) {
				t.Errorf("%d columns: revision %s's row lacks %q: %q", w, rev, want, l)
			}
			rows = append(rows, l)
		}
		if strings.Fields(rows[0])[2] == strings.Fields(rows[1])[2] {
			t.Errorf("%d columns: the two revisions' images read the same:\n%s\n%s", w, rows[0], rows[1])
		}
	}
}
