package actions

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/estate"
	"sigs.k8s.io/yaml"
)

// managedResourcesFixture is GET /api/v1/applications/fintech-app/managed-resources as
// argocd-server answers it: items of v1alpha1.ResourceDiff (argo-cd pkg/apis/application/
// v1alpha1/types.go), the states JSON documents in strings, "null" for a side that does not
// exist (controller/appcontroller.go getResourceTree… LiveState/TargetState), and, as
// gitops-engine's diff.TwoWayDiff sets them, normalizedLiveState "null" with the manifest as
// predictedLiveState for a resource to create, predictedLiveState "null" for one no longer in
// Git; a hook is marked hook: true. It holds a Deployment whose image, replicas, env and a label
// change, an unchanged Service, a ConfigMap whose new value carries terminal escapes, a Secret
// with values in clear (a server that does not redact, as Argo CD does with "++++++++") and
// with Argo's pluses, an HPA to create, a ConfigMap to prune and a PreSync Job.
func managedResourcesFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/argo/managed-resources.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serveManagedResources is argocd-server's managed-resources endpoint for fintech-app in argocd.
func serveManagedResources(t *testing.T, body []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer s3cret":
			http.Error(w, `{"error":"invalid session","code":16,"message":"invalid session: token is invalid"}`, http.StatusUnauthorized)
		case r.Method != http.MethodGet || r.URL.Path != "/api/v1/applications/fintech-app/managed-resources" || r.URL.Query().Get("appNamespace") != "argocd":
			http.Error(w, `{"error":"not found","code":5,"message":"applications.argoproj.io \"x\" not found"}`, http.StatusNotFound)
		default:
			w.Write(body)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// applyUnified applies a unified diff's hunks to from: what a patch tool would make of it.
// An independent reading of the diff: applied to the live YAML it must give the desired YAML,
// so nothing that changes is left out of what the operator reads.
func applyUnified(t *testing.T, from string, diff []string) string {
	t.Helper()
	src := strings.Split(strings.TrimSuffix(from, "\n"), "\n")
	if from == "" {
		src = nil
	}
	var out []string
	pos := 0
	for _, l := range diff {
		switch {
		case strings.HasPrefix(l, "---"), strings.HasPrefix(l, "+++"):
		case strings.HasPrefix(l, "@@"):
			a, b := hunkFrom(t, l)
			start := max(a-1, 0)
			if b == 0 {
				start = a
			}
			out = append(out, src[pos:start]...)
			pos = start
		case strings.HasPrefix(l, " "):
			if src[pos] != l[1:] {
				t.Fatalf("context %q does not match %q", l[1:], src[pos])
			}
			out = append(out, src[pos])
			pos++
		case strings.HasPrefix(l, "-"):
			if src[pos] != l[1:] {
				t.Fatalf("removed %q does not match %q", l[1:], src[pos])
			}
			pos++
		case strings.HasPrefix(l, "+"):
			out = append(out, l[1:])
		}
	}
	out = append(out, src[pos:]...)
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// hunkFrom reads the start and length of the old side of a hunk header "@@ -a[,b] +c[,d] @@".
func hunkFrom(t *testing.T, h string) (start, n int) {
	t.Helper()
	f := strings.Fields(h)
	if len(f) < 3 || !strings.HasPrefix(f[1], "-") {
		t.Fatalf("hunk header %q", h)
	}
	a, b, ok := strings.Cut(f[1][1:], ",")
	start, err := strconv.Atoi(a)
	n = 1
	if ok && err == nil {
		n, err = strconv.Atoi(b)
	}
	if err != nil {
		t.Fatalf("hunk header %q: %v", h, err)
	}
	return start, n
}

// TestArgoAppDiffFromManagedResources: against a server speaking Argo CD's managed-resources
// API, the diff lists the resources that differ (the Deployment, whose image changes, first),
// counts the unchanged one and the hook, each diff applied to the live YAML gives the desired
// YAML read from the fixture, no Secret value shows in any form, and no terminal control
// passes.
func TestArgoAppDiffFromManagedResources(t *testing.T) {
	body := managedResourcesFixture(t)
	srv := serveManagedResources(t, body)
	c := NewArgoServerClient(srv.URL, "s3cret", false, false)
	d, err := c.AppDiff(context.Background(), "argocd", "fintech-app")
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, r := range d.Resources {
		titles = append(titles, r.Title()+" "+r.Change)
	}
	want := []string{
		"apps/Deployment fintech-prod/payment-service modified",
		// then data, created and pruned resources alike, in Argo CD's order (group/kind/namespace/name)
		"ConfigMap fintech-prod/payment-flags modified",
		"ConfigMap fintech-prod/payment-legacy-flags not in Git: only a sync with prune deletes it",
		"Secret fintech-prod/payment-db modified",
		"autoscaling/HorizontalPodAutoscaler fintech-prod/payment-service missing: a sync creates it",
	}
	if !reflect.DeepEqual(titles, want) || d.Same != 1 || d.Hooks != 1 {
		t.Fatalf("resources %q same %d hooks %d", titles, d.Same, d.Hooks)
	}
	dep := d.Resources[0]
	wantFields := []string{"spec.template.spec.containers[payment-service].image", "spec.replicas",
		"spec.template.spec.containers[payment-service].env[LOG_LEVEL].value", "metadata.labels.team"}
	if !reflect.DeepEqual(dep.Fields, wantFields) {
		t.Errorf("fields %q, want %q", dep.Fields, wantFields)
	}

	// Each resource's diff, applied to its live YAML, gives its desired YAML: both read from
	// the fixture here, with what a sync never changes (status, server-set metadata) dropped.
	var resp struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatal(err)
	}
	side := func(s any) string {
		if s == nil || s == "null" {
			return ""
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s.(string)), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "status")
		md := m["metadata"].(map[string]any)
		for _, k := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp"} {
			delete(md, k)
		}
		b, _ := yaml.Marshal(m)
		return string(b)
	}
	checked := 0
	for _, it := range resp.Items {
		if it["kind"] == "Secret" || it["hook"] == true {
			continue
		}
		for _, r := range d.Resources {
			if r.Kind != it["kind"] || r.Name != it["name"] {
				continue
			}
			live, desired := side(it["normalizedLiveState"]), side(it["predictedLiveState"])
			if got := applyUnified(t, live, r.Lines); got != desired {
				t.Errorf("%s: the diff applied to the live state gives\n%s\nnot the desired state\n%s", r.Title(), got, desired)
			}
			checked++
		}
	}
	if checked != 4 {
		t.Fatalf("checked %d diffs, want 4", checked)
	}

	text := strings.Join(d.Text(), "\n")
	for _, leak := range []string{"b2xkLXMzY3JldA==", "bmV3LXMzY3JldA==", "cGF5bWVudHM=", "dG9rZW4tdmFsdWU=", "old-s3cret", "new-s3cret", "++++++++"} {
		if strings.Contains(text, leak) {
			t.Errorf("the diff shows a Secret value %q:\n%s", leak, text)
		}
	}
	sec := strings.Join(d.Resources[3].Lines, "\n")
	for _, l := range []string{"-  password: (hidden live value)", "+  password: (hidden desired value)", "+  token: (hidden)", "   username: (hidden)"} {
		if !strings.Contains(sec, l) {
			t.Errorf("the Secret's diff lacks %q:\n%s", l, sec)
		}
	}
	if strings.ContainsAny(text, "\x1b\a") {
		t.Errorf("terminal control in the diff: %q", text)
	}
	if strings.Contains(text, "readyReplicas") || strings.Contains(text, "managedFields") || strings.Contains(text, "resourceVersion") {
		t.Errorf("status or managedFields in the diff:\n%s", text)
	}
	for _, l := range d.Resources[4].Lines[3:] {
		if !strings.HasPrefix(l, "+") {
			t.Errorf("a resource to create has a line that is not an addition: %q", l)
		}
	}

	// Argo CD's own errors come through, named.
	c.Token = "wrong"
	if _, err := c.AppDiff(context.Background(), "argocd", "fintech-app"); err == nil || !strings.Contains(err.Error(), "token is invalid") {
		t.Errorf("bad token: %v", err)
	}
}

