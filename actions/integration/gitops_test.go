package integration

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/gitops"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

var fintechApp = spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: "fintech-app"}

// readApp reads an Application back with client-go's dynamic client.
func readApp(t *testing.T, e *actions.Env, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := e.Dynamic.Resource(gvrApp).Namespace("argocd").Get(ctxT(t, 10*time.Second), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// restoreApp puts the Application's spec and annotations back as they were when the test
// started, whatever the test left behind, so the seeded fintech-app stays automated for the
// other tests.
func restoreApp(t *testing.T, e *actions.Env, name string) {
	t.Helper()
	orig := readApp(t, e, name)
	t.Cleanup(func() {
		u := readApp(t, e, name)
		u.Object["spec"] = orig.Object["spec"]
		u.SetAnnotations(orig.GetAnnotations())
		if _, err := e.Dynamic.Resource(gvrApp).Namespace("argocd").Update(ctxT(t, 10*time.Second), u, metav1.UpdateOptions{}); err != nil {
			t.Errorf("restoring application %s: %v", name, err)
		}
	})
}

// argoSetSyncPolicyNone is what `argocd app set APP --sync-policy none` does to a spec, written
// from Argo CD's cmd/util (SetAppSpecOptions: Automated = nil; a SyncPolicy that IsZero —
// no automated, syncOptions, retry or managedNamespaceMetadata — becomes nil), on a copy of
// the JSON spec.
func argoSetSyncPolicyNone(spec map[string]any) map[string]any {
	out := deepCopyJSON(spec)
	sp, ok := out["syncPolicy"].(map[string]any)
	if !ok {
		return out
	}
	delete(sp, "automated")
	opts, _ := sp["syncOptions"].([]any)
	if sp["retry"] == nil && sp["managedNamespaceMetadata"] == nil && len(opts) == 0 {
		delete(out, "syncPolicy")
	}
	return out
}

func deepCopyJSON(m map[string]any) map[string]any {
	return runtimeDeepCopy(m)
}

func runtimeDeepCopy(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: map[string]any{"x": m}}).DeepCopy().Object["x"].(map[string]any)
}

