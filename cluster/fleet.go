package cluster

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"golang.org/x/sync/errgroup"

	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
)

// Fleet summarises every context of the kubeconfig at once, without
// informers: per context, short LISTs of Deployments and StatefulSets in
// its watched namespaces (FleetTimeout each, FleetParallel contexts at a
// time) and one alerts query when a Prometheus is configured. The current
// context's entry comes from its live snapshot instead. The summary carries
// the Manager generation it started under.
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
	sem := make(chan struct{}, m.opts.FleetParallel)
	var wg sync.WaitGroup
	for i, c := range contexts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			sum.Entries[i] = m.fleetEntry(ctx, c)
		})
	}
	wg.Wait()
	sort.Slice(sum.Entries, func(i, j int) bool { return sum.Entries[i].Context < sum.Entries[j].Context })
	sum.Taken = time.Now()
	return sum
}

func (m *Manager) fleetEntry(ctx context.Context, c estate.ContextInfo) estate.FleetEntry {
	start := time.Now()
	e := estate.FleetEntry{Context: c.Name, Server: c.Server, Current: c.Current, Firing: -1}
	if sess := m.Session(); c.Current && sess != nil {
		if snap, ok := sess.Latest(); ok && snap.Synced {
			return estate.FleetEntryFromSnapshot(e, snap, start)
		}
	}
	t, err := ResolveConnection(m.flagsFor(c.Name), m.opts.UserAgent)
	if err != nil {
		e.Err, e.Checked = err.Error(), time.Now()
		return e
	}
	// The fleet view only reads, whatever the mode: its clients refuse writes.
	cfg := readonly.WrapConfig(t.RESTConfig)
	cfg.Timeout = m.opts.FleetTimeout
	settings := m.opts.Config.For(c.Name)
	if len(m.opts.Namespaces) > 0 {
		settings.Namespaces = m.opts.Namespaces
	}
	ctx, cancel := context.WithTimeout(ctx, m.opts.FleetTimeout)
	defer cancel()
	snap, err := FleetSnapshot(ctx, cfg, settings)
	if err != nil {
		e.Checked, e.Took = time.Now(), time.Since(start)
		e.Err = Explain(err)
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
	var snap estate.Snapshot
	objs, err := fleetObjects(ctx, cfg, s)
	if err != nil {
		return snap, err
	}
	now := time.Now()
	ooms := map[string][]time.Time{}
	recentOOMKills(objs.Pods, now, func(key string, at time.Time) { ooms[key] = append(ooms[key], at) })
	estate.Assemble(&snap, objs, estate.Extras{Alerts: pollAlertsOnce(ctx, s), AlertLabels: s.AlertLabels, OOMKills: ooms}, now)
	snap.Conn = estate.ConnState{Connected: true, LastContact: now}
	return snap, nil
}

// fleetObjects lists the objects FleetSnapshot assembles, every (kind, namespace) at once,
// built-in kinds as protobuf from the watch cache.
func fleetObjects(ctx context.Context, cfg *rest.Config, s config.Settings) (estate.Objects, error) {
	var objs estate.Objects
	pcfg := rest.CopyConfig(cfg)
	pcfg.ContentType = "application/vnd.kubernetes.protobuf"
	pcfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	pcfg.QPS, pcfg.Burst = max(pcfg.QPS, 100), max(pcfg.Burst, 500)
	cs, err := kubernetes.NewForConfig(pcfg)
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
