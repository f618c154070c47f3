package integration

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/vigil-k8s/vigil/actions"
)

// TestArgoDiffOfTheSeededApp: the seeded fintech-app made OutOfSync by a new image in Git.
// A server speaking Argo CD's managed-resources API answers with the Deployments the
// Application lists in status.resources, their live state read from the local cluster, the
// first one's desired state with its first container's image changed; vigil's diff names
// exactly that container's image, with the live image client-go reads on the - side, and counts
// the others unchanged.
func TestArgoDiffOfTheSeededApp(t *testing.T) {
	e := env(t, "local-1")
	app, err := e.Dynamic.Resource(gvrApp).Namespace("argocd").Get(ctxT(t, 10*time.Second), "fintech-app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
	gvrDeploy := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	var items []map[string]any
	var container, liveImage string
	for _, r := range res {
		m := r.(map[string]any)
		if m["kind"] != "Deployment" {
			continue
		}
		ns, name := m["namespace"].(string), m["name"].(string)
		live, gerr := e.Dynamic.Resource(gvrDeploy).Namespace(ns).Get(ctxT(t, 10*time.Second), name, metav1.GetOptions{})
		if gerr != nil {
			t.Fatal(gerr)
		}
		desired := live.DeepCopy()
		if len(items) == 0 {
			typed, terr := e.Kube.AppsV1().Deployments(ns).Get(ctxT(t, 10*time.Second), name, metav1.GetOptions{})
			if terr != nil {
				t.Fatal(terr)
			}
			container, liveImage = typed.Spec.Template.Spec.Containers[0].Name, typed.Spec.Template.Spec.Containers[0].Image
			cs, _, _ := unstructured.NestedSlice(desired.Object, "spec", "template", "spec", "containers")
			cs[0].(map[string]any)["image"] = liveImage + "-next"
			_ = unstructured.SetNestedSlice(desired.Object, cs, "spec", "template", "spec", "containers")
		}
		lj, _ := json.Marshal(live.Object)
		dj, _ := json.Marshal(desired.Object)
		items = append(items, map[string]any{"group": "apps", "kind": "Deployment", "namespace": ns, "name": name,
			"liveState": string(lj), "targetState": string(dj), "normalizedLiveState": string(lj), "predictedLiveState": string(dj), "modified": len(items) == 0})
	}
	if len(items) < 2 {
		t.Fatalf("fintech-app lists %d Deployments in status.resources, want at least 2", len(items))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/applications/fintech-app/managed-resources" || r.URL.Query().Get("appNamespace") != "argocd" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items})
	}))
	defer srv.Close()
	d, err := actions.NewArgoServerClient(srv.URL, "t", false, false).AppDiff(ctxT(t, 10*time.Second), "argocd", "fintech-app")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Resources) != 1 || d.Same != len(items)-1 {
		t.Fatalf("%d resources differ, %d same; want 1 and %d", len(d.Resources), d.Same, len(items)-1)
	}
	r := d.Resources[0]
	if want := "spec.template.spec.containers[" + container + "].image"; len(r.Fields) != 1 || r.Fields[0] != want {
		t.Errorf("fields %q, want [%s]", r.Fields, want)
	}
	text := strings.Join(r.Lines, "\n")
	if !strings.Contains(text, "-        image: "+liveImage+"\n") || !strings.Contains(text, "+        image: "+liveImage+"-next") {
		t.Errorf("the diff does not show the image %s changing:\n%s", liveImage, text)
	}
}
