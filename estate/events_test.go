package estate

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRecentEventsKeepsAWarningOfTheNewestSecond: a rollout's ten Normal
// events and a Warning recorded in the same second (event times have whole
// seconds), cut to the newest ten as the service detail shows them, keep
// the Warning, first, whatever order the LIST gave; an older Warning still
// comes after newer Normal events; and every input order gives one output.
func TestRecentEventsKeepsAWarningOfTheNewestSecond(t *testing.T) {
	at := time.Date(2026, 12, 2, 3, 0, 7, 0, time.UTC)
	ev := func(typ, reason, name string, when time.Time) *corev1.Event {
		return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "fintech-prod", Name: name + "." + reason},
			InvolvedObject: corev1.ObjectReference{Kind: "ReplicaSet", Name: name}, Type: typ, Reason: reason,
			Message: reason + " " + name, LastTimestamp: metav1.NewTime(when)}
	}
	var items []*corev1.Event
	for i := range 10 {
		items = append(items, ev(corev1.EventTypeNormal, "SuccessfulCreate", fmt.Sprintf("web-%d", i), at))
	}
	items = append(items, ev(corev1.EventTypeWarning, "Hostile", "worker", at), // by name alone it would come last
		ev(corev1.EventTypeWarning, "BackOff", "old", at.Add(-time.Minute)))

	var want []string
	for i, perm := range permutations(items, 50) {
		got := RecentEvents(perm, 10)
		var names []string
		for _, e := range got {
			names = append(names, e.Type+"/"+e.Name)
		}
		if i == 0 {
			want = names
			if len(got) != 10 || got[0].Reason != "Hostile" {
				t.Fatalf("newest ten = %v, want the same-second Warning first", names)
			}
			if slices.Contains(names, "Warning/old") {
				t.Fatalf("newest ten = %v: the Warning of a minute before came ahead of newer events", names)
			}
			full := RecentEvents(perm, 100)
			if last := full[len(full)-1]; last.Name != "old" {
				t.Fatalf("oldest = %s/%s, want the Warning of a minute before", last.Type, last.Name)
			}
			continue
		}
		if !slices.Equal(names, want) {
			t.Fatalf("input order %d gave %v, the first gave %v", i, names, want)
		}
	}
}

// permutations returns n shuffles of items, the first as given.
func permutations(items []*corev1.Event, n int) [][]*corev1.Event {
	r := rand.New(rand.NewPCG(1, 2))
	out := [][]*corev1.Event{items}
	for range n - 1 {
		p := slices.Clone(items)
		r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
		out = append(out, p)
	}
	return out
}
