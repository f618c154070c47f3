package cluster

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

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
	services, err := FleetServices(ctx, cfg, settings)
	e.Checked, e.Took = time.Now(), time.Since(start)
	if err != nil {
		e.Err = Explain(err)
		return e
	}
	e.Reachable = true
	e.CountHealth(services)
	e.Firing, e.AlertsErr = fleetFiring(ctx, settings, m.opts)
	e.Took = time.Since(start)
	return e
}

// FleetServices lists a context's Deployments and StatefulSets once and
// derives their health from the controllers' status alone (no pods), as
// the fleet view does.
func FleetServices(ctx context.Context, cfg *rest.Config, s config.Settings) ([]estate.Service, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	namespaces := s.Namespaces
	if len(namespaces) == 0 && s.NamespaceSelector != "" {
		list, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: s.NamespaceSelector})
		if err != nil {
			return nil, err
		}
		for _, ns := range list.Items {
			namespaces = append(namespaces, ns.Name)
		}
	}
	var objs estate.Objects
	for _, ns := range namespaces {
		deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return nil, fmt.Errorf("deployments in %s: %w", ns, err)
		}
		for i := range deps.Items {
			objs.Deployments = append(objs.Deployments, &deps.Items[i])
		}
		sts, err := cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return nil, fmt.Errorf("statefulsets in %s: %w", ns, err)
		}
		for i := range sts.Items {
			objs.StatefulSets = append(objs.StatefulSets, &sts.Items[i])
		}
	}
	now := time.Now()
	out := make([]estate.Service, 0, len(objs.Deployments)+len(objs.StatefulSets))
	for _, d := range objs.Deployments {
		out = append(out, estate.Service{Namespace: d.Namespace, Name: d.Name, Kind: "Deployment", Health: estate.FleetHealth(estate.DeploymentFacts(d), now)})
	}
	for _, st := range objs.StatefulSets {
		out = append(out, estate.Service{Namespace: st.Namespace, Name: st.Name, Kind: "StatefulSet", Health: estate.FleetHealth(estate.StatefulSetFacts(st), now)})
	}
	estate.SortServices(out)
	return out, nil
}

func fleetFiring(ctx context.Context, s config.Settings, o ManagerOptions) (int, string) {
	if s.Prometheus == "" && s.Alertmanager == "" {
		return -1, "no Prometheus configured"
	}
	clients, err := newAlertClients(s, readonly.WrapClient)
	if err != nil {
		return -1, err.Error()
	}
	if clients.am != nil {
		alerts, _, amErr := fetchAlertmanager(ctx, clients.am)
		if amErr == nil {
			n := 0
			for _, a := range estate.KeepAlerts(alerts, s.AlertLabels) {
				if a.State == "firing" && len(a.SilencedBy) == 0 {
					n++
				}
			}
			return n, ""
		}
		if clients.prom == nil {
			return -1, Explain(amErr)
		}
	}
	alerts, _, err := fetchPrometheus(ctx, clients.prom)
	if err != nil {
		return -1, Explain(err)
	}
	n := 0
	for _, a := range estate.KeepAlerts(alerts, s.AlertLabels) {
		if a.State == "firing" {
			n++
		}
	}
	return n, ""
}
