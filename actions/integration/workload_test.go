package integration

import (
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubectl/pkg/polymorphichelpers"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

const img = "registry.fintech.internal/fintech/payment-service:"

// TestRollbackEqualsKubectl rolls twin Deployments with the same history back — one through
// vigil's pipeline, one by calling kubectl's rollbacker directly — and requires the same
// result: revision 4, revision 2's template, the same Deployment annotations.
func TestRollbackEqualsKubectl(t *testing.T) {
	e := env(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	rolledOut(t, e.Kube, ns, "pay-vigil", img+"v1.2.1", img+"v1.2.2", img+"v1.2.3")
	kub := rolledOut(t, e.Kube, ns, "pay-kubectl", img+"v1.2.1", img+"v1.2.2", img+"v1.2.3")

	p, path := pipeline(t, e, "y")
	target := spec.Object{Kind: spec.KindDeployment, Namespace: ns, Name: "pay-vigil"}
	a := actions.Rollback(e, spec.RollbackParams{})

	// A dry run previews the template difference and changes nothing.
	out, err := p.Execute(ctxT(t, 30*time.Second), a, target, spec.Request{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("preview:\n%s", out.Preview)
	if !strings.Contains(out.Preview.String(), "image "+img+"v1.2.3 → "+img+"v1.2.2") ||
		out.Preview.Summary != "roll deployment/"+ns+"/pay-vigil back to revision 2" || out.Preview.DryRun != "server dry-run: rolled back" {
		t.Fatalf("preview %+v", out.Preview)
	}
	if d := waitRevision(t, e.Kube, ns, "pay-vigil", "3"); d.Spec.Template.Spec.Containers[0].Image != img+"v1.2.3" {
		t.Fatal("the dry run changed the Deployment")
	}

	out, err = p.Execute(ctxT(t, 30*time.Second), a, target, spec.Request{Reason: "INC-123"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Result.Message != "rolled back" || out.Result.Verified == "" {
		t.Fatalf("result %+v", out.Result)
	}

	rb, err := polymorphichelpers.RollbackerFor(schema.GroupKind{Group: "apps", Kind: "Deployment"}, e.Kube)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rb.Rollback(kub, nil, 0, cmdutil.DryRunNone); err != nil {
		t.Fatal(err)
	}
	vig := waitRevision(t, e.Kube, ns, "pay-vigil", "4")
	kub = waitRevision(t, e.Kube, ns, "pay-kubectl", "4")
	if vig.Spec.Template.Spec.Containers[0].Image != img+"v1.2.2" {
		t.Fatalf("vigil's rollback left image %s", vig.Spec.Template.Spec.Containers[0].Image)
	}
	vt, kt := vig.Spec.Template.DeepCopy(), kub.Spec.Template.DeepCopy()
	vt.Labels["app"], kt.Labels["app"] = "x", "x"
	if !reflect.DeepEqual(vt.Spec, kt.Spec) || !reflect.DeepEqual(vt.Annotations, kt.Annotations) {
		t.Fatalf("templates differ:\nvigil   %+v\nkubectl %+v", vt, kt)
	}
	if !reflect.DeepEqual(vig.Annotations, kub.Annotations) {
		t.Fatalf("Deployment annotations differ: vigil %v kubectl %v", vig.Annotations, kub.Annotations)
	}

	// --to-revision picks a chosen revision (1 is v1.2.1).
	if _, err := p.Execute(ctxT(t, 30*time.Second), actions.Rollback(e, spec.RollbackParams{ToRevision: 1}), target, spec.Request{}); err != nil {
		t.Fatal(err)
	}
	if d := waitRevision(t, e.Kube, ns, "pay-vigil", "5"); d.Spec.Template.Spec.Containers[0].Image != img+"v1.2.1" {
		t.Fatalf("to-revision 1 gave %s", d.Spec.Template.Spec.Containers[0].Image)
	}
	recs := records(t, path)
	if len(recs) != 5 || recs[0].Phase != audit.PhaseDryRun || recs[1].Phase != audit.PhaseStarted || recs[2].Result != "succeeded" ||
		recs[1].Reason != "INC-123" || recs[1].User == "" || recs[1].Context != "local-1" {
		t.Fatalf("audit %+v", recs)
	}
}

// TestRollbackStatefulSetThroughControllerRevisions rolls a StatefulSet back the way kubectl
// does, through its ControllerRevisions.
func TestRollbackStatefulSetThroughControllerRevisions(t *testing.T) {
	e := env(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	labels := map[string]string{"app": "ledger"}
	one := int32(1)
	ss := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "ledger"}, Spec: appsv1.StatefulSetSpec{
		Replicas: &one, ServiceName: "ledger", Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "postgres:15.3"}}}}}}
	if _, err := e.Kube.AppsV1().StatefulSets(ns).Create(ctxT(t, 10*time.Second), ss, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRevisions(t, e, ns, 1)
	patch := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"db","image":"postgres:15.4"}]}}}}`)
	if _, err := e.Kube.AppsV1().StatefulSets(ns).Patch(ctxT(t, 10*time.Second), "ledger", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRevisions(t, e, ns, 2)
	p, _ := pipeline(t, e, "yes")
	out, err := p.Execute(ctxT(t, 30*time.Second), actions.Rollback(e, spec.RollbackParams{}),
		spec.Object{Kind: spec.KindStatefulSet, Namespace: ns, Name: "ledger"}, spec.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Preview.String(), "image postgres:15.4 → postgres:15.3") {
		t.Errorf("preview %s", out.Preview)
	}
	got, _ := e.Kube.AppsV1().StatefulSets(ns).Get(ctxT(t, 10*time.Second), "ledger", metav1.GetOptions{})
	if got.Spec.Template.Spec.Containers[0].Image != "postgres:15.3" {
		t.Fatalf("image after rollback %s", got.Spec.Template.Spec.Containers[0].Image)
	}
}

func waitRevisions(t *testing.T, e *actions.Env, ns string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		l, err := e.Kube.AppsV1().ControllerRevisions(ns).List(ctxT(t, 10*time.Second), metav1.ListOptions{})
		if err == nil && len(l.Items) >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the StatefulSet controller never wrote %d ControllerRevisions", n)
}

// TestPausedIsRefused: rollback and restart of a paused Deployment are disabled with the
// reason, and Execute refuses them before anything is sent.
func TestPausedIsRefused(t *testing.T) {
	e := env(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	rolledOut(t, e.Kube, ns, "paused", img+"v1.2.2", img+"v1.2.3")
	if _, err := e.Kube.AppsV1().Deployments(ns).Patch(ctxT(t, 10*time.Second), "paused", types.MergePatchType, []byte(`{"spec":{"paused":true}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	target := spec.Object{Kind: spec.KindDeployment, Namespace: ns, Name: "paused"}
	p, path := pipeline(t, e, "y")
	for _, a := range []*actions.Action{actions.Rollback(e, spec.RollbackParams{}), actions.Restart(e)} {
		if d := a.Disabled(ctxT(t, 10*time.Second), target); !strings.HasPrefix(d, "paused") {
			t.Errorf("%s Disabled = %q", a.ID, d)
		}
		_, err := p.Execute(ctxT(t, 10*time.Second), a, target, spec.Request{})
		var re *spec.RefusedError
		if !errors.As(err, &re) || re.Stage != spec.StagePreconditions {
			t.Errorf("%s on a paused Deployment: %v", a.ID, err)
		}
	}
	d, _ := e.Kube.AppsV1().Deployments(ns).Get(ctxT(t, 10*time.Second), "paused", metav1.GetOptions{})
	if d.Spec.Template.Spec.Containers[0].Image != img+"v1.2.3" || d.Spec.Template.Annotations[actions.RestartedAtAnnotation] != "" {
		t.Fatal("a refused action changed the Deployment")
	}
	if recs := records(t, path); len(recs) != 2 || recs[0].Phase != audit.PhaseRefused {
		t.Fatalf("audit %+v", recs)
	}
}