// TestMaskSecretsStringData: stringData is masked as data is, a value on one side only too.
func TestMaskSecretsStringData(t *testing.T) {
	live := map[string]any{"stringData": map[string]any{"a": "one", "b": "same"}}
	desired := map[string]any{"stringData": map[string]any{"a": "two", "b": "same", "c": "new"}}
	maskSecrets(live, desired)
	if got := yamlOf(live) + yamlOf(desired); strings.Contains(got, "one") || strings.Contains(got, "two") || strings.Contains(got, "same") || strings.Contains(got, "new") {
		t.Fatalf("stringData value shown:\n%s", got)
	}
	if live["stringData"].(map[string]any)["a"] == desired["stringData"].(map[string]any)["a"] {
		t.Error("a changed value masks alike on both sides: the change would not show")
	}
}

// TestArgoSyncPreviewShowsTheDiff: in server mode the sync's confirmation shows what Argo CD
// would change, resource by resource; a diff that cannot be read is a warning, not a refusal.
func TestArgoSyncPreviewShowsTheDiff(t *testing.T) {
	fake := &fakeArgoServer{canSync: true, managed: managedResourcesFixture(t)}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	env, _ := fakeEnv(t, nil)
	env.Argo = NewArgoServerClient(srv.URL, "s3cret", false, false)
	p, _ := newPipeline(t, env, PresetConfirmer{Answer: "local-1/argocd/fintech-app"})
	app := spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: "fintech-app"}
	out, err := p.Execute(context.Background(), ArgoSync(env, spec.ArgoSyncParams{}), app, spec.Request{DryRun: true, Reason: "CHG-1"})
	if err != nil {
		t.Fatal(err)
	}
	pv := out.Preview.String()
	for _, l := range []string{"what Argo CD would change (managed resources, live → desired): 5 resources would change, 1 unchanged, 1 hook not diffed",
		"===== apps/Deployment fintech-prod/payment-service (modified) =====",
		"changed: spec.template.spec.containers[payment-service].image, spec.replicas",
		"-        image: registry.fintech.internal/payment-service:v1.2.3",
		"+        image: registry.fintech.internal/payment-service:v1.2.4"} {
		if !strings.Contains(pv, l) {
			t.Errorf("preview lacks %q:\n%s", l, pv)
		}
	}
	if len(fake.posts) != 0 {
		t.Fatalf("a dry run posted %v", fake.posts)
	}
	// What vigil argo sync --dry-run prints: terminal control from Argo CD comes out inert.
	if strings.ContainsAny(pv, "\x1b\a") || !strings.Contains(pv, "EVIL") {
		t.Errorf("the preview carries terminal control, or lost the hostile key:\n%q", pv)
	}

	fake.managed = []byte(`{"items":[{"kind":"ConfigMap","name":"x","normalizedLiveState":"{not json"}]}`)
	out, err = p.Execute(context.Background(), ArgoSync(env, spec.ArgoSyncParams{}), app, spec.Request{DryRun: true, Reason: "CHG-1"})
	if err != nil || !strings.Contains(strings.Join(out.Preview.Warnings, "\n"), "what Argo CD would change is unavailable: ConfigMap x: live state") {
		t.Fatalf("unreadable diff: %v %+v", err, out.Preview)
	}
}

