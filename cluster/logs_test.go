package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// TestServiceLogsEscapesHostileLines: a container that writes escape sequences and control
// characters, and a line longer than the cap, reaches the buffer escaped and cut; the API
// server is an HTTP stub speaking the three requests ServiceLogs makes, so this is the real
// client-go path.
func TestServiceLogsEscapesHostileLines(t *testing.T) {
	hostile := "\x1b[2J\x1b]0;owned\x07 rm -rf \x9b31m done\roverwritten"
	long := strings.Repeat("x", maxLogLine+500)
	body := "2026-12-01T08:00:00Z " + hostile + "\n2026-12-01T08:00:01Z " + long + "\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/apis/apps/v1/namespaces/ns/deployments/web":
			_ = json.NewEncoder(w).Encode(appsv1.Deployment{TypeMeta: metav1.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"},
				ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
				Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}})
		case "/api/v1/namespaces/ns/pods":
			if r.URL.Query().Get("labelSelector") != "app=web" {
				http.Error(w, "bad selector", http.StatusBadRequest)
				return
			}
			_ = json.NewEncoder(w).Encode(corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"},
				Items: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "ns"},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}}}})
		case "/api/v1/namespaces/ns/pods/web-1/log":
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte(body))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	kube, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ServiceLogs(context.Background(), kube, LogRequest{Namespace: "ns", Service: "web"})
	if err != nil {
		t.Fatal(err)
	}
	<-s.Done()
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	lines := s.Buffer.ReadNew(0)
	if len(lines) != 2 {
		t.Fatalf("%d lines: %+v", len(lines), lines)
	}
	for _, l := range lines {
		if !termsafe.Safe(l.Text) || !termsafe.Safe(l.Pod) || !termsafe.Safe(l.Container) {
			t.Errorf("unsafe text reached the buffer: %q", l.Text)
		}
	}
	if want := termsafe.Line(hostile); lines[0].Text != want || !strings.Contains(lines[0].Text, `\x1b[2J`) {
		t.Errorf("hostile line = %q, want %q", lines[0].Text, want)
	}
	if n := len(lines[1].Text); n > maxLogLine+100 || !strings.HasSuffix(lines[1].Text, "[line cut at 16 KiB]") {
		t.Errorf("long line: %d bytes, ends %q", n, lines[1].Text[max(0, n-40):])
	}
}

// TestBacklogBeyondCapacityKeepsTheNewest: when the pods' logs hold more lines than the buffer,
// the backlog keeps (per container while reading, to bound memory) and buffers the newest
// Capacity lines, and counts the rest as left out, not as dropped by a slow reader. Checked
// against brute force over random logs: every line of every pod, ordered by time, the last
// Capacity of them.
func TestBacklogBeyondCapacityKeepsTheNewest(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 17))
	for round := range 40 {
		pods := 1 + rng.IntN(4)
		base := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
		logs := make([][]string, pods) // per pod: "timestamp text" lines in time order
		type line struct {
			at        time.Time
			pod, text string
		}
		var all []line
		for p := range pods {
			at := base
			for i := range rng.IntN(60) {
				at = at.Add(time.Duration(rng.IntN(3)) * time.Second) // repeats of an instant too
				text := fmt.Sprintf("pod %d line %d", p, i)
				logs[p] = append(logs[p], at.Format(time.RFC3339Nano)+" "+text)
				all = append(all, line{at, fmt.Sprintf("web-%d", p), text})
			}
		}
		capacity := 1 + rng.IntN(40)
		// Brute force: order every line by time; lines of one instant keep pod order, then
		// their order in the pod's log (pod p's lines come after those of pods before it).
		want := slices.Clone(all)
		slices.SortStableFunc(want, func(a, b line) int { return a.at.Compare(b.at) })
		left := max(0, len(want)-capacity)
		want = want[left:]

		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			switch {
			case r.URL.Path == "/apis/apps/v1/namespaces/ns/deployments/web":
				_ = json.NewEncoder(w).Encode(appsv1.Deployment{TypeMeta: metav1.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"},
					ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
					Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}})
			case r.URL.Path == "/api/v1/namespaces/ns/pods":
				list := corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}}
				for p := range pods {
					list.Items = append(list.Items, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", p), Namespace: "ns"},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}})
				}
				_ = json.NewEncoder(w).Encode(list)
			case strings.HasSuffix(r.URL.Path, "/log"):
				var p int
				if _, err := fmt.Sscanf(r.URL.Path, "/api/v1/namespaces/ns/pods/web-%d/log", &p); err != nil || p >= pods {
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", "text/plain")
				for _, l := range logs[p] {
					_, _ = w.Write([]byte(l + "\n"))
				}
			default:
				http.NotFound(w, r)
			}
		}))
		kube, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		s, err := ServiceLogs(context.Background(), kube, LogRequest{Namespace: "ns", Service: "web", Capacity: capacity})
		if err != nil {
			t.Fatal(err)
		}
		<-s.Done()
		srv.Close()
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		got := s.Buffer.ReadNew(0)
		if len(got) != len(want) || s.LeftOut() != uint64(left) || s.Buffer.Stats().Dropped != 0 {
			t.Fatalf("round %d (%d pods, %d lines, capacity %d): %d lines buffered, %d left out, %d dropped; want %d, %d, 0",
				round, pods, len(all), capacity, len(got), s.LeftOut(), s.Buffer.Stats().Dropped, len(want), left)
		}
		for i := range want {
			if got[i].Pod != want[i].pod || got[i].Text != want[i].text || !got[i].Time.Equal(want[i].at) {
				t.Fatalf("round %d: line %d = %s %s %q, want %s %s %q", round, i, got[i].Time, got[i].Pod, got[i].Text, want[i].at, want[i].pod, want[i].text)
			}
		}
	}
}
