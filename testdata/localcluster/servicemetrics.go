package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/vigil-k8s/vigil/testdata/localcluster/internal/model"
)

// scrapeAnnotation on a pod template makes its workload a Prometheus target.
const scrapeAnnotation = "prometheus.io/scrape"

// workloadSource is what the service metrics need from one cluster.
type workloadSource struct {
	name         string
	pods         corelisters.PodLister
	replicaSets  appslisters.ReplicaSetLister
	deployments  appslisters.DeploymentLister
	statefulSets appslisters.StatefulSetLister
}

// counters are the running totals of one workload's requests.
type counters struct {
	last     time.Time
	ok, fail float64
}

// serviceMetrics serves /metrics/<cluster>/<namespace>/<workload> for every
// cluster and keeps the Prometheus file_sd targets file up to date.
type serviceMetrics struct {
	addr    string
	sdPath  string
	started time.Time
	mu      sync.Mutex
	sources map[string]*workloadSource
	totals  map[string]*counters
	dirty   chan struct{}
}

func newServiceMetrics(addr, sdPath string) *serviceMetrics {
	return &serviceMetrics{addr: addr, sdPath: sdPath, started: time.Now(), sources: map[string]*workloadSource{},
		totals: map[string]*counters{}, dirty: make(chan struct{}, 1)}
}

// add registers a cluster; its informers must be registered before they are
// started so handlers see every workload.
func (s *serviceMetrics) add(src *workloadSource, deployments, statefulSets cache.SharedIndexInformer) {
	s.mu.Lock()
	s.sources[src.name] = src
	s.mu.Unlock()
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.markDirty() },
		UpdateFunc: func(any, any) { s.markDirty() },
		DeleteFunc: func(any) { s.markDirty() },
	}
	_, _ = deployments.AddEventHandler(h)
	_, _ = statefulSets.AddEventHandler(h)
	s.markDirty()
}

func (s *serviceMetrics) markDirty() {
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

// serve runs the HTTP server on ln and the targets writer until ctx ends.
func (s *serviceMetrics) serve(ctx context.Context, ln net.Listener) error {
	if err := s.writeTargets(); err != nil {
		return err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: quietLogger()}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logf("service metrics stopped: %v", err)
		}
	}()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.dirty:
				if err := s.writeTargets(); err != nil {
					logf("prometheus targets: %v", err)
				}
				// Coalesce bursts (a seed creates dozens of workloads).
				time.Sleep(500 * time.Millisecond)
			}
		}
	}()
	return nil
}

