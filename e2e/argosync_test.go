package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

var appGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// TestTUIArgoSyncPendingThenResult (issue 20): a sync of argocd/fintech-staging-app from the
// GitOps screen. There is no Argo CD controller in the local cluster, so the request stays
// pending: the screen shows the operation PENDING with who asked (the kube user the API
// server names), and the audit pane records it as requested, not succeeded. Then the test
// plays the controller with client-go (takes the operation up, ends it Failed with a
// message, removes .operation, as upstream's setOperationState does): the screen shows the
// result and the audit pane the failed outcome with Argo CD's message.
func TestTUIArgoSyncPendingThenResult(t *testing.T) {
	ctx := context.Background()
	cfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apps := dc.Resource(appGVR).Namespace("argocd")
	const name = "fintech-staging-app"
	orig, err := apps.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	origState, hadState, _ := unstructured.NestedMap(orig.Object, "status", "operationState")
	t.Cleanup(func() {
		u, gerr := apps.Get(context.Background(), name, metav1.GetOptions{})
		if gerr != nil {
			t.Errorf("restoring %s: %v", name, gerr)
			return
		}
		unstructured.RemoveNestedField(u.Object, "operation")
		if u, gerr = apps.Update(context.Background(), u, metav1.UpdateOptions{}); gerr != nil {
			t.Errorf("restoring %s: %v", name, gerr)
			return
		}
		if hadState {
			_ = unstructured.SetNestedMap(u.Object, origState, "status", "operationState")
		} else {
			unstructured.RemoveNestedField(u.Object, "status", "operationState")
		}
		if _, gerr = apps.UpdateStatus(context.Background(), u, metav1.UpdateOptions{}); gerr != nil {
			t.Errorf("restoring %s's operationState: %v", name, gerr)
		}
	})
	user := kubeUser(t, "local-1")

	term, auditPath := actionsVigil(t, "", "--context", "local-1")
	waitSynced(t, term, "fintech-prod", "payment-service")
	command(t, term, "gitops")
	wait(t, term, 10*time.Second, "the GitOps screen", has("argocd/"+name))
	// Down to the staging application (the second), then its actions.
	_ = term.Send("j")
	wait(t, term, 5*time.Second, "the staging application selected", has("›", "argocd/"+name))
	_ = term.Send("a")
	wait(t, term, 20*time.Second, "the action menu with states", func(s string) bool {
		return LineWith(s, "Argo CD sync "+name, "dangerous") != "" && !strings.Contains(s, "still checking")
	})
	_ = term.Send("Enter")
	// The sync's form: the revision (the application's target) and prune; Enter previews.
	wait(t, term, 10*time.Second, "the sync form", has("revision: develop"))
	_ = term.Send("Enter")
	// Local-1 is not protected here: the confirmation asks for y or yes.
	s := wait(t, term, 20*time.Second, "the sync's confirmation", has("Proceed? Type y or yes"))
	if LineWith(s, "sync fintech-staging-app to develop (prune=false)") == "" {
		t.Errorf("the confirmation does not say what will be asked of Argo CD:\n%s", s)
	}
	_ = term.Type("yes")
	_ = term.Send("Enter")
	// The request reached the API: .operation set by vigil.
	var op map[string]any
	err = clustertest.Eventually(20*time.Second, 100*time.Millisecond, func() (bool, error) {
		var set bool
		op, set, _ = unstructured.NestedMap(mustGet(t, apps, name).Object, "operation")
		return set, nil
	})
	if err != nil {
		t.Fatalf("the sync never set %s's operation; screen:\n%s", name, term.Screen())
	}
	s = wait(t, term, 15*time.Second, "the pending operation on the GitOps screen", has("operation PENDING", "requested by "+user))
	capture(t, s, "25-gitops-sync-pending")
	command(t, term, "audit")
	s = wait(t, term, 10*time.Second, "the audit record of the request", has("argo", name, "requested"))
	if LineWith(s, name, "succeeded") != "" {
		t.Errorf("the request is recorded as succeeded before any result:\n%s", s)
	}

	// The controller takes it up, then fails it.
	started := time.Now().UTC().Format(time.RFC3339)
	const msg = "one or more objects failed to apply, reason: e2e says no"
	u := mustGet(t, apps, name)
	_ = unstructured.SetNestedMap(u.Object, map[string]any{"phase": "Running", "message": "one or more tasks are running", "startedAt": started, "operation": op}, "status", "operationState")
	if _, err = apps.UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	u = mustGet(t, apps, name)
	_ = unstructured.SetNestedMap(u.Object, map[string]any{"phase": "Failed", "message": msg, "startedAt": started,
		"finishedAt": time.Now().UTC().Format(time.RFC3339), "operation": op}, "status", "operationState")
	if u, err = apps.UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	unstructured.RemoveNestedField(u.Object, "operation")
	if _, err = apps.Update(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	command(t, term, "audit")
	s = wait(t, term, 30*time.Second, "the failed outcome in the audit pane", has(name, "failed"))
	t.Logf("audit pane:\n%s", s)
	recs, err := audit.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	var results []string
	for _, r := range recs {
		if r.Result != "" {
			results = append(results, r.Result)
		}
	}
	last := recs[len(recs)-1]
	if !slices.Equal(results, []string{"requested", "failed"}) || !strings.Contains(last.Answer, msg) {
		t.Errorf("audit results %q, outcome answer %q; want requested then failed with Argo CD's message %q", results, last.Answer, msg)
	}
	command(t, term, "gitops")
	s = wait(t, term, 10*time.Second, "the result on the GitOps screen", has("operation Failed", "by "+user))
	if LineWith(s, "argocd/"+name) == "" || strings.Contains(s, "operation PENDING") {
		t.Errorf("the GitOps screen still shows the operation pending:\n%s", s)
	}
}

func mustGet(t *testing.T, apps dynamic.ResourceInterface, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := apps.Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}
