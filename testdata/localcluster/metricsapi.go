package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/util/retry"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	aggregator "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/vigil-k8s/vigil/testdata/localcluster/internal/model"
)

const (
	metricsGroupVersion = "metrics.k8s.io/v1beta1"
	metricsPrefix       = "/apis/metrics.k8s.io/v1beta1"
	// metricsWindow is the sampling window reported with every metric. The
	// HPA ignores a sample taken less than one window after a pod got ready.
	metricsWindow = 15 * time.Second
)

// metricsAPI serves metrics.k8s.io/v1beta1 for one cluster from the
// deterministic usage model; the aggregator proxies to it.
type metricsAPI struct {
	pods  corelisters.PodLister
	nodes corelisters.NodeLister
}

// serveMetricsAPI serves the metrics API over TLS on ln until ctx ends.
func serveMetricsAPI(ctx context.Context, ln net.Listener, c *clusterSpec, m *metricsAPI) error {
	crt, err := metricsServingCert(c)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           m,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{crt}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          quietLogger(),
	}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("%s: metrics API stopped: %v", c.name, err)
		}
	}()
	return nil
}

// metricsServingCert issues a localhost certificate from the cluster CA.
func metricsServingCert(c *clusterSpec) (tls.Certificate, error) {
	ca, err := tls.LoadX509KeyPair(c.pki.CA(), c.pki.path("ca.key"))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load CA of %s: %w", c.name, err)
	}
	caCert, err := x509.ParseCertificate(ca.Certificate[0])
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, key, err := newLeaf(x509.Certificate{
		Subject:     pkix.Name{CommonName: "metrics-server"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost", "metrics-server.kube-system.svc"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}, caCert, ca.PrivateKey.(crypto.Signer))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("issue metrics-server certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// protobufType is the Kubernetes protobuf media type. metrics-server, a
// generic API server, answers a client that accepts it (client-go's
// protobuf configs, vigil's usage polls) in it; so does this one, for its
// objects, so that a client's cost of a poll here is what it is there.
const protobufType = "application/vnd.kubernetes.protobuf"

var metricsProtobuf = func() *protobuf.Serializer {
	scheme := runtime.NewScheme()
	if err := metricsv1beta1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	return protobuf.NewSerializer(scheme, scheme)
}()

// writeObject writes obj (its TypeMeta set) as protobuf when r accepts it,
// else as JSON.
func writeObject(w http.ResponseWriter, r *http.Request, obj runtime.Object) {
	if !acceptsProtobuf(r) {
		writeJSON(w, 200, obj)
		return
	}
	w.Header().Set("Content-Type", protobufType)
	w.WriteHeader(200)
	_ = metricsProtobuf.Encode(obj, w)
}

// acceptsProtobuf reports whether r's Accept header prefers the protobuf
// media type: listed with a quality above 0 and not below JSON's (as
// application/json, application/* or */*).
func acceptsProtobuf(r *http.Request) bool {
	protoQ, jsonQ := 0.0, 0.0
	for _, accept := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(accept, ",") {
			mediaType, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(v, 64); err != nil {
					continue
				}
			}
			switch mediaType {
			case protobufType:
				protoQ = max(protoQ, q)
			case "application/json", "application/*", "*/*":
				jsonQ = max(jsonQ, q)
			}
		}
	}
	return protoQ > 0 && protoQ >= jsonQ
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeStatus(w http.ResponseWriter, err *apierrors.StatusError) {
	st := err.Status()
	st.Kind, st.APIVersion = "Status", "v1"
	writeJSON(w, int(st.Code), st)
}

// ServeHTTP routes discovery and the pods/nodes resources.
func (m *metricsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeStatus(w, apierrors.NewMethodNotSupported(metricsv1beta1.Resource("pods"), r.Method))
		return
	}
	gv := metav1.GroupVersionForDiscovery{GroupVersion: metricsGroupVersion, Version: "v1beta1"}
	group := metav1.APIGroup{TypeMeta: metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}, Name: "metrics.k8s.io",
		Versions: []metav1.GroupVersionForDiscovery{gv}, PreferredVersion: gv}
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch path {
	case "/healthz", "/readyz", "/livez":
		_, _ = w.Write([]byte("ok"))
		return
	case "/apis":
		writeJSON(w, 200, metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: []metav1.APIGroup{group}})
		return
	case "/apis/metrics.k8s.io":
		writeJSON(w, 200, group)
		return
	case metricsPrefix:
		verbs := metav1.Verbs{"get", "list"}
		writeJSON(w, 200, metav1.APIResourceList{
			TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
			GroupVersion: metricsGroupVersion,
			APIResources: []metav1.APIResource{
				{Name: "nodes", Kind: "NodeMetrics", Namespaced: false, Verbs: verbs},
				{Name: "pods", Kind: "PodMetrics", Namespaced: true, Verbs: verbs},
			},
		})
		return
	}
	rest, ok := strings.CutPrefix(path, metricsPrefix+"/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	sel, err := labels.Parse(r.URL.Query().Get("labelSelector"))
	if err != nil {
		writeStatus(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 1 && parts[0] == "nodes":
		m.listNodes(w, r, sel)
	case len(parts) == 2 && parts[0] == "nodes":
		m.getNode(w, r, parts[1])
	case len(parts) == 1 && parts[0] == "pods":
		m.listPods(w, r, "", sel)
	case len(parts) == 3 && parts[0] == "namespaces" && parts[2] == "pods":
		m.listPods(w, r, parts[1], sel)
	case len(parts) == 4 && parts[0] == "namespaces" && parts[2] == "pods":
		m.getPod(w, r, parts[1], parts[3])
	default:
		http.NotFound(w, r)
	}
}

// podMetrics returns the metrics of a pod, or false when it has no running
// container (metrics-server reports nothing for those either).
func podMetrics(pod *corev1.Pod, now time.Time) (metricsv1beta1.PodMetrics, bool) {
	pm := metricsv1beta1.PodMetrics{
		TypeMeta: metav1.TypeMeta{Kind: "PodMetrics", APIVersion: metricsGroupVersion},
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, Labels: pod.Labels,
			CreationTimestamp: metav1.NewTime(now)},
		Timestamp: metav1.NewTime(now.Truncate(time.Second)),
		Window:    metav1.Duration{Duration: metricsWindow},
	}
	if pod.Status.Phase != corev1.PodRunning || pod.Spec.NodeName == "" {
		return pm, false
	}
	running := map[string]bool{}
	for _, cs := range pod.Status.ContainerStatuses {
		running[cs.Name] = cs.State.Running != nil
	}
	for _, u := range model.ContainerUsage(pod) {
		if running[u.Name] {
			pm.Containers = append(pm.Containers, metricsv1beta1.ContainerMetrics{
				Name: u.Name, Usage: corev1.ResourceList{corev1.ResourceCPU: u.CPU, corev1.ResourceMemory: u.Memory},
			})
		}
	}
	return pm, len(pm.Containers) > 0
}

