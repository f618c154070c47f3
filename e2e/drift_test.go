package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestComplianceTrendAfterDrift (issue 16, part 5, on screen): vigil check records an
// evaluation of a private namespace of local-1; then a Deployment of an unpinned image from
// a registry nobody allowed appears there. The Compliance screen compares its live
// evaluation with that run: it names the failures that are new since it and each item whose
// verdict moved, and the TREND column shows the recorded verdict then the live one. What
// is new and what moved is computed here from two `vigil check -o json` reports (before, and
// after with --no-history), not from the history file or the screen's code.
func TestComplianceTrendAfterDrift(t *testing.T) {
	e := newAttestEnv(t)
	ns := lc.Namespace(t, "local-1")
	type report struct {
		Findings []struct {
			Check, Status string
			Resource      struct{ Kind, Namespace, Name string }
		}
		Items []struct{ Item, Verdict string }
	}
	check := func(args ...string) report {
		t.Helper()
		var r report
		out, errOut, code := e.vigil(append([]string{"check", "--context", "local-1", "-n", ns, "-o", "json"}, args...)...)
		if code > 1 {
			t.Fatalf("vigil check: exit %d: %s", code, errOut)
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("vigil check -o json: %v", err)
		}
		return r
	}
	failing := func(r report) []string {
		var out []string
		for _, f := range r.Findings {
			if f.Status != "fail" {
				continue
			}
			res := f.Resource.Kind
			if f.Resource.Name != "" {
				res = strings.Join(slices.DeleteFunc([]string{f.Resource.Kind, f.Resource.Namespace, f.Resource.Name}, func(s string) bool { return s == "" }), "/")
			}
			out = append(out, f.Check+" "+res)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	verdicts := func(r report) map[string]string {
		m := map[string]string{}
		for _, it := range r.Items {
			m[it.Item] = it.Verdict
		}
		return m
	}
	glyph := map[string]string{"met": "✓", "not-met": "✗", "unverified": "?"}

	before := check()
	one := int32(1)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "drifter", Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "drifter"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "drifter"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "docker.io/library/nginx:latest"}}}}}}
	if _, err := lc.Client(t, "local-1").AppsV1().Deployments(ns).Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	term, err := StartTerminal(fmt.Sprintf("vigil-drift-%d", time.Now().UnixNano()), 200, 60, e.env, vigil, "--context", "local-1", "--namespaces", ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(term.Close)
	waitSynced(t, term, ns, "drifter")
	command(t, term, "check")

	// The live evaluation and a check run now see the same estate once the pod settled:
	// compare until they agree, then hold the screen to what the reports say.
	var problems []string
	deadline := time.Now().Add(45 * time.Second)
	for {
		after := check("--no-history")
		was, now := failing(before), failing(after)
		var fresh []string
		for _, f := range now {
			if _, ok := slices.BinarySearch(was, f); !ok {
				fresh = append(fresh, f)
			}
		}
		screen := term.Screen()
		problems = nil
		drift := LineWith(screen, "since the run of")
		switch {
		case len(fresh) == 0:
			problems = append(problems, "precondition: no new failure in the second report")
		case len(fresh) == 1 && !strings.Contains(drift, "1 new failure: "+fresh[0]):
			problems = append(problems, fmt.Sprintf("drift line %q lacks the new failure %s", drift, fresh[0]))
		case len(fresh) > 1 && !strings.Contains(drift, fmt.Sprintf("%d new failures (first: %s)", len(fresh), fresh[0])):
			problems = append(problems, fmt.Sprintf("drift line %q lacks %d new failures, first %s", drift, len(fresh), fresh[0]))
		}
		vb, va := verdicts(before), verdicts(after)
		var moved []string
		for item, v := range va {
			if vb[item] != v {
				moved = append(moved, item)
			}
		}
		slices.Sort(moved)
		// The line has room for the first item that moved (by name); each row shows its trend.
		if len(moved) > 0 && !strings.Contains(drift, fmt.Sprintf("%s %s → %s", moved[0], vb[moved[0]], va[moved[0]])) {
			problems = append(problems, fmt.Sprintf("drift line %q lacks %s: %s → %s", drift, moved[0], vb[moved[0]], va[moved[0]]))
		}
		for _, item := range moved {
			if row := tableRow(screen, item); !strings.Contains(row, " "+glyph[vb[item]]+glyph[va[item]]+" ") {
				problems = append(problems, fmt.Sprintf("row %q: trend is not %s%s", row, glyph[vb[item]], glyph[va[item]]))
			}
		}
		if len(moved) == 0 {
			problems = append(problems, "precondition: no item's verdict moved")
		}
		if len(problems) == 0 {
			capture(t, screen, "25-compliance-drift.txt")
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s\nscreen:\n%s", strings.Join(problems, "\n"), screen)
		}
		time.Sleep(2 * time.Second)
	}
}

// tableRow is the Compliance table's row of item (a line starting with a verdict).
func tableRow(screen, item string) string {
	for _, l := range strings.Split(screen, "\n") {
		f := strings.TrimSpace(l)
		for _, v := range []string{"MET ", "NOT MET ", "UNVERIFIED "} {
			if strings.HasPrefix(f, v) && strings.Contains(f, " "+item+" ") {
				return l
			}
		}
	}
	return ""
}

// TestContextsScreenShowsEachContextsProvenScore (issue 16, part 6, on screen): after
// `vigil check --all-contexts`, which records each context's evaluation, the Contexts screen's
// PROVEN column shows each other context's proven score as that run's JSON fleet summary
// gives it, and the context on screen its live one.
func TestContextsScreenShowsEachContextsProvenScore(t *testing.T) {
	e := newAttestEnv(t)
	out, errOut, code := e.vigil("check", "--all-contexts", "-o", "json")
	if code > 2 {
		t.Fatalf("vigil check --all-contexts: exit %d: %s", code, errOut)
	}
	var fleet struct {
		Summary []struct {
			Context string
			Proven  *float64
		}
	}
	if err := json.Unmarshal([]byte(out), &fleet); err != nil {
		t.Fatal(err)
	}
	if len(fleet.Summary) < 2 {
		t.Fatalf("precondition: fleet summary of %d contexts:\n%s", len(fleet.Summary), out)
	}
	term, err := StartTerminal(fmt.Sprintf("vigil-proven-%d", time.Now().UnixNano()), 200, 40, e.env, vigil, "--context", "local-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(term.Close)
	waitSynced(t, term, "fintech-prod", "payment-service")
	command(t, term, "ctx")
	waitLine(t, term, "the live score of local-1", 30*time.Second, "local-1", "% live")
	screen := waitLine(t, term, "the fleet summary", 30*time.Second, "fleet summarised")
	capture(t, screen, "28-contexts-proven.txt")
	for _, s := range fleet.Summary {
		if s.Context == "local-1" || s.Proven == nil {
			continue
		}
		want := fmt.Sprintf(" %.0f%% ", *s.Proven)
		row := ""
		for _, l := range strings.Split(screen, "\n") {
			if f := strings.Fields(strings.TrimPrefix(l, "*")); len(f) > 0 && f[0] == s.Context {
				row = l
			}
		}
		if !strings.Contains(row, want) {
			t.Errorf("%s's row %q lacks its recorded proven score%s", s.Context, row, want)
		}
	}
}
