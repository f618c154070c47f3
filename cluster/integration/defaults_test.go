package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// defaultedKinds are the kinds checks/load defaults, by apiVersion/kind.
var defaultedKinds = map[string]bool{
	"v1/Namespace": true, "v1/Pod": true, "apps/v1/Deployment": true, "apps/v1/StatefulSet": true,
	"apps/v1/DaemonSet": true, "batch/v1/Job": true, "batch/v1/CronJob": true,
	"autoscaling/v2/HorizontalPodAutoscaler": true, "networking.k8s.io/v1/NetworkPolicy": true,
}

// TestLoaderDefaultsMatchAPIServer is the independent truth for
// checks/load's defaulting: every manifest of testdata/checks and the seed
// estate of a defaulted kind is created with a server-side dry run
// (dryRun=All) on local-1, and the object the apiserver returns, read with
// client-go, must carry the same value as the loader's for every field the
// loader defaults and a check reads.
func TestLoaderDefaultsMatchAPIServer(t *testing.T) {
	cfg, err := lc.RESTConfig("local-1")
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns := lc.Namespace(t, "local-1")
	root := clustertest.RepoRoot()
	files, _ := filepath.Glob(filepath.Join(root, "testdata", "checks", "*", "*.yaml"))
	estate, _ := filepath.Glob(filepath.Join(root, "testdata", "fintech", "all", "*.yaml"))
	files = append(files, estate...)

	compared, rejected := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for doc := 1; ; doc++ {
			var u unstructured.Unstructured
			if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: document %d: %v", f, doc, err)
			}
			if u.Object == nil || !defaultedKinds[u.GetAPIVersion()+"/"+u.GetKind()] {
				continue
			}
			js, err := u.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			inv, err := load.Bytes(f, js)
			if err != nil {
				t.Fatalf("%s: document %d: loader: %v", f, doc, err)
			}
			mine := loaded(inv)
			if mine == nil {
				t.Fatalf("%s: document %d: the loader kept no %s", f, doc, u.GetKind())
			}

			group, _, _ := strings.Cut(u.GetAPIVersion(), "/")
			if !strings.Contains(u.GetAPIVersion(), "/") {
				group = ""
			}
			k, _ := checks.KindFor(group, u.GetKind())
			u.SetResourceVersion("")
			u.SetUID("")
			delete(u.Object, "status")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			var got *unstructured.Unstructured
			if k.Namespaced() {
				u.SetNamespace(ns)
				got, err = dyn.Resource(k.GVR()).Namespace(ns).Create(ctx, &u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			} else {
				u.SetName(ns + "-dry") // a free name the server accepts; the label follows the name
				got, err = dyn.Resource(k.GVR()).Create(ctx, &u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			}
			cancel()
			if err != nil {
				rejected++ // fixtures of invalid objects (a deliberately broken one) are the server's to refuse
				t.Logf("%s: document %d: %s rejected by the apiserver: %v", filepath.Base(f), doc, u.GetKind(), err)
				continue
			}
			server := k.New()
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(got.Object, server); err != nil {
				t.Fatal(err)
			}
			want, have := defaulted(server), defaulted(mine)
			for field, w := range want {
				if have[field] != w {
					t.Errorf("%s: document %d: %s %s: the apiserver defaults it to %s, the loader to %s", f, doc, u.GetKind(), field, w, have[field])
				}
			}
			compared++
		}
	}
	t.Logf("%d objects compared with the apiserver's defaulting, %d rejected by it", compared, rejected)
	if compared < 100 {
		t.Errorf("only %d objects compared", compared)
	}
}

