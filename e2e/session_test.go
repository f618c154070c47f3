package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestStartOnUnreachableContextThenSwitch: started on a context whose server refuses
// connections, vigil does not exit: it opens the Contexts screen saying why, lists the
// other contexts, and `:ctx local-1` from there shows local-1's services, as many as the
// API has Deployments and StatefulSets in fintech-prod.
func TestStartOnUnreachableContextThenSwitch(t *testing.T) {
	kcPath := withContext(t, "dead", "https://127.0.0.1:1") // nothing listens on port 1
	term := startScreens(t, []string{"KUBECONFIG=" + kcPath}, "--context", "dead")
	screen := waitLine(t, term, "the reason on the Contexts screen", 30*time.Second, "cannot reach")
	for _, want := range []string{"dead", "127.0.0.1:1", "local-1", "local-2"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the Contexts screen lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "panic") || strings.Contains(screen, "goroutine") {
		t.Fatalf("a trace on screen:\n%s", screen)
	}

	// The truth, from the API with client-go: fintech-prod's workloads.
	cs := lc.Client(t, "local-1")
	deps, err := cs.AppsV1().Deployments("fintech-prod").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sts, err := cs.AppsV1().StatefulSets("fintech-prod").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range deps.Items {
		names = append(names, d.Name)
	}
	for _, s := range sts.Items {
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		t.Fatal("local-1 has no workloads in fintech-prod: the seed did not run")
	}

	command(t, term, "ctx local-1")
	waitSynced(t, term, "fintech-prod", names[0])
	command(t, term, "ns fintech-prod")
	screen, ok := term.WaitFor(10*time.Second, func(s string) bool {
		for _, n := range names {
			if LineWith(s, "fintech-prod", n) == "" {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("after :ctx local-1, not every fintech-prod workload of the API (%v) is listed:\n%s", names, screen)
	}
	if LineWith(screen, "cannot reach") != "" || LineWith(screen, "no session") != "" {
		t.Errorf("the unreachable context's reason is still shown on local-1:\n%s", screen)
	}
	if LineWith(screen, "vigil", "ctx local-1 ") == "" {
		t.Errorf("the header does not name local-1:\n%s", screen)
	}
}

// TestReviewerSeesForbiddenNotNone: as local-1-reviewer (bound to the view ClusterRole),
// the kinds the API refuses read "forbidden" on every screen that shows them, never "none"
// or 0; which kinds are refused is asked of the API itself (SelfSubjectAccessReview
// through client-go), and the HPA count the reviewer sees equals the API's.
func TestReviewerSeesForbiddenNotNone(t *testing.T) {
	ctx := context.Background()
	rcs := lc.Client(t, "local-1-reviewer")
	canList := func(group, resource string) bool {
		t.Helper()
		ok, err := selfCan(ctx, rcs, "list", group, resource, "")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	vpaOK := canList("autoscaling.k8s.io", "verticalpodautoscalers")
	appsOK := canList("argoproj.io", "applications")
	esOK := canList("external-secrets.io", "externalsecrets")
	if vpaOK && appsOK && esOK {
		t.Fatal("the reviewer may list VPAs, Applications and ExternalSecrets: nothing is forbidden to test")
	}
	hpas := 0
	for _, ns := range []string{"fintech-prod", "fintech-staging", "fintech-monitoring", "fintech-security"} {
		l, err := rcs.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("the reviewer cannot list HPAs in %s: %v", ns, err)
		}
		hpas += len(l.Items)
	}

	term := startScreens(t, nil, "--context", "local-1-reviewer")
	waitSynced(t, term, "fintech-prod", "payment-service")
	command(t, term, "hpa")
	screen := waitLine(t, term, "the Autoscaling screen", 10*time.Second, "HPAs")
	summary := LineWith(screen, "HPAs")
	if !strings.Contains(summary, fmt.Sprintf("%d HPAs", hpas)) {
		t.Errorf("Autoscaling counts %q, the API lists %d HPAs to the reviewer:\n%s", summary, hpas, screen)
	}
	if !vpaOK {
		if !strings.Contains(summary, "VPAs forbidden") || LineWith(screen, "VerticalPodAutoscalers forbidden") == "" {
			t.Errorf("VPAs are refused, the Autoscaling screen does not say forbidden:\n%s", screen)
		}
		if LineWith(screen, "0 VPAs") != "" {
			t.Errorf("refused VPAs read as 0:\n%s", screen)
		}
	}

	command(t, term, "gitops")
	screen = waitLine(t, term, "the GitOps screen", 10*time.Second, "EXTERNAL SECRETS")
	if !appsOK {
		if LineWith(screen, "ARGO CD APPLICATIONS (forbidden)") == "" {
			t.Errorf("Applications are refused, the GitOps screen does not say forbidden:\n%s", screen)
		}
		if LineWith(screen, "no Applications") != "" {
			t.Errorf("refused Applications read as none:\n%s", screen)
		}
	}
	if !esOK {
		if LineWith(screen, "EXTERNAL SECRETS (forbidden)") == "" {
			t.Errorf("ExternalSecrets are refused, the GitOps screen does not say forbidden:\n%s", screen)
		}
		if LineWith(screen, "no ExternalSecrets") != "" {
			t.Errorf("refused ExternalSecrets read as none:\n%s", screen)
		}
	}
	capture(t, screen, "24-reviewer-gitops-forbidden")
}

// selfCan asks the API server whether cs's own credentials may verb group/resource in ns
// ("" for all namespaces).
func selfCan(ctx context.Context, cs kubernetes.Interface, verb, group, resource, ns string) (bool, error) {
	r, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{
		Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
			Namespace: ns, Verb: verb, Group: group, Resource: resource}}}, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	return r.Status.Allowed, nil
}
