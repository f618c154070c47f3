package cluster

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
