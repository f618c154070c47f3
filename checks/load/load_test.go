package load

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-k8s/vigil/checks"
)

func TestSecretsKeepNoData(t *testing.T) {
	inv, err := Bytes("s.yaml", []byte(`apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"data":{"password":"c2VjcmV0"}}'
    keep: me
data: {password: c2VjcmV0}
stringData: {token: plain}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := inv.Secrets[0]
	if s.Data != nil || s.StringData != nil || s.Annotations["kubectl.kubernetes.io/last-applied-configuration"] != "" || s.Annotations["keep"] != "me" {
		t.Errorf("secret kept content: %+v", s)
	}
}

func TestDocumentsListsDefaultsAndOverrides(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("01.yaml", `# comment-only document first
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: peerauthentications.security.istio.io}
spec: {group: security.istio.io}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}, data: {k: v1}}
- {apiVersion: kustomize.config.k8s.io/v1beta1, kind: Kustomization, metadata: {name: ignored}}
`)
	write("sub/02.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v2}\n")
	write("notes.txt", "not yaml")
	inv, err := Paths([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.ConfigMaps) != 1 || inv.ConfigMaps[0].Data["k"] != "v2" || inv.ConfigMaps[0].Namespace != "default" {
		t.Errorf("want one ConfigMap default/a from the later file, got %+v", inv.ConfigMaps)
	}
	if !inv.Installed[checks.GroupIstioSecurity] || inv.Installed[checks.GroupArgoCD] {
		t.Errorf("installed: %v", inv.Installed)
	}
	src := inv.Sources[checks.Resource{Kind: "ConfigMap", Namespace: "default", Name: "a"}]
	if src != filepath.Join(dir, "sub/02.yml")+":1" {
		t.Errorf("source %q", src)
	}
	stdin, err := Paths([]string{"-"}, strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n"))
	if err != nil || len(stdin.Namespaces) != 1 {
		t.Errorf("stdin: %v %+v", err, stdin)
	}
}

func TestErrorsNameFileAndDocument(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"bad yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: [\n", "x.yaml: document 2 (line 5):"},
		{"no kind", "apiVersion: v1\nmetadata: {name: a}\n", "x.yaml: document 1 (line 1): not a Kubernetes object: apiVersion and kind are required"},
		{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: two}\n", "x.yaml: document 1 (line 1): Deployment:"},
		{"no name", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "metadata.name is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Bytes("x.yaml", []byte(tc.body))
			var le *Error
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	_, err := Paths([]string{"/does/not/exist.yaml"}, nil)
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "/does/not/exist.yaml: ") {
		t.Errorf("missing file: %v", err)
	}
	_, err = Paths([]string{t.TempDir()}, nil)
	if err == nil || !strings.Contains(err.Error(), "no .yaml, .yml or .json files") {
		t.Errorf("empty dir: %v", err)
	}
}

// A StorageClass manifest lands in the inventory through its registry
// entry (checks.Kinds), cluster-scoped: a namespace in the manifest is
// dropped.
func TestStorageClassesDecode(t *testing.T) {
	inv, err := Bytes("sc.yaml", []byte(`apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: encrypted-gp3
  namespace: ignored
provisioner: ebs.csi.aws.com
parameters: {encrypted: "true"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.StorageClasses) != 1 || inv.StorageClasses[0].Name != "encrypted-gp3" || inv.StorageClasses[0].Namespace != "" || inv.StorageClasses[0].Parameters["encrypted"] != "true" {
		t.Errorf("StorageClasses = %+v", inv.StorageClasses)
	}
	if src := inv.Sources[checks.Resource{Kind: "StorageClass", Name: "encrypted-gp3"}]; !strings.HasPrefix(src, "sc.yaml") {
		t.Errorf("source = %q", src)
	}
}

// Every object read is judged or listed as skipped with its file, document
// index and reason: a kind under an apiVersion the API does not serve, a
// kind no check reads, a live-only kind, and an object replaced by a later
// document. The expected reasons are the apiserver's view, written out
// here: Deployment is served as apps/v1 only (extensions/v1beta1 and
// apps/v1beta2 were removed in 1.16), policy/v1beta1 in 1.25.
func TestSkippedObjectsAreListed(t *testing.T) {
	inv, err := Bytes("in.yaml", []byte(`apiVersion: v1
kind: Deployment
metadata: {name: web, namespace: shop}
---
apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: old}
---
apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata: {name: pdb, namespace: shop}
spec: {minAvailable: 1}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: sm, namespace: shop}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-1, namespace: shop}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: shop}, data: {k: one}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: shop}, data: {k: two}}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"in.yaml: document 1 (line 1): apiVersion v1 kind Deployment shop/web: apiVersion v1 does not serve kind Deployment (the API serves it as apps/v1)",
		"in.yaml: document 2 (line 5): apiVersion extensions/v1beta1 kind Deployment old: apiVersion extensions/v1beta1 does not serve kind Deployment (the API serves it as apps/v1)",
		"in.yaml: document 3 (line 9): apiVersion policy/v1beta1 kind PodDisruptionBudget shop/pdb: apiVersion policy/v1beta1 is not served for kind PodDisruptionBudget (the API serves policy/v1)",
		"in.yaml: document 4 (line 14): apiVersion monitoring.coreos.com/v1 kind ServiceMonitor shop/sm: kind read by no check",
		"in.yaml: document 5 (line 18): apiVersion apps/v1 kind ReplicaSet shop/web-1: kind read from a live cluster only",
		"in.yaml: document 6 (line 22) items[0]: apiVersion v1 kind ConfigMap shop/a: the same object is read again at in.yaml:22",
	}
	if len(inv.Skipped) != len(want) {
		t.Errorf("%d skipped, want %d: %v", len(inv.Skipped), len(want), inv.Skipped)
	}
	for i, w := range want {
		if i < len(inv.Skipped) && !strings.HasPrefix(inv.Skipped[i].String(), w) {
			t.Errorf("skipped[%d] = %q, want prefix %q", i, inv.Skipped[i], w)
		}
	}
	if len(inv.Deployments) != 0 || len(inv.PDBs) != 0 || len(inv.ConfigMaps) != 1 || inv.ConfigMaps[0].Data["k"] != "two" {
		t.Errorf("skipped objects reached the inventory: %d deployments, %d PDBs, configmaps %v", len(inv.Deployments), len(inv.PDBs), inv.ConfigMaps)
	}
}