// ServeHTTP answers one workload's scrape.
func (s *serviceMetrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[0] != "metrics" {
		http.Error(w, "want /metrics/<cluster>/<namespace>/<workload>", http.StatusNotFound)
		return
	}
	cluster, ns, name := parts[1], parts[2], parts[3]
	s.mu.Lock()
	src := s.sources[cluster]
	s.mu.Unlock()
	if src == nil {
		http.Error(w, "unknown cluster "+cluster, http.StatusNotFound)
		return
	}
	pods, found := src.workloadPods(ns, name)
	if !found {
		http.Error(w, fmt.Sprintf("no Deployment or StatefulSet %s/%s in %s", ns, name, cluster), http.StatusNotFound)
		return
	}
	var rps, failRPS, conns float64
	ready := 0
	for _, p := range pods {
		if !model.IsReady(p) {
			continue
		}
		ready++
		r := model.RPS(p)
		rps += r
		failRPS += r * model.ErrorRatio(p)
		conns += model.DBConnections(p)
	}
	key := cluster + "/" + ns + "/" + name
	now := time.Now()
	s.mu.Lock()
	c := s.totals[key]
	if c == nil {
		// Count from start-up so the first scrape already shows traffic.
		c = &counters{last: s.started}
		s.totals[key] = c
	}
	dt := now.Sub(c.last).Seconds()
	c.last = now
	if ready > 0 {
		c.ok += (rps - failRPS) * dt
		c.fail += failRPS * dt
	}
	ok, fail := c.ok, c.fail
	s.mu.Unlock()
	if ready == 0 {
		http.Error(w, "no ready pod", http.StatusServiceUnavailable)
		return
	}
	var b bytes.Buffer
	b.WriteString("# HELP http_requests_total HTTP requests served by the workload, by status code.\n")
	b.WriteString("# TYPE http_requests_total counter\n")
	fmt.Fprintf(&b, "http_requests_total{status=\"200\"} %s\n", strconv.FormatFloat(math.Floor(ok), 'f', -1, 64))
	fmt.Fprintf(&b, "http_requests_total{status=\"500\"} %s\n", strconv.FormatFloat(math.Floor(fail), 'f', -1, 64))
	b.WriteString("# HELP database_connections_active Open database connections of the ready pods.\n")
	b.WriteString("# TYPE database_connections_active gauge\n")
	fmt.Fprintf(&b, "database_connections_active %s\n", strconv.FormatFloat(conns, 'f', -1, 64))
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

// workloadPods returns the pods owned by Deployment or StatefulSet ns/name.
func (src *workloadSource) workloadPods(ns, name string) ([]*corev1.Pod, bool) {
	var selector *metav1.LabelSelector
	isDeployment := false
	if d, err := src.deployments.Deployments(ns).Get(name); err == nil {
		selector, isDeployment = d.Spec.Selector, true
	} else if st, err := src.statefulSets.StatefulSets(ns).Get(name); err == nil {
		selector = st.Spec.Selector
	} else {
		return nil, false
	}
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return nil, true
	}
	pods, _ := src.pods.Pods(ns).List(sel)
	out := pods[:0:0]
	for _, p := range pods {
		ref := metav1.GetControllerOf(p)
		if ref == nil {
			continue
		}
		switch {
		case !isDeployment && ref.Kind == "StatefulSet" && ref.Name == name:
			out = append(out, p)
		case isDeployment && ref.Kind == "ReplicaSet":
			if rs, err := src.replicaSets.ReplicaSets(ns).Get(ref.Name); err == nil {
				if o := metav1.GetControllerOf(rs); o != nil && o.Kind == "Deployment" && o.Name == name {
					out = append(out, p)
				}
			}
		}
	}
	return out, true
}

// target is one entry of a Prometheus file_sd file.
type target struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// writeTargets rewrites the file_sd file if the set of targets changed.
func (s *serviceMetrics) writeTargets() error {
	s.mu.Lock()
	srcs := make([]*workloadSource, 0, len(s.sources))
	for _, src := range s.sources {
		srcs = append(srcs, src)
	}
	s.mu.Unlock()
	targets := []target{}
	addTarget := func(cluster, ns, name string, tmpl corev1.PodTemplateSpec) {
		if tmpl.Annotations[scrapeAnnotation] != "true" {
			return
		}
		targets = append(targets, target{Targets: []string{s.addr}, Labels: map[string]string{
			"job": name, "service": name, "namespace": ns, "cluster": cluster,
			"__metrics_path__": "/metrics/" + cluster + "/" + ns + "/" + name,
		}})
	}
	for _, src := range srcs {
		ds, _ := src.deployments.List(labels.Everything())
		for _, d := range ds {
			addTarget(src.name, d.Namespace, d.Name, d.Spec.Template)
		}
		ss, _ := src.statefulSets.List(labels.Everything())
		for _, st := range ss {
			addTarget(src.name, st.Namespace, st.Name, st.Spec.Template)
		}
	}
	sort.Slice(targets, func(i, j int) bool {
		return targets[i].Labels["__metrics_path__"] < targets[j].Labels["__metrics_path__"]
	})
	data, err := json.MarshalIndent(targets, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if old, err := readFileIfExists(s.sdPath); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return writeFileAtomic(s.sdPath, data, 0o644)
}
