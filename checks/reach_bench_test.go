package checks_test

import (
	"fmt"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/checks/load"
)

// BenchmarkReachability is the matrix of the seed estate plus n bulk Deployments spread over
// the four fintech namespaces as localcluster --scale-pods makes them (no container ports):
// 200 at 10k pods, 600 at 30k.
func BenchmarkReachability(b *testing.B) {
	for _, n := range []int{0, 200, 600} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			root := filepath.Join("..", "testdata", "fintech")
			inv, err := load.Paths([]string{filepath.Join(root, "all"), filepath.Join(root, "local-1")}, nil)
			if err != nil {
				b.Fatal(err)
			}
			nss := []string{"fintech-prod", "fintech-staging", "fintech-monitoring", "fintech-security"}
			for i := range n {
				name := fmt.Sprintf("bulk-%03d", i)
				inv.Deployments = append(inv.Deployments, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: nss[i%4]},
					Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "pause"}}}}}})
			}
			b.ResetTimer()
			for range b.N {
				_ = inv.Reachability()
			}
		})
	}
}