func (m *metricsAPI) listPods(w http.ResponseWriter, r *http.Request, ns string, sel labels.Selector) {
	pods, err := m.pods.Pods(ns).List(sel)
	if err != nil {
		writeStatus(w, apierrors.NewInternalError(err))
		return
	}
	now := time.Now()
	list := metricsv1beta1.PodMetricsList{TypeMeta: metav1.TypeMeta{Kind: "PodMetricsList", APIVersion: metricsGroupVersion},
		Items: []metricsv1beta1.PodMetrics{}}
	for _, p := range pods {
		if pm, ok := podMetrics(p, now); ok {
			list.Items = append(list.Items, pm)
		}
	}
	writeObject(w, r, &list)
}

func (m *metricsAPI) getPod(w http.ResponseWriter, r *http.Request, ns, name string) {
	notFound := apierrors.NewNotFound(metricsv1beta1.Resource("pods"), name)
	p, err := m.pods.Pods(ns).Get(name)
	if err != nil {
		writeStatus(w, notFound)
		return
	}
	pm, ok := podMetrics(p, time.Now())
	if !ok {
		writeStatus(w, notFound)
		return
	}
	writeObject(w, r, &pm)
}

// nodeMetrics sums the usage of the pods on node plus a system overhead.
func (m *metricsAPI) nodeMetrics(node *corev1.Node, pods []*corev1.Pod, now time.Time) metricsv1beta1.NodeMetrics {
	cpu, mem := resource.MustParse("350m"), resource.MustParse("1536Mi")
	for _, p := range pods {
		if p.Spec.NodeName != node.Name {
			continue
		}
		if pm, ok := podMetrics(p, now); ok {
			for _, c := range pm.Containers {
				cpu.Add(c.Usage[corev1.ResourceCPU])
				mem.Add(c.Usage[corev1.ResourceMemory])
			}
		}
	}
	return metricsv1beta1.NodeMetrics{
		TypeMeta:   metav1.TypeMeta{Kind: "NodeMetrics", APIVersion: metricsGroupVersion},
		ObjectMeta: metav1.ObjectMeta{Name: node.Name, Labels: node.Labels, CreationTimestamp: metav1.NewTime(now)},
		Timestamp:  metav1.NewTime(now.Truncate(time.Second)),
		Window:     metav1.Duration{Duration: metricsWindow},
		Usage:      corev1.ResourceList{corev1.ResourceCPU: cpu, corev1.ResourceMemory: mem},
	}
}