// TestSuspendAndResumeAutoSyncAsArgoCDDoes: suspending the seeded fintech-app's automated
// sync changes its spec exactly as `argocd app set fintech-app --sync-policy none` would
// (spec.syncPolicy keeps its syncOptions and retry), records who, why and until when, and
// re-enabling restores the spec as it was, byte for byte. An app whose syncPolicy held only
// automated loses syncPolicy altogether, as Argo CD's IsZero rule says.
func TestSuspendAndResumeAutoSyncAsArgoCDDoes(t *testing.T) {
	e := env(t, "local-1")
	user, err := e.User(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	restoreApp(t, e, "fintech-app")
	before := readApp(t, e, "fintech-app")
	p, path := pipeline(t, e, "local-1/argocd/fintech-app")

	start := time.Now()
	out, err := p.Execute(ctxT(t, 30*time.Second), actions.SuspendAutoSync(e, spec.SuspendAutoSyncParams{For: 47 * time.Minute}), fintechApp, spec.Request{Reason: "INC-7: payment-service v1.2.3 5xx"})
	if err != nil {
		t.Fatalf("suspend: %v\n%s", err, out.Preview)
	}
	t.Logf("preview:\n%s", out.Preview)
	after := readApp(t, e, "fintech-app")
	if want := argoSetSyncPolicyNone(before.Object["spec"].(map[string]any)); !reflect.DeepEqual(after.Object["spec"], want) {
		t.Fatalf("spec after suspend\n got  %v\n want %v", after.Object["spec"], want)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(after.Object, "spec", "syncPolicy", "retry"); !found {
		t.Fatal("spec.syncPolicy.retry was dropped")
	}
	s := gitops.SuspensionOf(after.GetAnnotations())
	wantSaved := before.Object["spec"].(map[string]any)["syncPolicy"].(map[string]any)["automated"]
	if s == nil || !reflect.DeepEqual(s.Saved, wantSaved) || s.By != user || s.Reason != "INC-7: payment-service v1.2.3 5xx" {
		t.Fatalf("suspension annotations %v", after.GetAnnotations())
	}
	if d := s.Until.Sub(start); d < 46*time.Minute || d > 48*time.Minute {
		t.Errorf("until %s is %s after the start, want 47m", s.Until, d)
	}
	// Every other annotation is untouched.
	for k, v := range before.GetAnnotations() {
		if after.GetAnnotations()[k] != v {
			t.Errorf("annotation %s changed", k)
		}
	}

	// A second suspension is refused; so is a resume by someone in read-only mode.
	if d := actions.SuspendAutoSync(e, spec.SuspendAutoSyncParams{For: time.Hour}).Disabled(ctxT(t, 10*time.Second), fintechApp); d == "" {
		t.Error("a second suspension was allowed")
	}
	ro := env(t, "local-1")
	ro.ReadOnly = true
	rp, _ := pipeline(t, ro, "local-1/argocd/fintech-app")
	_, err = rp.Execute(ctxT(t, 10*time.Second), actions.ResumeAutoSync(ro), fintechApp, spec.Request{Reason: "x"})
	var re *spec.RefusedError
	if !errors.As(err, &re) || re.Stage != spec.StageReadOnly {
		t.Fatalf("read-only resume: %v", err)
	}

	if _, err := p.Execute(ctxT(t, 30*time.Second), actions.ResumeAutoSync(e), fintechApp, spec.Request{Reason: "INC-7: fixed in Git"}); err != nil {
		t.Fatalf("resume: %v", err)
	}
	resumed := readApp(t, e, "fintech-app")
	if !reflect.DeepEqual(resumed.Object["spec"], before.Object["spec"]) {
		t.Fatalf("spec after resume\n got  %v\n want %v", resumed.Object["spec"], before.Object["spec"])
	}
	if !reflect.DeepEqual(resumed.GetAnnotations(), before.GetAnnotations()) {
		t.Fatalf("annotations after resume %v, want %v", resumed.GetAnnotations(), before.GetAnnotations())
	}
	recs := records(t, path)
	if len(recs) != 4 || recs[1].Action != "argo-suspend-auto-sync" || recs[1].Result != "succeeded" || recs[3].Action != "argo-resume-auto-sync" || recs[3].Result != "succeeded" {
		t.Fatalf("audit %+v", recs)
	}

	// syncPolicy: {automated: …} alone goes away entirely (SyncPolicy.IsZero).
	name := "vigil-suspend-" + rand.String(5)
	apps := e.Dynamic.Resource(gvrApp).Namespace("argocd")
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": name, "namespace": "argocd"},
		"spec": map[string]any{"project": "fintech-project",
			"source":      map[string]any{"repoURL": repo, "targetRevision": "main", "path": "overlays/production"},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": "fintech-staging"},
			"syncPolicy":  map[string]any{"automated": map[string]any{"selfHeal": true}}},
	}}
	if _, err := apps.Create(ctxT(t, 10*time.Second), app, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = apps.Delete(ctxT(t, 10*time.Second), name, metav1.DeleteOptions{}) })
	before = readApp(t, e, name)
	target := spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: name}
	p2, _ := pipeline(t, e, "yes")
	if _, err := p2.Execute(ctxT(t, 30*time.Second), actions.SuspendAutoSync(e, spec.SuspendAutoSyncParams{For: time.Hour}), target, spec.Request{Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	after = readApp(t, e, name)
	if _, found := after.Object["spec"].(map[string]any)["syncPolicy"]; found {
		t.Fatalf("spec.syncPolicy should be gone, spec %v", after.Object["spec"])
	}
	if want := argoSetSyncPolicyNone(before.Object["spec"].(map[string]any)); !reflect.DeepEqual(after.Object["spec"], want) {
		t.Fatalf("spec after suspend\n got  %v\n want %v", after.Object["spec"], want)
	}
	if _, err := p2.Execute(ctxT(t, 30*time.Second), actions.ResumeAutoSync(e), target, spec.Request{Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	if got := readApp(t, e, name); !reflect.DeepEqual(got.Object["spec"], before.Object["spec"]) {
		t.Fatalf("spec after resume %v, want %v", got.Object["spec"], before.Object["spec"])
	}
}

var payment = spec.Object{Kind: spec.KindDeployment, Namespace: "fintech-prod", Name: "payment-service"}

// TestDirectChangesSayWhatArgoCDWillDo: on local-1, payment-service belongs to fintech-app
// (automated, prune, selfHeal; ignoreDifferences /spec/replicas of apps Deployments). A direct
// rollback is refused with the app named and what self-heal will do — revision N being the
// Deployment's live revision annotation — and goes through only against GitOps, knowingly and
// on the record; a scale is ignored by the app's ignoreDifferences and says so.
func TestDirectChangesSayWhatArgoCDWillDo(t *testing.T) {
	e := env(t, "local-1")
	d, err := e.Kube.AppsV1().Deployments("fintech-prod").Get(ctxT(t, 10*time.Second), "payment-service", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	live := d.Annotations["deployment.kubernetes.io/revision"]
	says := "Argo CD app fintech-app (automated (prune, selfHeal)): self-heal will restore revision " + live + " within ~3 min"

	rb := actions.Rollback(e, spec.RollbackParams{})
	if r := rb.Disabled(ctxT(t, 20*time.Second), payment); !strings.HasPrefix(r, says) || !strings.Contains(r, "--against-gitops") {
		t.Fatalf("rollback Disabled = %q, want it to start %q", r, says)
	}
	p, path := pipeline(t, e, "local-1/fintech-prod/payment-service")
	_, err = p.Execute(ctxT(t, 20*time.Second), rb, payment, spec.Request{Reason: "INC-7"})
	var re *spec.RefusedError
	if !errors.As(err, &re) || re.Stage != spec.StagePreconditions {
		t.Fatalf("rollback without --against-gitops: %v", err)
	}

	// Against GitOps, knowingly: the preview names the app and what self-heal will do.
	against := actions.Rollback(e, spec.RollbackParams{GitOpsParams: spec.GitOpsParams{AgainstGitOps: true}})
	out, err := p.Execute(ctxT(t, 20*time.Second), against, payment, spec.Request{Reason: "INC-7", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("preview:\n%s", out.Preview)
	if w := strings.Join(out.Preview.Warnings, "\n"); !strings.Contains(w, "Argo CD: "+says) || !strings.Contains(w, "going against GitOps") {
		t.Fatalf("warnings %q", out.Preview.Warnings)
	}
	recs := records(t, path)
	if last := recs[len(recs)-1]; !strings.Contains(last.Params, "against-gitops=true") || last.Action != "rollback" {
		t.Fatalf("the knowing drift is not on the record: %+v", last)
	}

	// Scale: the seeded app ignores /spec/replicas of apps Deployments.
	app := readApp(t, e, "fintech-app")
	ignore, _, _ := unstructured.NestedSlice(app.Object, "spec", "ignoreDifferences")
	if !strings.Contains(fmt.Sprint(ignore), "/spec/replicas") {
		t.Fatalf("seed changed: ignoreDifferences %v", ignore)
	}
	sc := actions.Scale(e, spec.ScaleParams{Replicas: *d.Spec.Replicas + 1})
	out, err = p.Execute(ctxT(t, 20*time.Second), sc, payment, spec.Request{Reason: "INC-7", DryRun: true})
	if err != nil {
		t.Fatalf("scale is ignored by ignoreDifferences and must not be refused: %v", err)
	}
	if det := strings.Join(out.Preview.Details, "\n"); !strings.Contains(det, "Argo CD: Argo CD app fintech-app: ignored by ignoreDifferences (/spec/replicas): stays") {
		t.Fatalf("scale details %q", out.Preview.Details)
	}
}

// TestEmergencyRollbackFlow: the guided flow on the seeded fintech-app and payment-service
// suspends automated sync exactly as `argocd app set --sync-policy none` would, rolls back to
// revision 2 (its image read from revision 2's ReplicaSet), waits for the rollout, and writes
// four attempts to the audit log; the header's reminder reads from the Application; re-enable
// restores the automated block; read-only mode refuses the flow and every step.
func TestEmergencyRollbackFlow(t *testing.T) {
	e := env(t, "local-1")
	user, err := e.User(ctxT(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	restoreApp(t, e, "fintech-app")
	deploys := e.Kube.AppsV1().Deployments("fintech-prod")
	orig, err := deploys.Get(ctxT(t, 10*time.Second), "payment-service", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // roll payment-service forward again for the other tests
		d, gerr := deploys.Get(ctxT(t, 10*time.Second), "payment-service", metav1.GetOptions{})
		if gerr == nil {
			d.Spec.Template = orig.Spec.Template
			_, gerr = deploys.Update(ctxT(t, 10*time.Second), d, metav1.UpdateOptions{})
		}
		if gerr != nil {
			t.Errorf("restoring payment-service: %v", gerr)
		}
	})
	before := readApp(t, e, "fintech-app")

	// Read-only: the flow and each of its steps are refused, and nothing changes.
	ro := env(t, "local-1")
	ro.ReadOnly = true
	rp, roPath := pipeline(t, ro, "local-1/fintech-prod/payment-service")
	var re *spec.RefusedError
	if _, rerr := rp.EmergencyRollback(ctxT(t, 20*time.Second), payment, actions.EmergencyRollbackParams{ToRevision: 2, SuspendFor: time.Hour}, spec.Request{Reason: "INC-7"}); !errors.As(rerr, &re) || re.Stage != spec.StageReadOnly {
		t.Fatalf("read-only flow: %v", rerr)
	}
	for _, s := range []struct {
		a *actions.Action
		t spec.Object
	}{
		{actions.SuspendAutoSync(ro, spec.SuspendAutoSyncParams{For: time.Hour}), fintechApp},
		{actions.Rollback(ro, spec.RollbackParams{ToRevision: 2, GitOpsParams: spec.GitOpsParams{AgainstGitOps: true}}), payment},
		{actions.VerifyHealthy(ro, time.Minute), payment},
		{actions.ResumeAutoSync(ro), fintechApp},
	} {
		if _, rerr := rp.Execute(ctxT(t, 20*time.Second), s.a, s.t, spec.Request{Reason: "INC-7"}); !errors.As(rerr, &re) || re.Stage != spec.StageReadOnly {
			t.Errorf("read-only %s: %v", s.a.ID, rerr)
		}
	}
	if recs := records(t, roPath); len(recs) != 5 {
		t.Errorf("read-only: %d audit records, want 5 refusals", len(recs))
	}
	if got := readApp(t, e, "fintech-app"); !reflect.DeepEqual(got.Object["spec"], before.Object["spec"]) {
		t.Fatal("a read-only attempt changed fintech-app")
	}

	// Revision 2's image, from its ReplicaSet.
	rss, err := e.Kube.AppsV1().ReplicaSets("fintech-prod").List(ctxT(t, 10*time.Second), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want2 := ""
	for _, rs := range rss.Items {
		if metav1.IsControlledBy(&rs, orig) && rs.Annotations["deployment.kubernetes.io/revision"] == "2" {
			want2 = rs.Spec.Template.Spec.Containers[0].Image
		}
	}
	if want2 == "" || want2 == orig.Spec.Template.Spec.Containers[0].Image {
		t.Fatalf("revision 2's image %q (live %q)", want2, orig.Spec.Template.Spec.Containers[0].Image)
	}

	p, path := pipeline(t, e, "local-1/fintech-prod/payment-service")
	var progress []string
	out, err := p.EmergencyRollback(ctxT(t, 3*time.Minute), payment, actions.EmergencyRollbackParams{ToRevision: 2, SuspendFor: 47 * time.Minute, HealthyWithin: 2 * time.Minute},
		spec.Request{Reason: "INC-7: payment-service v1.2.3 5xx", Progress: func(ev spec.Progress) { progress = append(progress, ev.Message) }})
	t.Logf("preview:\n%s\nresult:\n%s", out.Preview, out.Result.Message)
	if err != nil {
		t.Fatalf("flow: %v", err)
	}
	if !strings.Contains(out.Preview.Summary, "suspend auto-sync of fintech-app for 47m0s → roll back to revision 2 → verify healthy") {
		t.Errorf("plan %q", out.Preview.Summary)
	}
	for _, step := range []string{"step 1/3: suspend automated sync of fintech-app", "step 2/3: roll payment-service back to revision 2", "step 3/3: verify payment-service is healthy"} {
		if !slices.Contains(progress, step) {
			t.Errorf("no progress %q in %q", step, progress)
		}
	}
	after := readApp(t, e, "fintech-app")
	if want := argoSetSyncPolicyNone(before.Object["spec"].(map[string]any)); !reflect.DeepEqual(after.Object["spec"], want) {
		t.Fatalf("spec after the flow's suspend\n got  %v\n want %v", after.Object["spec"], want)
	}
	d, _ := deploys.Get(ctxT(t, 10*time.Second), "payment-service", metav1.GetOptions{})
	if img := d.Spec.Template.Spec.Containers[0].Image; img != want2 {
		t.Fatalf("image after the flow %s, want revision 2's %s", img, want2)
	}
	if d.Status.ObservedGeneration < d.Generation || d.Status.AvailableReplicas != *d.Spec.Replicas || d.Status.UpdatedReplicas != *d.Spec.Replicas {
		t.Fatalf("verified healthy but status %+v", d.Status)
	}

	// Four attempts: the flow around suspend, rollback and verify.
	recs := records(t, path)
	attempts := map[string][]string{}
	var flowAttempt string
	for _, r := range recs {
		attempts[r.Attempt] = append(attempts[r.Attempt], r.Action+":"+string(r.Phase)+":"+r.Result)
		if r.Action == actions.EmergencyRollbackID {
			flowAttempt = r.Attempt
		} else if !strings.Contains(r.Params, "flow=") {
			t.Errorf("step record without its flow: %+v", r)
		}
	}
	if len(recs) != 8 || len(attempts) != 4 || recs[0].Action != actions.EmergencyRollbackID || recs[7].Action != actions.EmergencyRollbackID ||
		recs[7].Result != "succeeded" || recs[0].Reason != "INC-7: payment-service v1.2.3 5xx" {
		t.Fatalf("audit: %d records, attempts %v", len(recs), attempts)
	}
	for _, id := range []string{"argo-suspend-auto-sync", "rollback", "verify-healthy"} {
		found := false
		for _, r := range recs {
			found = found || (r.Action == id && r.Result == "succeeded" && strings.Contains(r.Params, "flow="+flowAttempt))
		}
		if !found {
			t.Errorf("no succeeded %s record of flow %s", id, flowAttempt)
		}
	}

	// The header's reminder, from the Application as read back.
	s := gitops.SuspensionOf(after.GetAnnotations())
	if s == nil {
		t.Fatal("no suspension on fintech-app")
	}
	if got, want := s.Reminder("fintech-app", s.At), "fintech-app auto-sync suspended by "+user+" for 47 more minutes: re-enable or revert in Git"; got != want {
		t.Errorf("reminder %q, want %q", got, want)
	}

	// Re-enable: the automated block comes back exactly.
	ap, _ := pipeline(t, e, "local-1/argocd/fintech-app")
	if _, err := ap.Execute(ctxT(t, 30*time.Second), actions.ResumeAutoSync(e), fintechApp, spec.Request{Reason: "INC-7: reverted in Git"}); err != nil {
		t.Fatal(err)
	}
	if got := readApp(t, e, "fintech-app"); !reflect.DeepEqual(got.Object["spec"], before.Object["spec"]) {
		t.Fatalf("spec after re-enable %v, want %v", got.Object["spec"], before.Object["spec"])
	}
}

// TestHeadlessGitOpsGuards: a headless rollback of payment-service without a GitOps flag is
// refused with the app and what self-heal will do; --against-gitops previews the knowing
// drift; --suspend-auto-sync previews the guided flow's plan; read-only mode refuses the
// suspension and re-enable commands; re-enable without a suspension is refused.
func TestHeadlessGitOpsGuards(t *testing.T) {
	e := env(t, "local-1")
	before := readApp(t, e, "fintech-app")
	// Wait until the deployment controller has caught up with what other tests did.
	var d0 *appsv1.Deployment
	if err := clustertest.Eventually(60*time.Second, 100*time.Millisecond, func() (bool, error) {
		var gerr error
		d0, gerr = e.Kube.AppsV1().Deployments("fintech-prod").Get(ctxT(t, 10*time.Second), "payment-service", metav1.GetOptions{})
		return gerr == nil && d0.Status.ObservedGeneration >= d0.Generation, gerr
	}); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "audit.jsonl")
	// The previous revision, as kubectl picks it: the highest ReplicaSet revision but one
	// (other tests of this package roll payment-service back and forth).
	rss, err := e.Kube.AppsV1().ReplicaSets("fintech-prod").List(ctxT(t, 10*time.Second), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var revs []int
	for _, rs := range rss.Items {
		if metav1.IsControlledBy(&rs, d0) {
			n, _ := strconv.Atoi(rs.Annotations["deployment.kubernetes.io/revision"])
			revs = append(revs, n)
		}
	}
	slices.Sort(revs)
	if len(revs) < 2 {
		t.Fatalf("revisions %v", revs)
	}
	previous := strconv.Itoa(revs[len(revs)-2])
	common := []string{"deploy/payment-service", "-n", "fintech-prod", "--context", "local-1", "--audit-log", log, "--reason", "INC-7",
		"--confirm", "local-1/fintech-prod/payment-service"}

	out, err := vigil(t, "", append([]string{"rollback"}, common...)...)
	if err == nil || !strings.Contains(err.Error(), "refused (preconditions): Argo CD app fintech-app (automated (prune, selfHeal)): self-heal will restore revision "+d0.Annotations["deployment.kubernetes.io/revision"]) ||
		!strings.Contains(err.Error(), "--against-gitops") {
		t.Fatalf("rollback without a GitOps flag: %v\n%s", err, out)
	}
	out, err = vigil(t, "", append([]string{"rollback", "--against-gitops", "--dry-run"}, common...)...)
	if err != nil || !strings.Contains(out, "warning: going against GitOps") || !strings.Contains(out, "warning: Argo CD: Argo CD app fintech-app") {
		t.Fatalf("--against-gitops --dry-run: %v\n%s", err, out)
	}
	out, err = vigil(t, "", append([]string{"rollback", "--suspend-auto-sync", "30m", "--dry-run"}, common...)...)
	if err != nil || !strings.Contains(out, "suspend auto-sync of fintech-app for 30m0s → roll back to revision "+previous+" → verify healthy") || !strings.Contains(out, "dry run: nothing changed") {
		t.Fatalf("--suspend-auto-sync --dry-run: %v\n%s", err, out)
	}
	out, err = vigil(t, "", append([]string{"rollback", "--suspend-auto-sync", "30m", "--against-gitops"}, common...)...)
	if err == nil || !strings.Contains(err.Error(), "exclude each other") {
		t.Fatalf("both flags: %v\n%s", err, out)
	}
	app := []string{"-n", "argocd", "--context", "local-1", "--audit-log", log, "--reason", "INC-7", "--confirm", "local-1/argocd/fintech-app"}
	out, err = vigil(t, "", append([]string{"argo", "suspend-auto-sync", "fintech-app", "--for", "10m", "--read-only"}, app...)...)
	if err == nil || !strings.Contains(err.Error(), "refused (read-only): read-only mode") {
		t.Fatalf("read-only suspend: %v\n%s", err, out)
	}
	out, err = vigil(t, "", append([]string{"argo", "resume-auto-sync", "fintech-app", "--read-only"}, app...)...)
	if err == nil || !strings.Contains(err.Error(), "refused (read-only): read-only mode") {
		t.Fatalf("read-only resume: %v\n%s", err, out)
	}
	out, err = vigil(t, "", append([]string{"argo", "resume-auto-sync", "fintech-app"}, app...)...)
	if err == nil || !strings.Contains(err.Error(), "automated sync of fintech-app is on: nothing to re-enable") {
		t.Fatalf("resume while on: %v\n%s", err, out)
	}
	d1, _ := e.Kube.AppsV1().Deployments("fintech-prod").Get(ctxT(t, 10*time.Second), "payment-service", metav1.GetOptions{})
	if d1.Generation != d0.Generation || !reflect.DeepEqual(readApp(t, e, "fintech-app").Object["spec"], before.Object["spec"]) {
		t.Fatal("a refused or dry-run command changed payment-service or fintech-app")
	}
	out, err = vigil(t, "", "audit", "verify", "--audit-log", log)
	if err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
}
