package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/transport"

	"golang.org/x/sync/errgroup"

	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/conntrack"
)

// Fleet summarises every context of the kubeconfig at once, without
// informers. A context with a fleet Prometheus (config fleet.prometheus) is
// summarised from kube-state-metrics series there: one set of queries per
// Prometheus for all such contexts (FleetTimeout). Any other context gets
// short LISTs of Deployments and StatefulSets in its watched namespaces
// (FleetTimeout each, FleetParallel contexts at a time) and one alerts query
// when a Prometheus is configured. The current context's entry comes from
// its live snapshot instead. Each entry names its Source. The summary
// carries the Manager generation it started under.
func (m *Manager) Fleet(ctx context.Context) estate.FleetSummary {
	_, gen := m.Current()
	sum := estate.FleetSummary{Generation: gen}
	contexts, err := m.Contexts()
	if err != nil {
		sum.Entries = []estate.FleetEntry{{Context: "(kubeconfig)", Err: err.Error(), Firing: -1, Checked: time.Now()}}
		sum.Taken = time.Now()
		return sum
	}
	sum.Entries = make([]estate.FleetEntry, len(contexts))
	type promKey struct{ url, label string }
	proms := map[promKey][]int{}
	sem := make(chan struct{}, m.opts.FleetParallel)
	var wg sync.WaitGroup
	var resolver *ContextResolver // one parse of the kubeconfig for the pass's LISTs
	for i, c := range contexts {
		if e, ok := m.sessionEntry(c); ok {
			sum.Entries[i] = e
			continue
		}
		if s := m.settingsFor(c.Name); s.Fleet.Prometheus != "" {
			k := promKey{s.Fleet.Prometheus, s.FleetClusterLabel()}
			proms[k] = append(proms[k], i)
			continue
		}
		if resolver == nil {
			resolver = NewContextResolver(m.opts.Flags, m.opts.UserAgent)
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			sum.Entries[i] = m.fleetEntry(ctx, c, resolver)
		})
	}
	for k, idx := range proms {
		wg.Go(func() {
			cs := make([]estate.ContextInfo, len(idx))
			for j, i := range idx {
				cs[j] = contexts[i]
			}
			for j, e := range m.promFleetEntries(ctx, k.url, k.label, cs) {
				sum.Entries[idx[j]] = e
			}
		})
	}
	wg.Wait()
	sort.Slice(sum.Entries, func(i, j int) bool { return sum.Entries[i].Context < sum.Entries[j].Context })
	sum.Taken = time.Now()
	return sum
}

// settingsFor is a context's settings as the fleet reads them: the config's,
// with the --namespace flags over them.
func (m *Manager) settingsFor(name string) config.Settings {
	s := m.opts.Config.For(name)
	if len(m.opts.Namespaces) > 0 {
		s.Namespaces, s.NamespaceSelector = m.opts.Namespaces, ""
	}
	return s
}

// sessionEntry is the current context's entry from its live, synced snapshot.
func (m *Manager) sessionEntry(c estate.ContextInfo) (estate.FleetEntry, bool) {
	sess := m.Session()
	if !c.Current || sess == nil {
		return estate.FleetEntry{}, false
	}
	snap, ok := sess.Latest()
	if !ok || !snap.Synced {
		return estate.FleetEntry{}, false
	}
	e := estate.FleetEntry{Context: c.Name, Server: c.Server, Current: c.Current, Firing: -1, Source: estate.FleetFromSession}
	return estate.FleetEntryFromSnapshot(e, snap, time.Now()), true
}

// promFleetEntries summarises contexts from the fleet Prometheus at url in one pass. A query
// that fails, or a cluster without series, degrades those rows, each with a one-line reason.
func (m *Manager) promFleetEntries(ctx context.Context, url, label string, contexts []estate.ContextInfo) []estate.FleetEntry {
	start := time.Now()
	entries := make([]estate.FleetEntry, len(contexts))
	targets := make([]FleetTarget, len(contexts))
	for i, c := range contexts {
		entries[i] = estate.FleetEntry{Context: c.Name, Server: c.Server, Current: c.Current, Firing: -1, Source: estate.FleetFromPrometheus}
		targets[i] = FleetTarget{Context: c.Name, Settings: m.settingsFor(c.Name)}
	}
	// The fleet view only reads, whatever the mode: its client refuses writes.
	pf, err := NewPromFleet(url, label, readonly.WrapClient(&http.Client{Timeout: m.opts.FleetTimeout}))
	if err != nil {
		for i := range entries {
			entries[i].Err, entries[i].Checked = oneLine(err.Error()), time.Now()
		}
		return entries
	}
	ctx, cancel := context.WithTimeout(ctx, m.opts.FleetTimeout)
	defer cancel()
	snaps, errs := pf.Snapshots(ctx, targets, time.Now())
	for i := range entries {
		if errs[i] != nil {
			entries[i].Err, entries[i].Checked, entries[i].Took = oneLine(errs[i].Error()), time.Now(), time.Since(start)
			continue
		}
		entries[i] = estate.FleetEntryFromSnapshot(entries[i], snaps[i], start)
	}
	return entries
}

