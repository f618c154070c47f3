package render

import (
	"testing"

	"github.com/vigil-k8s/vigil/estate"
)

// The one wording of a kind not (wholly) shown, for lines, counts and cells.
func TestUnseenWording(t *testing.T) {
	const res = "verticalpodautoscalers.autoscaling.k8s.io"
	for _, tc := range []struct {
		v                   estate.Visibility
		n                   int
		unseen, count, cell string
		counted             string
	}{
		{estate.Visibility{}, 3, "", "3", "-", "3 VPAs"},
		{estate.Visibility{Access: estate.AccessDenied, Resource: res, Reason: "list/watch of " + res + " refused"}, 0,
			"forbidden: list/watch of " + res + " refused", "forbidden", "forbidden", "VPAs forbidden"},
		{estate.Visibility{Access: estate.AccessDenied, Resource: res, Namespaces: []string{"a", "b"}, Reason: "refused", Partial: true}, 2,
			"forbidden in a, b: refused", "2 seen, rest forbidden", "forbidden", "2 VPAs seen, rest forbidden"},
		{estate.Visibility{Access: estate.AccessFailing, Resource: res, Reason: "503 Service Unavailable"}, 0,
			"failing: 503 Service Unavailable", "failing", "failing", "VPAs failing"},
		{estate.Visibility{Access: estate.AccessNotInstalled, Resource: res}, 0,
			"not installed in this cluster (no autoscaling.k8s.io API)", "not installed", "-", "VPAs not installed"},
	} {
		if got := Unseen(tc.v); got != tc.unseen {
			t.Errorf("Unseen(%+v) = %q, want %q", tc.v, got, tc.unseen)
		}
		if got := Count(tc.n, tc.v); got != tc.count {
			t.Errorf("Count(%d, %+v) = %q, want %q", tc.n, tc.v, got, tc.count)
		}
		if got := Counted(tc.n, "VPAs", tc.v); got != tc.counted {
			t.Errorf("Counted(%d, %+v) = %q, want %q", tc.n, tc.v, got, tc.counted)
		}
		if got := Cell(tc.v); got != tc.cell {
			t.Errorf("Cell(%+v) = %q, want %q", tc.v, got, tc.cell)
		}
	}
}
