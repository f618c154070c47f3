package checks_test

import (
	"fmt"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
)

// BenchmarkCatalogue is one evaluation of the whole catalogue, as a
// session runs it (at most once per ChecksInterval): over the seed's
// estate, and over it with 10k pods owned by its Deployments' ReplicaSets
// (the pods a session caches; the checks read their templates instead).
func BenchmarkCatalogue(b *testing.B) {
	root := filepath.Join("..", "testdata", "fintech")
	inv, err := load.Paths([]string{filepath.Join(root, "all"), filepath.Join(root, "local-1")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	cat := checks.Catalogue()
	b.Run("seeded", func(b *testing.B) {
		for b.Loop() {
			checks.Run(cat, inv)
		}
	})
	big := *inv
	big.Pods = append([]*corev1.Pod(nil), inv.Pods...)
	for i := range 10000 {
		d := inv.Deployments[i%len(inv.Deployments)]
		big.Pods = append(big.Pods, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: fmt.Sprintf("%s-%d", d.Name, i), Labels: d.Spec.Template.Labels,
				OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: d.Name + "-rs", Controller: ptr(true)}}},
			Spec: d.Spec.Template.Spec,
		})
	}
	b.Run("10k-pods", func(b *testing.B) {
		for b.Loop() {
			checks.Run(cat, &big)
		}
	})
}

func ptr[T any](v T) *T { return &v }