func (m *Manager) fleetEntry(ctx context.Context, c estate.ContextInfo, resolver *ContextResolver) estate.FleetEntry {
	start := time.Now()
	e := estate.FleetEntry{Context: c.Name, Server: c.Server, Current: c.Current, Firing: -1, Source: estate.FleetFromList}
	t, err := resolver.Resolve(c.Name)
	if err != nil {
		e.Err, e.Checked = err.Error(), time.Now()
		return e
	}
	// The fleet view only reads, whatever the mode: its clients refuse writes.
	cfg := readonly.WrapConfig(t.RESTConfig)
	cfg.Timeout = m.opts.FleetTimeout
	settings := m.settingsFor(c.Name)
	ctx, cancel := context.WithTimeout(ctx, m.opts.FleetTimeout)
	defer cancel()
	snap, err := FleetSnapshot(ctx, cfg, settings)
	if err != nil {
		e.Checked, e.Took = time.Now(), time.Since(start)
		e.Err = Explain(err)
		if e.Refused = apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err); e.Refused {
			e.Err = refusal(err)
		}
		return e
	}
	return estate.FleetEntryFromSnapshot(e, snap, start)
}

// FleetSnapshot lists, once, what a context's service health is derived from — Deployments,
// StatefulSets, their ReplicaSets and Pods, HPAs — in its watched namespaces, polls its alerts
// once, and assembles them with estate.Assemble: the derivation a live session uses, so a
// fleet row counts what `:ctx` to that context would show. Only the session's memory of OOM
// kills over the last hour is narrower here (the kills the pods' last states still show).
func FleetSnapshot(ctx context.Context, cfg *rest.Config, s config.Settings) (estate.Snapshot, error) {
	objs, err := fleetObjects(ctx, cfg, s)
	if err != nil {
		return estate.Snapshot{}, err
	}
	return assembleFleet(objs, pollAlertsOnce(ctx, s), s, time.Now()), nil
}

// assembleFleet is what both fleet sources end with: the objects they read (listed, or rebuilt
// from kube-state-metrics series) and the alerts, assembled at now as a session would.
func assembleFleet(objs estate.Objects, alerts estate.AlertsView, s config.Settings, now time.Time) estate.Snapshot {
	var snap estate.Snapshot
	ooms := map[string][]time.Time{}
	recentOOMKills(objs.Pods, now, func(key string, at time.Time) { ooms[key] = append(ooms[key], at) })
	estate.Assemble(&snap, objs, estate.Extras{Alerts: alerts, AlertLabels: s.AlertLabels, OOMKills: ooms}, now)
	snap.Conn = estate.ConnState{Connected: true, LastContact: now}
	return snap
}