// TestArgoDiffOrdersWhatMatters: a resource whose image changes comes before one whose labels
// do, whatever Argo CD's name order.
func TestArgoDiffOrdersWhatMatters(t *testing.T) {
	label := `{"kind":"ConfigMap","metadata":{"name":"a","labels":{"x":"1"}}}`
	label2 := `{"kind":"ConfigMap","metadata":{"name":"a","labels":{"x":"2"}}}`
	img := `{"kind":"Deployment","spec":{"template":{"spec":{"containers":[{"name":"c","image":"v1"}]}}}}`
	img2 := `{"kind":"Deployment","spec":{"template":{"spec":{"containers":[{"name":"c","image":"v2"}]}}}}`
	d, err := argoDiff([]argoResourceDiff{
		{Kind: "ConfigMap", Name: "a", NormalizedLiveState: label, PredictedLiveState: label2},
		{Group: "apps", Kind: "Deployment", Name: "z", NormalizedLiveState: img, PredictedLiveState: img2},
		{Kind: "ConfigMap", Name: "old", LiveState: label, TargetState: label2}, // an Argo CD before normalized/predicted states
	})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, r := range d.Resources {
		got = append(got, r.Name+":"+strings.Join(r.Fields, ","))
	}
	if want := []string{"z:spec.template.spec.containers[c].image", "a:metadata.labels.x", "old:metadata.labels.x"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order %q, want %q", got, want)
	}
	var _ estate.ArgoDiff = d
}

