package readonly

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func TestAllowed(t *testing.T) {
	cases := []struct {
		method, url string
		self, want  bool
	}{
		{"GET", "/api/v1/namespaces/fintech-prod/pods", true, true},
		{"GET", "/api/v1/pods?watch=true", true, true},
		{"HEAD", "/", false, true},
		{"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", true, true},
		{"POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", true, true},
		{"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", false, false},
		{"POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", true, false},
		{"POST", "/apis/authorization.k8s.io/v1/namespaces/x/localsubjectaccessreviews", true, false},
		{"POST", "/api/v1/namespaces/fintech-prod/pods", true, false},
		{"POST", "/api/v1/namespaces/fintech-prod/pods/p/eviction", true, false},
		{"PATCH", "/apis/apps/v1/namespaces/fintech-prod/deployments/payment-service", true, false},
		{"PUT", "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/fintech-app", true, false},
		{"DELETE", "/api/v1/namespaces/fintech-prod/pods/p", true, false},
		{"POST", "/api/v2/silences", false, false},
		{"DELETE", "/api/v2/silence/123", false, false},
		{"POST", "/api/v1/applications/fintech-app/sync", false, false},
		// Paths that only end with a self review: a service, pod or node proxy forwards the POST
		// to a workload; a prefix or dot segments name another resource.
		{"POST", "/api/v1/namespaces/fintech-prod/services/payment-service/proxy/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", true, false},
		{"POST", "/api/v1/namespaces/fintech-prod/pods/p:8080/proxy/apis/authentication.k8s.io/v1/selfsubjectreviews", true, false},
		{"POST", "/api/v1/nodes/n1/proxy/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", true, false},
		{"POST", "/x/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", true, false},
		{"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/", true, false},
		{"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/x", true, false},
		{"POST", "/api/v1/namespaces/x/pods/../../../../apis/authorization.k8s.io/v1/selfsubjectaccessreviews", true, false},
		{"POST", "/api/v1/namespaces/x/services/y/proxy%2Fapis/authorization.k8s.io/v1/selfsubjectaccessreviews", true, false},
		{"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews%2F..%2F..%2F..%2Fapi%2Fv1%2Fpods", true, false},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(tc.method, tc.url, nil)
		if got := Allowed(req, tc.self); got != tc.want {
			t.Errorf("Allowed(%s %s, self=%v) = %v, want %v", tc.method, tc.url, tc.self, got, tc.want)
		}
	}
}

// TestWrapConfigRefusesWritesBeforeTheNetwork drives a real clientset against a server that
// counts what reaches it: reads and self-reviews arrive, writes never do.
func TestWrapConfigRefusesWritesBeforeTheNetwork(t *testing.T) {
	var writes, reads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet {
			reads.Add(1)
			_, _ = w.Write([]byte(`{"kind":"PodList","apiVersion":"v1","items":[]}`))
			return
		}
		writes.Add(1)
		_, _ = w.Write([]byte(`{"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","status":{"allowed":true}}`))
	}))
	defer srv.Close()

	cs := kubernetes.NewForConfigOrDie(WrapConfig(&rest.Config{Host: srv.URL}))
	ctx := context.Background()
	if _, err := cs.CoreV1().Pods("fintech-prod").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("list must pass: %v", err)
	}
	_, err := cs.AppsV1().Deployments("fintech-prod").Patch(ctx, "payment-service", types.MergePatchType, []byte(`{}`), metav1.PatchOptions{})
	if !errors.Is(err, ErrReadOnly) {
		t.Fatalf("patch: got %v, want ErrReadOnly", err)
	}
	err = cs.CoreV1().Pods("fintech-prod").Delete(ctx, "p", metav1.DeleteOptions{})
	if err == nil || !strings.Contains(err.Error(), "read-only mode") {
		t.Fatalf("delete: got %v, want a read-only refusal", err)
	}
	if writes.Load() != 0 {
		t.Fatalf("%d writes reached the server", writes.Load())
	}
	ssar := &authv1.SelfSubjectAccessReview{Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{Verb: "patch", Resource: "deployments"}}}
	if _, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, ssar, metav1.CreateOptions{}); err != nil {
		t.Fatalf("self review must pass: %v", err)
	}
	if writes.Load() != 1 || reads.Load() != 1 {
		t.Fatalf("server saw %d reads and %d posts, want 1 and 1", reads.Load(), writes.Load())
	}
}

// TestWrapConfigSelfReviewPathsAreExact drives a real clientset, at the root and behind a
// path prefix (a Rancher-style proxy): the self review passes at exactly its path, and a POST
// to a proxy path that merely ends with it never reaches the server.
func TestWrapConfigSelfReviewPathsAreExact(t *testing.T) {
	for _, prefix := range []string{"", "/k8s/clusters/c-1"} {
		var posts []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			posts = append(posts, r.Method+" "+r.URL.Path)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","status":{"allowed":true}}`))
		}))
		cs := kubernetes.NewForConfigOrDie(WrapConfig(&rest.Config{Host: srv.URL + prefix}))
		ctx := context.Background()
		for _, hostile := range []string{
			"/api/v1/namespaces/fintech-prod/services/payment-service/proxy/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
			"/api/v1/namespaces/fintech-prod/pods/web-0/proxy/apis/authentication.k8s.io/v1/selfsubjectreviews",
		} {
			err := cs.CoreV1().RESTClient().Post().AbsPath(hostile).Body([]byte(`{}`)).Do(ctx).Error()
			if !errors.Is(err, ErrReadOnly) {
				t.Errorf("prefix %q: POST %s: got %v, want ErrReadOnly", prefix, hostile, err)
			}
		}
		if len(posts) != 0 {
			t.Errorf("prefix %q: hostile POSTs reached the server: %v", prefix, posts)
		}
		ssar := &authv1.SelfSubjectAccessReview{Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authv1.ResourceAttributes{Verb: "patch", Resource: "deployments"}}}
		if _, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, ssar, metav1.CreateOptions{}); err != nil {
			t.Errorf("prefix %q: self review must pass: %v", prefix, err)
		}
		if want := "POST " + prefix + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"; len(posts) != 1 || posts[0] != want {
			t.Errorf("prefix %q: server saw %v, want [%s]", prefix, posts, want)
		}
		srv.Close()
	}
}

func TestWrapClient(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := WrapClient(nil)
	if _, err := c.Get(srv.URL + "/api/v2/alerts"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Post(srv.URL+"/api/v2/silences", "application/json", strings.NewReader("{}")); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("post: %v", err)
	}
	if hits.Load() != 1 {
		t.Fatalf("server hits %d, want 1", hits.Load())
	}
}
