package main

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsscheme "k8s.io/metrics/pkg/client/clientset/versioned/scheme"
)

// The metrics API answers in protobuf whoever accepts it, as metrics-server
// does, and says the same in either encoding: each response is decoded by
// client-go's own deserializer for the metrics group, not by the encoder.
func TestMetricsAPIProtobufSaysWhatJSONSays(t *testing.T) {
	pods := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, name := range []string{"api-1", "api-2", "pending"} {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "fintech-prod", Labels: map[string]string{"app": "api"}},
			Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{
				{Name: "app", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")}}},
				{Name: "istio-proxy"},
			}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
				{Name: "app", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
				{Name: "istio-proxy", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
			}},
		}
		if name == "pending" {
			p.Status.Phase = corev1.PodPending
		}
		if err := pods.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	api := &metricsAPI{pods: corelisters.NewPodLister(pods)}
	get := func(accept string) (string, metricsv1beta1.PodMetricsList) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, metricsPrefix+"/namespaces/fintech-prod/pods", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("Accept %q: %d %s", accept, rec.Code, rec.Body)
		}
		var list metricsv1beta1.PodMetricsList
		if err := runtime.DecodeInto(metricsscheme.Codecs.UniversalDeserializer(), rec.Body.Bytes(), &list); err != nil {
			t.Fatalf("Accept %q: decoding %s: %v", accept, rec.Header().Get("Content-Type"), err)
		}
		// The times are the moment of the request and the order the
		// lister's; protobuf carries no TypeMeta in a list's items (as the
		// API server's does not). The rest is the pods'.
		for i := range list.Items {
			list.Items[i].CreationTimestamp, list.Items[i].Timestamp = metav1.Time{}, metav1.Time{}
			list.Items[i].TypeMeta = metav1.TypeMeta{}
		}
		slices.SortFunc(list.Items, func(a, b metricsv1beta1.PodMetrics) int { return strings.Compare(a.Name, b.Name) })
		return rec.Header().Get("Content-Type"), list
	}

	typ, fromJSON := get("")
	if typ != "application/json" {
		t.Errorf("no Accept: Content-Type %q, want application/json", typ)
	}
	if len(fromJSON.Items) != 2 || len(fromJSON.Items[0].Containers) != 2 {
		t.Fatalf("JSON: %d pods (want the 2 running), %+v", len(fromJSON.Items), fromJSON.Items)
	}
	for accept, want := range map[string]string{
		"application/vnd.kubernetes.protobuf,application/json":              protobufType, // client-go with protobuf
		"application/json;q=0.9, application/vnd.kubernetes.protobuf;q=0.5": "application/json",
		"application/json;q=0.5, application/vnd.kubernetes.protobuf;q=0.9": protobufType,
		"*/*": "application/json",
		"application/vnd.kubernetes.protobuf;q=0, application/json": "application/json",
		"application/json": "application/json",
		"application/vnd.kubernetes.protobuf;stream=watch, application/json":    protobufType,
		"text/html, application/vnd.kubernetes.protobuf ; q=1.0":                protobufType,
		"application/vnd.kubernetes.protobuf;q=zero,application/json;q=0.8":     "application/json",
		"application/vnd.kubernetes.protobuf-not,application/json;charset=utf8": "application/json",
	} {
		typ, got := get(accept)
		if typ != want {
			t.Errorf("Accept %q: Content-Type %q, want %q", accept, typ, want)
		}
		if !equality.Semantic.DeepEqual(got, fromJSON) {
			t.Errorf("Accept %q (%s) says\n%+v\nJSON says\n%+v", accept, typ, got, fromJSON)
		}
	}
}
