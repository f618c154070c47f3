package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
)

// TestAutoscalingSaysWhyWhole: an HPA's conditions (what says why it does not scale), a VPA's
// head with its drift mark and its containers' lines are wrapped in their column, not cut at
// it, on the Autoscaling screen (side by side from 110 columns, stacked below) and in the
// service detail (and the replicas line under each service's name), at widths from 80 (the least vigil draws in) to 160: every line fits and each text is there whole.
func TestAutoscalingSaysWhyWhole(t *testing.T) {
	const limited = "the desired replica count is more than the maximum replica count; raise maxReplicas or lower the load"
	s := seedEstate(2)
	hpa := &s.HPAs[0]
	hpa.Conditions = append(hpa.Conditions,
		estate.Condition{Type: "ScalingLimited", Status: "True", Reason: "TooManyReplicas", Message: limited},
		estate.Condition{Type: "AbleToScale", Status: "True", Reason: "ScaleDownStabilized", Message: "recent recommendations were higher than current one, applying the highest recent recommendation"})
	for i := range s.Services {
		if s.Services[i].Name == "api-gateway" {
			s.Services[i].HPA = *hpa
		}
	}
	var want []string
	for _, c := range hpa.Conditions {
		want = append(want, c.Type+"="+c.Status+" "+c.Reason+": "+c.Message)
	}
	gw := append(want, "3/10 (min 3, desired 3)")
	pay := []string{
		"vpa payment-service-vpa mode Off requests 3.4–4.9× recommended",
		"payment-service (requests outside the recommended bounds)",
		"cpu requests 1000m are 4.9× the 203m VPA recommends",
		"mem requests 2Gi are 3.4× the 600Mi VPA recommends",
	}
	bare := func(s string) string { return strings.Join(strings.Fields(s), "") }
	says := func(t *testing.T, where string, text []string, want []string) {
		t.Helper()
		all := bare(strings.Join(text, " "))
		for _, w := range want {
			if !strings.Contains(all, bare(w)) {
				t.Errorf("%s does not say %q whole:\n%s", where, w, strings.Join(text, "\n"))
			}
		}
	}
	for _, width := range []int{80, 95, 109, 110, 120, 160} {
		m := newModelWith(t, width, 200, &fakeBackend{}, nil)
		run(m, SnapshotMsg{Snapshot: s})
		open(m, "hpa")
		// Side by side, each column read on its own, top to bottom.
		var left, right []string
		for _, l := range strings.Split(screenText(m), "\n") {
			if w := ansi.StringWidth(l); w > width {
				t.Fatalf("width %d: a line of %d cells: %q", width, w, l)
			}
			a, b, _ := strings.Cut(l, " │ ")
			left, right = append(left, a), append(right, b)
		}
		screen := append(left, right...)
		says(t, fmt.Sprintf("the Autoscaling screen at %d columns", width), screen, append(append(gw, pay...), "3 now · ready 3/3 · cpu 64% of request · mem 29%"))
		if width >= 110 {
			says(t, "the VPA column", right, append(pay[:1:1], "(drift)"))
		} else {
			says(t, "the stacked screen", screen, []string{"recommended (drift)"})
		}
	}
	for _, name := range []string{"api-gateway", "payment-service"} {
		m := newModelWith(t, 80, 30, &fakeBackend{}, nil)
		run(m, SnapshotMsg{Snapshot: s})
		openDetail(t, m, name)
		var seen []string
		for range 20 {
			for _, l := range strings.Split(screenText(m), "\n") {
				if w := ansi.StringWidth(l); w > 80 {
					t.Fatalf("%s detail: a line of %d cells: %q", name, w, l)
				}
				seen = append(seen, l)
			}
			run(m, press("pgdown"))
		}
		if name == "api-gateway" {
			says(t, name+"'s detail", seen, gw)
		} else {
			says(t, name+"'s detail", seen, pay)
		}
	}
}