// TestRestartLikeKubectl: restart stamps kubectl.kubernetes.io/restartedAt on the pod
// template, producing a new revision.
func TestRestartLikeKubectl(t *testing.T) {
	e := env(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	rolledOut(t, e.Kube, ns, "gateway", img+"v1.2.3")
	p, _ := pipeline(t, e, "y")
	out, err := p.Execute(ctxT(t, 30*time.Second), actions.Restart(e), spec.Object{Kind: spec.KindDeployment, Namespace: ns, Name: "gateway"}, spec.Request{})
	if err != nil {
		t.Fatal(err)
	}
	d := waitRevision(t, e.Kube, ns, "gateway", "2")
	stamp := d.Spec.Template.Annotations[actions.RestartedAtAnnotation]
	if _, err := time.Parse(time.RFC3339, stamp); err != nil || !strings.Contains(out.Result.Message, stamp) {
		t.Fatalf("restartedAt %q, result %+v", stamp, out.Result)
	}
}

// TestScaleWarnsAboutHPA: the seeded api-gateway is owned by api-gateway-hpa; a dry run
// warns, and a real scale elsewhere lands and verifies.
func TestScaleWarnsAboutHPA(t *testing.T) {
	e := env(t, "local-1")
	p, _ := pipeline(t, e, "")
	out, err := p.Execute(ctxT(t, 30*time.Second), actions.Scale(e, spec.ScaleParams{Replicas: 5}),
		spec.Object{Kind: spec.KindDeployment, Namespace: "fintech-prod", Name: "api-gateway"}, spec.Request{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Preview.Warnings) == 0 || !strings.Contains(out.Preview.Warnings[0], "HorizontalPodAutoscaler api-gateway-hpa owns the replica count (min 3, max 10)") {
		t.Fatalf("preview %+v", out.Preview)
	}

	ns := lc.Namespace(t, "local-1")
	rolledOut(t, e.Kube, ns, "worker", img+"v1.2.3")
	min := int32(2)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "worker"}, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "other"},
		MinReplicas:    &min, MaxReplicas: 4}}
	if _, err = e.Kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctxT(t, 10*time.Second), hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err = p.Execute(ctxT(t, 30*time.Second), actions.Scale(e, spec.ScaleParams{Replicas: 4}),
		spec.Object{Kind: spec.KindDeployment, Namespace: ns, Name: "worker"}, spec.Request{})
	if err == nil {
		t.Fatal("an empty answer confirmed a scale")
	}
	p.Confirmer = actions.PresetConfirmer{Answer: "yes"}
	out, err = p.Execute(ctxT(t, 30*time.Second), actions.Scale(e, spec.ScaleParams{Replicas: 4}),
		spec.Object{Kind: spec.KindDeployment, Namespace: ns, Name: "worker"}, spec.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Preview.Warnings) != 0 || out.Result.Verified != "spec.replicas is 4" {
		t.Fatalf("outcome %+v", out)
	}
}

