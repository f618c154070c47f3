// Package integration runs cluster/ against the project's real local control
// plane (bin/localcluster via internal/clustertest): local-1 (Argo CD
// installed), local-2 (no Argo CD CRDs, a different failing service) and the
// view-only local-N-reviewer contexts. One pair of clusters serves the
// package; tests run one after another because one restarts the apiserver.
package integration

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

var lc *clustertest.Cluster

func TestMain(m *testing.M) {
	clustertest.Main(m, clustertest.Options{Clusters: 2, Seed: true}, &lc)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start runs a Session on a context of the local cluster until the test ends.
func start(t *testing.T, contextName string, tune func(*cluster.Options)) *cluster.Session {
	t.Helper()
	cfg, err := lc.RESTConfig(contextName)
	if err != nil {
		t.Fatal(err)
	}
	o := cluster.Options{RESTConfig: cfg, Context: contextName, Settings: config.Default().For(contextName),
		MinBuildInterval: 50 * time.Millisecond, Heartbeat: time.Second, UsageInterval: 2 * time.Second,
		AlertsInterval: time.Second, MaxAlertsBackoff: 2 * time.Second, Logger: quiet()}
	if tune != nil {
		tune(&o)
	}
	s, err := cluster.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// waitSnap waits for a snapshot ok accepts; it fails with the last one seen.
func waitSnap(t *testing.T, s *cluster.Session, timeout time.Duration, what string, ok func(estate.Snapshot) bool) estate.Snapshot {
	t.Helper()
	ch, stop := s.Subscribe()
	defer stop()
	deadline := time.After(timeout)
	var last estate.Snapshot
	for {
		select {
		case snap, open := <-ch:
			if !open {
				t.Fatalf("session stopped while waiting for %s", what)
			}
			last = snap
			if ok(snap) {
				return snap
			}
		case <-deadline:
			t.Fatalf("timed out after %s waiting for %s; last snapshot: synced=%v conn=%+v problems=%q services=%d",
				timeout, what, last.Synced, last.Conn, last.Problems, len(last.Services))
		}
	}
}

func service(snap estate.Snapshot, ns, name string) (estate.Service, bool) {
	for _, s := range snap.Services {
		if s.Namespace == ns && s.Name == name {
			return s, true
		}
	}
	return estate.Service{}, false
}

func resource(snap estate.Snapshot, key string) estate.ResourceStatus {
	for _, r := range snap.Resources {
		if r.Resource == key {
			return r
		}
	}
	return estate.ResourceStatus{}
}

func hasProblem(snap estate.Snapshot, sub string) bool {
	for _, p := range snap.Problems {
		if strings.Contains(p, sub) {
			return true
		}
	}
	return false
}