// fleetObjects lists the objects FleetSnapshot assembles, every (kind, namespace) at once,
// built-in kinds as protobuf from the watch cache.
func fleetObjects(ctx context.Context, cfg *rest.Config, s config.Settings) (estate.Objects, error) {
	var objs estate.Objects
	pcfg := rest.CopyConfig(cfg)
	pcfg.ContentType = "application/vnd.kubernetes.protobuf"
	pcfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	pcfg.QPS, pcfg.Burst = max(pcfg.QPS, 100), max(pcfg.Burst, 500)
	// The pass dials its own connections and closes them all when it ends:
	// a pass every refresh of the Contexts screen would otherwise hold a
	// connection and its buffers per context until the idle timeout (90 s),
	// next to the live session's. Closing the transport's idle connections
	// is not enough (conntrack says why).
	dialer := &conntrack.Dialer{Dial: pcfg.Dial}
	defer dialer.Close()
	pcfg.Dial = dialer.DialContext
	hc, err := passHTTPClient(pcfg)
	if err != nil {
		return objs, err
	}
	cs, err := kubernetes.NewForConfigAndClient(pcfg, hc)
	if err != nil {
		return objs, err
	}
	namespaces := s.Namespaces
	if len(namespaces) == 0 && s.NamespaceSelector != "" {
		list, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: s.NamespaceSelector})
		if err != nil {
			return objs, err
		}
		for _, ns := range list.Items {
			namespaces = append(namespaces, ns.Name)
		}
	}
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	opts := metav1.ListOptions{ResourceVersion: "0"}
	for _, ns := range namespaces {
		g.Go(func() error {
			l, err := cs.AppsV1().Deployments(ns).List(ctx, opts)
			if err != nil {
				return fmt.Errorf("deployments in %s: %w", ns, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for i := range l.Items {
				objs.Deployments = append(objs.Deployments, &l.Items[i])
			}
			return nil
		})
		g.Go(func() error {
			l, err := cs.AppsV1().StatefulSets(ns).List(ctx, opts)
			if err != nil {
				return fmt.Errorf("statefulsets in %s: %w", ns, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for i := range l.Items {
				objs.StatefulSets = append(objs.StatefulSets, &l.Items[i])
			}
			return nil
		})
		g.Go(func() error {
			l, err := cs.AppsV1().ReplicaSets(ns).List(ctx, opts)
			if err != nil {
				return fmt.Errorf("replicasets in %s: %w", ns, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for i := range l.Items {
				objs.ReplicaSets = append(objs.ReplicaSets, &l.Items[i])
			}
			return nil
		})
		g.Go(func() error {
			l, err := cs.CoreV1().Pods(ns).List(ctx, opts)
			if err != nil {
				return fmt.Errorf("pods in %s: %w", ns, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for i := range l.Items {
				objs.Pods = append(objs.Pods, &l.Items[i])
			}
			return nil
		})
		g.Go(func() error {
			l, err := cs.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, opts)
			if apierrors.IsForbidden(err) || apierrors.IsNotFound(err) {
				return nil // the health of the services does not wait for HPAs the user cannot read
			}
			if err != nil {
				return fmt.Errorf("horizontalpodautoscalers in %s: %w", ns, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for i := range l.Items {
				objs.HPAs = append(objs.HPAs, &l.Items[i])
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return objs, err
	}
	objs.SortObjects()
	return objs, nil
}

// pollAlertsOnce asks the context's Prometheus and Alertmanager once, as one round of a
// session's alert polling does, and returns the view a session would build from it.
func pollAlertsOnce(ctx context.Context, set config.Settings) estate.AlertsView {
	view := estate.AlertsView{
		Prometheus:   estate.AlertSource{URL: set.Prometheus, Configured: set.Prometheus != ""},
		Alertmanager: estate.AlertSource{URL: set.Alertmanager, Configured: set.Alertmanager != ""},
	}
	clients, err := newAlertClients(set, readonly.WrapClient)
	if err != nil {
		view.Prometheus.Err = err.Error()
		return view
	}
	now := time.Now()
	var promAlerts, amAlerts []estate.Alert
	if clients.prom != nil {
		alerts, rules, err := fetchPrometheus(ctx, clients.prom)
		sourceResult(&view.Prometheus, err, 0, now)
		if err == nil {
			promAlerts, view.Rules = estate.KeepAlerts(alerts, set.AlertLabels), rules
		}
	}
	if clients.am != nil {
		alerts, silences, err := fetchAlertmanager(ctx, clients.am)
		sourceResult(&view.Alertmanager, err, 0, now)
		if err == nil {
			amAlerts, view.Silences = estate.KeepAlerts(alerts, set.AlertLabels), silences
		}
	}
	view.Alerts = estate.MergeAlerts(promAlerts, view.Prometheus.Available, amAlerts, view.Alertmanager.Available)
	return view
}

// passHTTPClient is the HTTP client of one fleet pass: client-go's
// transport for cfg (its TLS configuration, dialer, proxy and wrappers,
// read-only's among them), built for the pass alone and with net/http's own
// HTTP/2, which has no read-idle health check. client-go's HTTP/2
// (golang.org/x/net/http2, ReadIdleTimeout 30 s) arms a health-check timer
// per connection and does not stop it when the connection ends, so each
// closed connection of a pass, with its TLS and framer buffers (~100 KiB),
// stayed reachable for 30 s after the pass had closed it. A pass is a few
// LISTs under FleetTimeout; it has no long-lived connection to check.
// A config with a transport of its own keeps client-go's client.
func passHTTPClient(cfg *rest.Config) (*http.Client, error) {
	if cfg.Transport != nil {
		return rest.HTTPClientFor(cfg)
	}
	tc, err := cfg.TransportConfig()
	if err != nil {
		return nil, err
	}
	tlsConfig, err := transport.TLSConfigFor(tc)
	if err != nil {
		return nil, err
	}
	proxy := http.ProxyFromEnvironment
	if tc.Proxy != nil {
		proxy = tc.Proxy
	}
	t := &http.Transport{
		Proxy:               proxy,
		TLSHandshakeTimeout: 10 * time.Second,
		TLSClientConfig:     tlsConfig,
		MaxIdleConnsPerHost: 25, // client-go's idleConnsPerHost
		DisableCompression:  tc.DisableCompression,
		// As client-go: HTTP/2 unless DISABLE_HTTP2 is set or the config's
		// NextProtos leave it out.
		ForceAttemptHTTP2: os.Getenv("DISABLE_HTTP2") == "" &&
			(tlsConfig == nil || len(tlsConfig.NextProtos) == 0 || slices.Contains(tlsConfig.NextProtos, "h2")),
	}
	if tc.DialHolder != nil {
		t.DialContext = tc.DialHolder.Dial
	}
	rt, err := transport.HTTPWrappersForConfig(tc, utilnet.SetOldTransportDefaults(t))
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt, Timeout: cfg.Timeout}, nil
}

// refusal is a refused request's reason with whom it refused: "forbidden: User
// \"system:anonymous\" cannot list resource \"deployments\" …", where Explain says
// "forbidden" alone.
func refusal(err error) string {
	why := Explain(err)
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return why
	}
	msg := status.Status().Message
	if _, who, ok := strings.Cut(msg, "forbidden: "); ok {
		msg = who
	}
	if msg == "" || msg == why {
		return why
	}
	return why + ": " + msg
}