// TestArgoDiffLeavesOutWhatSyncNeverChanges: from an Argo CD that sends only the raw live and
// target states, the live side's status and server-set metadata are no difference.
func TestArgoDiffLeavesOutWhatSyncNeverChanges(t *testing.T) {
	live := `{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"5","uid":"u","generation":2,"creationTimestamp":"2026-11-30T08:12:44Z",` +
		`"managedFields":[{"manager":"kubectl"}]},"data":{"x":"1"},"status":{"phase":"x"}}`
	d, err := argoDiff([]argoResourceDiff{{Kind: "ConfigMap", Name: "a", LiveState: live, TargetState: `{"kind":"ConfigMap","metadata":{"name":"a"},"data":{"x":"2"}}`}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Resources) != 1 || !reflect.DeepEqual(d.Resources[0].Fields, []string{"data.x"}) {
		t.Fatalf("%+v", d.Resources)
	}
}

// TestArgoSyncPreviewInKubernetesMode: without the Argo CD server the sync's preview says that
// the diff needs it and how to configure it; a sync to another revision than the target says
// the diff is of the target revision.
func TestArgoSyncPreviewInKubernetesMode(t *testing.T) {
	app := spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: "fintech-app"}
	base := func() *Action {
		return &Action{steps: steps{preview: func(context.Context, spec.Object) (previewed, error) {
			return previewed{Preview: spec.Preview{Summary: "sync fintech-app to main"}}, nil
		}}}
	}
	a := base()
	argoSyncDiff(a, &Env{}, "")
	pv, err := a.steps.preview(context.Background(), app)
	if err != nil || !strings.Contains(pv.Preview.String(), "  "+ArgoDiffNeedsServer+"\n") {
		t.Fatalf("Kubernetes mode preview: %v\n%s", err, pv.Preview.String())
	}
	for _, how := range []string{"argocd.mode: server", "argocd.server", "argocd.tokenFile", "--argocd-server-mode --argocd-server URL --argocd-token TOKEN"} {
		if !strings.Contains(ArgoDiffNeedsServer, how) {
			t.Errorf("the note does not say %q", how)
		}
	}

	srv := serveManagedResources(t, managedResourcesFixture(t))
	a = base()
	argoSyncDiff(a, &Env{Argo: NewArgoServerClient(srv.URL, "s3cret", false, false)}, "11a4ab0")
	if pv, err = a.steps.preview(context.Background(), app); err != nil || !strings.Contains(pv.Preview.String(), "against the application's target revision, not 11a4ab0") {
		t.Fatalf("another revision: %v\n%s", err, pv.Preview.String())
	}
}