func (m *metricsAPI) listNodes(w http.ResponseWriter, r *http.Request, sel labels.Selector) {
	nodes, err := m.nodes.List(sel)
	pods, err2 := m.pods.List(labels.Everything())
	if err = errors.Join(err, err2); err != nil {
		writeStatus(w, apierrors.NewInternalError(err))
		return
	}
	now := time.Now()
	list := metricsv1beta1.NodeMetricsList{TypeMeta: metav1.TypeMeta{Kind: "NodeMetricsList", APIVersion: metricsGroupVersion},
		Items: []metricsv1beta1.NodeMetrics{}}
	for _, n := range nodes {
		list.Items = append(list.Items, m.nodeMetrics(n, pods, now))
	}
	writeObject(w, r, &list)
}

func (m *metricsAPI) getNode(w http.ResponseWriter, r *http.Request, name string) {
	n, err := m.nodes.Get(name)
	if err != nil {
		writeStatus(w, apierrors.NewNotFound(metricsv1beta1.Resource("nodes"), name))
		return
	}
	pods, _ := m.pods.List(labels.Everything())
	nm := m.nodeMetrics(n, pods, time.Now())
	writeObject(w, r, &nm)
}

// registerMetricsAPI points the aggregator at the metrics server on port:
// an ExternalName Service "localhost" (Endpoints refuse loopback addresses)
// and an APIService that skips TLS verification.
func registerMetricsAPI(ctx context.Context, client kubernetes.Interface, agg aggregator.Interface, port int) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-server", Namespace: "kube-system",
			Labels: map[string]string{"k8s-app": "metrics-server"}},
		Spec: corev1.ServiceSpec{
			Type:         corev1.ServiceTypeExternalName,
			ExternalName: "localhost",
			Ports:        []corev1.ServicePort{{Name: "https", Port: int32(port), TargetPort: intstr.FromInt32(int32(port))}},
		},
	}
	// On a restart both exist, and the API server's own controllers may
	// write them (the APIService's status, as the old port is gone) between
	// the Get and the Update: a conflict then is retried with a fresh Get.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		old, err := client.CoreV1().Services("kube-system").Get(ctx, svc.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = client.CoreV1().Services("kube-system").Create(ctx, svc, metav1.CreateOptions{})
		case err == nil:
			old.Spec.Ports = svc.Spec.Ports
			_, err = client.CoreV1().Services("kube-system").Update(ctx, old, metav1.UpdateOptions{})
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("metrics-server service: %w", err)
	}
	p := int32(port)
	as := &apiregv1.APIService{
		ObjectMeta: metav1.ObjectMeta{Name: "v1beta1.metrics.k8s.io", Labels: map[string]string{"k8s-app": "metrics-server"}},
		Spec: apiregv1.APIServiceSpec{
			Service:               &apiregv1.ServiceReference{Namespace: "kube-system", Name: "metrics-server", Port: &p},
			Group:                 "metrics.k8s.io",
			Version:               "v1beta1",
			InsecureSkipTLSVerify: true,
			GroupPriorityMinimum:  100,
			VersionPriority:       100,
		},
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		oldAS, e := agg.ApiregistrationV1().APIServices().Get(ctx, as.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(e):
			_, e = agg.ApiregistrationV1().APIServices().Create(ctx, as, metav1.CreateOptions{})
		case e == nil:
			oldAS.Spec = as.Spec
			_, e = agg.ApiregistrationV1().APIServices().Update(ctx, oldAS, metav1.UpdateOptions{})
		}
		return e
	})
	if err != nil {
		return fmt.Errorf("metrics APIService: %w", err)
	}
	return nil
}
