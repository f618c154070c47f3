package checks_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
)

// deepCopyObjects copies every object of every kind slice of inv (the
// Inventory holds pointers a live session shares with its caches).
func deepCopyObjects(t *testing.T, inv *checks.Inventory) map[string][]runtime.Object {
	t.Helper()
	out := map[string][]runtime.Object{}
	v := reflect.ValueOf(inv).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Slice || f.Type().Elem().Kind() != reflect.Pointer {
			continue
		}
		name := v.Type().Field(i).Name
		for j := range f.Len() {
			o, ok := f.Index(j).Interface().(runtime.Object)
			if !ok {
				t.Fatalf("%s holds %s, not a runtime.Object", name, f.Type().Elem())
			}
			out[name] = append(out[name], o.DeepCopyObject())
		}
	}
	return out
}

// TestChecksDoNotWriteTheirInputs runs the catalogue over the seed's estates
// and compares every object with a deep copy taken before: a live session
// hands the checks the objects of its informer caches, which are shared
// and must stay read-only.
func TestChecksDoNotWriteTheirInputs(t *testing.T) {
	root := filepath.Join("..", "testdata", "fintech")
	for _, cluster := range []string{"local-1", "local-2"} {
		t.Run(cluster, func(t *testing.T) {
			inv, err := load.Paths([]string{filepath.Join(root, "all"), filepath.Join(root, cluster)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			before := deepCopyObjects(t, inv)
			n := 0
			for _, objs := range before {
				n += len(objs)
			}
			if n < 50 {
				t.Fatalf("the estate has %d objects; the test needs the seed's", n)
			}
			if fs := checks.Run(checks.Catalogue(), inv); len(fs) == 0 {
				t.Fatal("the catalogue found nothing")
			}
			after := deepCopyObjects(t, inv)
			for kind, objs := range before {
				if len(after[kind]) != len(objs) {
					t.Errorf("%s: %d objects before the checks, %d after", kind, len(objs), len(after[kind]))
					continue
				}
				for i, o := range objs {
					if !equality.Semantic.DeepEqual(o, after[kind][i]) {
						m, _ := o.(metav1.Object)
						t.Errorf("%s %s/%s changed while the checks ran", kind, m.GetNamespace(), m.GetName())
					}
				}
			}
		})
	}
}