// TestReviewerIsForbiddenEverywhere: the view-only context sees every Kubernetes action
// disabled as forbidden, with kubectl's wording, and Execute refuses at the RBAC stage.
func TestReviewerIsForbiddenEverywhere(t *testing.T) {
	for _, ctxName := range []string{"local-1-reviewer", "local-2-reviewer"} {
		e := env(t, ctxName)
		p, path := pipeline(t, e, ctxName+"/fintech-prod/payment-service")
		pay := spec.Object{Kind: spec.KindDeployment, Namespace: "fintech-prod", Name: "payment-service"}
		cases := []struct {
			a      *actions.Action
			t      spec.Object
			reason string
		}{
			{actions.Rollback(e, spec.RollbackParams{}), pay, "forbidden: you cannot patch deployments in fintech-prod"},
			{actions.Restart(e), pay, "forbidden: you cannot patch deployments in fintech-prod"},
			{actions.Scale(e, spec.ScaleParams{Replicas: 3}), pay, "forbidden: you cannot patch deployments/scale in fintech-prod"},
			{actions.RefreshSecret(e, spec.SecretRefreshParams{}), spec.Object{Kind: spec.KindExternalSecret, Namespace: "fintech-prod", Name: "payment-service-secrets"},
				"forbidden: you cannot patch externalsecrets in fintech-prod"},
			{actions.ArgoSync(e, spec.ArgoSyncParams{}), spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: "fintech-app"},
				"forbidden: you cannot update applications in argocd"},
		}
		for _, c := range cases {
			if d := c.a.Disabled(ctxT(t, 10*time.Second), c.t); d != c.reason {
				t.Errorf("%s %s %s: Disabled = %q, want %q", ctxName, c.a.ID, c.t, d, c.reason)
			}
			_, err := p.Execute(ctxT(t, 10*time.Second), c.a, c.t, spec.Request{Reason: "INC-1"})
			var re *spec.RefusedError
			if !errors.As(err, &re) || re.Stage != spec.StageRBAC {
				t.Errorf("%s %s: %v", ctxName, c.a.ID, err)
			}
		}
		recs := records(t, path)
		if len(recs) != len(cases) || recs[0].User != "reviewer" && !strings.Contains(recs[0].User, "review") {
			t.Errorf("%s audit records %d, user %q", ctxName, len(recs), recs[0].User)
		}
	}
}

