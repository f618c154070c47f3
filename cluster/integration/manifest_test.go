package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/estate"
)

// recorder keeps every response body the session's clients receive.
type recorder struct {
	mu   sync.Mutex
	body bytes.Buffer
	next http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || strings.Contains(req.URL.RawQuery, "watch=true") {
		return resp, err
	}
	b, rerr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	r.mu.Lock()
	r.body.Write(b)
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, rerr
}

func (r *recorder) seen(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Contains(r.body.Bytes(), []byte(s))
}

// TestManifestOfASecretHasNoData: a Secret created with a value (and kubectl's last-applied
// annotation repeating it) shows as metadata only: its name, labels and uid as client-go reads
// them; the value, plain or base64, is not in the YAML, and the data field (base64) is in no
// byte the API server sent vigil's clients. (The annotation does cross the wire: the metadata
// API serves annotations; vigil withholds it.)
func TestManifestOfASecretHasNoData(t *testing.T) {
	ns := lc.Namespace(t, "local-1")
	kube := lc.Client(t, "local-1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const value = "pa55-Value-only-in-the-secret-7731"
	applied := `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"stringData":{"password":"` + value + `"}}`
	created, err := kube.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Labels: map[string]string{"app": "payments"},
			Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": applied}},
		StringData: map[string]string{"password": value}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	s := start(t, "local-1", func(o *cluster.Options) {
		o.RESTConfig = rest.CopyConfig(o.RESTConfig)
		o.RESTConfig.Wrap(func(rt http.RoundTripper) http.RoundTripper { rec.next = rt; return rec })
	})
	out, err := s.Manifest(ctx, estate.ObjectRef{Kind: "Secret", Namespace: ns, Name: "db"})
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(value))
	for _, v := range []string{value, b64} {
		if strings.Contains(out, v) {
			t.Fatalf("the manifest holds the Secret's value %q:\n%s", v, out)
		}
	}
	if rec.seen(b64) {
		t.Fatalf("the API server sent the Secret's data (%q) to vigil's clients", b64)
	}
	var top map[string]any
	if err := yaml.Unmarshal([]byte(out), &top); err != nil {
		t.Fatalf("the manifest is not YAML: %v\n%s", err, out)
	}
	for _, f := range []string{"data", "stringData"} {
		if _, ok := top[f]; ok {
			t.Fatalf("the manifest has a %s field:\n%s", f, out)
		}
	}
	var got struct {
		Kind     string            `json:"kind"`
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("the manifest is not YAML: %v\n%s", err, out)
	}
	if got.Kind != "Secret" || got.Metadata.UID != created.UID || got.Metadata.Labels["app"] != "payments" || got.Metadata.Name != "db" {
		t.Errorf("the manifest's metadata %+v is not the Secret's (uid %s)", got.Metadata, created.UID)
	}
	if len(got.Metadata.ManagedFields) != len(created.ManagedFields) {
		t.Errorf("%d managedFields entries, client-go reads %d", len(got.Metadata.ManagedFields), len(created.ManagedFields))
	}
}

// TestManifestOfADeploymentIsKubectls: the YAML of the seed's api-gateway is what kubectl get
// -o json returns: same uid, spec and managedFields managers.
func TestManifestOfADeploymentIsKubectls(t *testing.T) {
	s := start(t, "local-1", nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := s.Manifest(ctx, estate.ObjectRef{Kind: "Deployment", Namespace: "fintech-prod", Name: "api-gateway"})
	if err != nil {
		t.Fatal(err)
	}
	js, err := exec.CommandContext(ctx, "kubectl", "--kubeconfig", lc.Kubeconfig, "--context", "local-1",
		"-n", "fintech-prod", "get", "deployment", "api-gateway", "--show-managed-fields", "-o", "json").Output()
	if err != nil {
		t.Fatalf("kubectl: %v", err)
	}
	var want, got appsv1.Deployment
	if err := json.Unmarshal(js, &want); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("the manifest is not YAML: %v\n%s", err, out)
	}
	if got.UID != want.UID || got.Kind != "Deployment" || got.APIVersion != "apps/v1" {
		t.Errorf("manifest %s %s uid %s, kubectl uid %s", got.APIVersion, got.Kind, got.UID, want.UID)
	}
	if !equality.Semantic.DeepEqual(got.Spec, want.Spec) {
		t.Errorf("the manifest's spec differs from kubectl's:\nvigil   %+v\nkubectl %+v", got.Spec, want.Spec)
	}
	managers := func(d appsv1.Deployment) string {
		var m []string
		for _, f := range d.ManagedFields {
			m = append(m, f.Manager+"/"+string(f.Operation))
		}
		return strings.Join(m, ",")
	}
	if managers(got) != managers(want) || len(want.ManagedFields) == 0 {
		t.Errorf("managedFields managers %q, kubectl %q", managers(got), managers(want))
	}
}