// loaded returns the one defaulted object an inventory holds.
func loaded(inv *checks.Inventory) any {
	switch {
	case len(inv.Namespaces) == 1:
		return inv.Namespaces[0]
	case len(inv.Pods) == 1:
		return inv.Pods[0]
	case len(inv.Deployments) == 1:
		return inv.Deployments[0]
	case len(inv.StatefulSets) == 1:
		return inv.StatefulSets[0]
	case len(inv.DaemonSets) == 1:
		return inv.DaemonSets[0]
	case len(inv.Jobs) == 1:
		return inv.Jobs[0]
	case len(inv.CronJobs) == 1:
		return inv.CronJobs[0]
	case len(inv.HPAs) == 1:
		return inv.HPAs[0]
	case len(inv.NetworkPolicies) == 1:
		return inv.NetworkPolicies[0]
	}
	return nil
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// defaulted projects the fields checks/load defaults, as JSON by field path.
func defaulted(obj any) map[string]string {
	out := map[string]string{}
	switch o := obj.(type) {
	case *corev1.Namespace:
		out["metadata.labels[kubernetes.io/metadata.name] is the name"] = js(o.Labels[corev1.LabelMetadataName] == o.Name)
	case *corev1.Pod:
		podSpec(out, "spec", &o.Spec, false)
	case *appsv1.Deployment:
		out["spec.replicas"], out["spec.strategy"], out["spec.revisionHistoryLimit"] = js(o.Spec.Replicas), js(o.Spec.Strategy), js(o.Spec.RevisionHistoryLimit)
		podSpec(out, "spec.template.spec", &o.Spec.Template.Spec, true)
	case *appsv1.StatefulSet:
		out["spec.replicas"], out["spec.updateStrategy.type"], out["spec.revisionHistoryLimit"] = js(o.Spec.Replicas), js(o.Spec.UpdateStrategy.Type), js(o.Spec.RevisionHistoryLimit)
		if ru := o.Spec.UpdateStrategy.RollingUpdate; ru != nil {
			out["spec.updateStrategy.rollingUpdate.partition"] = js(ru.Partition)
		}
		podSpec(out, "spec.template.spec", &o.Spec.Template.Spec, true)
	case *appsv1.DaemonSet:
		out["spec.updateStrategy"], out["spec.revisionHistoryLimit"] = js(o.Spec.UpdateStrategy), js(o.Spec.RevisionHistoryLimit)
		podSpec(out, "spec.template.spec", &o.Spec.Template.Spec, true)
	case *batchv1.Job:
		podSpec(out, "spec.template.spec", &o.Spec.Template.Spec, true)
	case *batchv1.CronJob:
		out["spec.suspend"] = js(o.Spec.Suspend)
		podSpec(out, "spec.jobTemplate.spec.template.spec", &o.Spec.JobTemplate.Spec.Template.Spec, true)
	case *autoscalingv2.HorizontalPodAutoscaler:
		out["spec.minReplicas"], out["spec.metrics"] = js(o.Spec.MinReplicas), js(o.Spec.Metrics)
	case *networkingv1.NetworkPolicy:
		out["spec.policyTypes"] = js(o.Spec.PolicyTypes)
		for i, r := range o.Spec.Ingress {
			out["spec.ingress["+js(i)+"].ports"] = js(r.Ports)
		}
		for i, r := range o.Spec.Egress {
			out["spec.egress["+js(i)+"].ports"] = js(r.Ports)
		}
	}
	return out
}

// podSpec projects the pod spec's defaulted fields. A Pod's service account
// is set by the ServiceAccount admission plugin, not by defaulting, and its
// token volume is added there too: for Pods only the volumes of the
// manifest are compared and the service account is not.
func podSpec(out map[string]string, field string, s *corev1.PodSpec, template bool) {
	out[field+".restartPolicy"] = js(s.RestartPolicy)
	out[field+".securityContext set"] = js(s.SecurityContext != nil)
	if template {
		out[field+".serviceAccountName"] = js(s.ServiceAccountName)
	}
	for _, v := range s.Volumes {
		if strings.HasPrefix(v.Name, "kube-api-access-") {
			continue
		}
		out[field+".volumes("+v.Name+")"] = js(v.VolumeSource)
	}
}