// TestProductionNeedsTheTypedTarget: fintech-prod is labelled environment=production, so "y"
// and Enter alone are refused; the exact <context>/<namespace>/<name> is accepted.
func TestProductionNeedsTheTypedTarget(t *testing.T) {
	e := env(t, "local-2")
	pay := spec.Object{Kind: spec.KindDeployment, Namespace: "fintech-prod", Name: "payment-service"}
	before, err := e.Kube.AppsV1().Deployments("fintech-prod").Get(ctxT(t, 10*time.Second), "payment-service", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, answer := range []string{"", "y", "yes", "local-1/fintech-prod/payment-service", "local-2/fintech-prod/payment"} {
		p, _ := pipeline(t, e, answer)
		_, err := p.Execute(ctxT(t, 10*time.Second), actions.Scale(e, spec.ScaleParams{Replicas: 3}), pay, spec.Request{Reason: "INC-1"})
		if !errors.Is(err, spec.ErrNotConfirmed) {
			t.Errorf("answer %q: %v", answer, err)
		}
	}
	// A reason is required for protected targets when configured.
	e.RequireReasonProtected = true
	p, _ := pipeline(t, e, "local-2/fintech-prod/payment-service")
	if _, err := p.Execute(ctxT(t, 10*time.Second), actions.Scale(e, spec.ScaleParams{Replicas: 3}), pay, spec.Request{}); err == nil ||
		!strings.Contains(err.Error(), "a reason is required") {
		t.Errorf("no reason: %v", err)
	}
	after, _ := e.Kube.AppsV1().Deployments("fintech-prod").Get(ctxT(t, 10*time.Second), "payment-service", metav1.GetOptions{})
	if after.Generation != before.Generation {
		t.Fatal("an unconfirmed action changed payment-service")
	}
	// The exact string confirms (a dry-run-safe scale to the current count).
	cur := *before.Spec.Replicas
	if _, err := p.Execute(ctxT(t, 30*time.Second), actions.Scale(e, spec.ScaleParams{Replicas: cur}), pay, spec.Request{Reason: "CHG-1"}); err != nil {
		t.Fatalf("typed confirmation refused: %v", err)
	}
}

// TestOutsizedScaleNeedsTheTypedTarget: scaling a two-replica Deployment in a namespace that
// is not production to 1000 (a fat finger's 10 → 1000) warns with the numbers and asks for
// the typed target: "yes" is refused and the API still says 2 replicas; 2 → 20 is an ordinary
// scale a "yes" confirms.
func TestOutsizedScaleNeedsTheTypedTarget(t *testing.T) {
	e := env(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	rolledOut(t, e.Kube, ns, "batch", img+"v1.2.3")
	target := spec.Object{Kind: spec.KindDeployment, Namespace: ns, Name: "batch"}
	replicas := func() int32 {
		t.Helper()
		d, err := e.Kube.AppsV1().Deployments(ns).Get(ctxT(t, 10*time.Second), "batch", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return *d.Spec.Replicas
	}
	if r := replicas(); r != 2 {
		t.Fatalf("the test Deployment has %d replicas, want 2", r)
	}
	p, _ := pipeline(t, e, "yes")
	out, err := p.Execute(ctxT(t, 30*time.Second), actions.Scale(e, spec.ScaleParams{Replicas: 1000}), target, spec.Request{})
	if err == nil || !strings.Contains(err.Error(), "not confirmed") {
		t.Fatalf("\"yes\" confirmed a scale from 2 to 1000: %v", err)
	}
	if !strings.Contains(strings.Join(out.Preview.Warnings, "\n"), "1000 replicas is 998 more pods than the 2 now") {
		t.Errorf("no warning with the numbers: %+v", out.Preview)
	}
	if r := replicas(); r != 2 {
		t.Errorf("after the refusal the Deployment has %d replicas", r)
	}
	if _, err = p.Execute(ctxT(t, 30*time.Second), actions.Scale(e, spec.ScaleParams{Replicas: 20}), target, spec.Request{}); err != nil {
		t.Fatalf("2 → 20 with yes: %v", err)
	}
	if r := replicas(); r != 20 {
		t.Errorf("after 2 → 20 the Deployment has %d replicas", r)
	}
}

// TestRestartSaysWhatTheControllerWillNotReplace: a StatefulSet updated OnDelete takes a new
// pod template without replacing a pod, and one with rollingUpdate.partition spares the
// ordinals below it. The restart's preview says so, and how many pods will be replaced,
// instead of "3 replica(s) will be replaced"; after the restart the pods are what the
// preview said: none of the OnDelete set's is replaced (their controller-revision-hash stays
// the old revision, as the API shows).
func TestRestartSaysWhatTheControllerWillNotReplace(t *testing.T) {
	e := env(t, "local-1")
	ns := lc.Namespace(t, "local-1")
	three, two := int32(3), int32(2)
	create := func(name string, strategy appsv1.StatefulSetUpdateStrategy) spec.Object {
		t.Helper()
		labels := map[string]string{"app": name}
		ss := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: appsv1.StatefulSetSpec{
			Replicas: &three, ServiceName: name, Selector: &metav1.LabelSelector{MatchLabels: labels}, UpdateStrategy: strategy,
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "postgres:15.3"}}}}}}
		if _, err := e.Kube.AppsV1().StatefulSets(ns).Create(ctxT(t, 10*time.Second), ss, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		return spec.Object{Kind: spec.KindStatefulSet, Namespace: ns, Name: name}
	}
	onDelete := create("ledger-ondelete", appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType})
	partitioned := create("ledger-partition", appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: &two}})
	rolling := create("ledger-rolling", appsv1.StatefulSetUpdateStrategy{})

	p, _ := pipeline(t, e, "yes")
	for _, tc := range []struct {
		t             spec.Object
		replaced, why string
	}{
		{onDelete, "0 replica(s) will be replaced", "updateStrategy OnDelete: the StatefulSet controller replaces no pod"},
		{partitioned, "1 replica(s) will be replaced", "rollingUpdate.partition 2: pods with an ordinal below 2 keep the old template"},
		{rolling, "3 replica(s) will be replaced", ""},
	} {
		out, err := p.Execute(ctxT(t, 30*time.Second), actions.Restart(e), tc.t, spec.Request{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		pv := out.Preview.String()
		if !strings.Contains(pv, tc.replaced) || (tc.why != "" && !strings.Contains(pv, "warning: "+tc.why)) || (tc.why == "" && strings.Contains(pv, "keep the old template")) {
			t.Errorf("%s: preview\n%s\nwant %q and %q", tc.t.Name, pv, tc.replaced, tc.why)
		}
	}
	// The OnDelete set, restarted: the controller makes a new revision and replaces no pod.
	podsAt := func() map[string]string {
		t.Helper()
		l, err := e.Kube.CoreV1().Pods(ns).List(ctxT(t, 10*time.Second), metav1.ListOptions{LabelSelector: "app=ledger-ondelete"})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, pod := range l.Items {
			out[pod.Name] = pod.Labels[appsv1.ControllerRevisionHashLabelKey]
		}
		return out
	}
	var before map[string]string
	if err := clustertest.Eventually(60*time.Second, 200*time.Millisecond, func() (bool, error) { before = podsAt(); return len(before) == 3, nil }); err != nil {
		t.Fatalf("the OnDelete StatefulSet's 3 pods never showed: %v", err)
	}
	if _, err := p.Execute(ctxT(t, 30*time.Second), actions.Restart(e), onDelete, spec.Request{}); err != nil {
		t.Fatal(err)
	}
	if err := clustertest.Eventually(30*time.Second, 200*time.Millisecond, func() (bool, error) {
		s, err := e.Kube.AppsV1().StatefulSets(ns).Get(ctxT(t, 10*time.Second), onDelete.Name, metav1.GetOptions{})
		return err == nil && s.Status.UpdateRevision != s.Status.CurrentRevision, err
	}); err != nil {
		t.Fatalf("the restart made no new revision: %v", err)
	}
	time.Sleep(2 * time.Second) // a controller that would replace pods has started to by now
	if after := podsAt(); !maps.Equal(after, before) {
		t.Errorf("pods before the restart %v, after %v: OnDelete replaced a pod", before, after)
	}
}
