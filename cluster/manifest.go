package cluster

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"sigs.k8s.io/yaml"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// SecretManifestNote heads a Secret's manifest: what is left out and why.
const SecretManifestNote = "# metadata only: vigil never reads a Secret's data or stringData (read through the metadata API)"

// Manifest returns the YAML of the object ref names as the API server
// returns it now (a GET, not the session's cache, whose objects are
// slimmed), terminal-safe. Kinds read through the metadata API (Secrets)
// are fetched as metadata only: their data never leaves the API server,
// and kubectl's last-applied annotation (lastApplied), which would repeat
// it, is withheld.
func Manifest(ctx context.Context, dyn dynamic.Interface, md metadata.Interface, ref estate.ObjectRef) (string, error) {
	k, ok := kindNamed(ref.Kind)
	if !ok {
		return "", fmt.Errorf("no manifest for kind %q: vigil does not read it", ref.Kind)
	}
	ns := ref.Namespace
	if !k.Namespaced() {
		ns = ""
	}
	var obj map[string]any
	header := ""
	switch k.Source {
	case checks.Metadata:
		if md == nil {
			return "", errors.New("manifests need a connection to the API server")
		}
		m, err := md.Resource(k.GVR()).Namespace(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("%s: %w", ref, err)
		}
		meta := m.ObjectMeta
		if _, ok := meta.Annotations[lastApplied]; ok {
			meta.Annotations = withoutKey(meta.Annotations, lastApplied)
			meta.Annotations[lastApplied] = "(withheld: it repeats the Secret's data)"
		}
		mm, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&meta)
		if err != nil {
			return "", err
		}
		obj = map[string]any{"apiVersion": k.GVR().GroupVersion().String(), "kind": k.Kind, "metadata": mm}
		header = SecretManifestNote + "\n"
	default:
		if dyn == nil {
			return "", errors.New("manifests need a connection to the API server")
		}
		u, err := dyn.Resource(k.GVR()).Namespace(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("%s: %w", ref, err)
		}
		obj = u.Object
		if u.GetKind() == "Secret" { // never: Secrets are Metadata kinds; kept as a second lock
			unstructured.RemoveNestedField(obj, "data")
			unstructured.RemoveNestedField(obj, "stringData")
			unstructured.RemoveNestedField(obj, "metadata", "annotations", lastApplied)
		}
	}
	out, err := yaml.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("%s: %w", ref, err)
	}
	return termsafe.Text(header + string(out)), nil
}

// kindNamed is the kind vigil reads whose Kind is name.
func kindNamed(name string) (checks.Kind, bool) {
	for _, k := range checks.Kinds {
		if k.Kind == name {
			return k, true
		}
	}
	return checks.Kind{}, false
}

func withoutKey(m map[string]string, drop string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != drop {
			out[k] = v
		}
	}
	return out
}

// Manifest returns the YAML of ref through the session's clients.
func (s *Session) Manifest(ctx context.Context, ref estate.ObjectRef) (string, error) {
	return Manifest(ctx, s.dyn, s.meta, ref)
}
