package fleetbench

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-k8s/vigil/estate"
)

// TestCrossChecksCatchADifferenceOfOne: the benchmark's assertions fail on
// a row or a service one off from the LIST, in each field they compare, and
// pass on the row that matches. No cluster needed.
func TestCrossChecksCatchADifferenceOfOne(t *testing.T) {
	tr := truth{byKey: map[string]workload{
		"fintech-prod/Deployment/api-gateway":   {desired: 3, ready: 3, updated: 3, generation: 1, observed: 1},
		"fintech-prod/Deployment/notification":  {desired: 1, ready: 0, updated: 1, generation: 1, observed: 1},
		"fintech-prod/StatefulSet/postgres":     {desired: 1, ready: 1, updated: 1, generation: 2, observed: 2},
		"fintech-staging/Deployment/user":       {desired: 1, ready: 0, updated: 1, generation: 3, observed: 3},
		"fintech-staging/Deployment/new":        {desired: 1, ready: 0, generation: 1, observed: 0}, // not reported: Unknown, not Down
		"fintech-staging/Deployment/scaled-out": {desired: 0, ready: 0, generation: 2, observed: 2},
	}}
	want := tr.counts()
	if want.services != 6 || want.down != 2 || want.fullyReady != 3 {
		t.Fatalf("counts %+v, want 6 services, 2 down, 3 fully ready", want)
	}
	good := estate.FleetEntry{Context: "local-1", Reachable: true, Services: 6, OK: 3, Down: 2, Unknown: 1}
	if bad := checkEntry(good, want); len(bad) > 0 {
		t.Fatalf("a matching row fails: %v", bad)
	}
	for name, broken := range map[string]func(*estate.FleetEntry){
		"services":    func(e *estate.FleetEntry) { e.Services++; e.Unknown++ },
		"down":        func(e *estate.FleetEntry) { e.Down--; e.Degraded++ },
		"ok":          func(e *estate.FleetEntry) { e.OK++; e.Unknown-- },
		"sum":         func(e *estate.FleetEntry) { e.Progressing++ },
		"err":         func(e *estate.FleetEntry) { e.Err = "timed out" },
		"unreachable": func(e *estate.FleetEntry) { e.Reachable = false },
	} {
		e := good
		broken(&e)
		if bad := checkEntry(e, want); len(bad) == 0 {
			t.Errorf("%s one off: the row passes", name)
		}
	}

	var services []estate.Service
	for key, w := range tr.byKey {
		ns, rest, _ := strings.Cut(key, "/")
		kind, name, _ := strings.Cut(rest, "/")
		services = append(services, estate.Service{Namespace: ns, Kind: kind, Name: name, Ready: w.ready, Desired: w.desired})
	}
	if bad := checkServices(services, tr); len(bad) > 0 {
		t.Fatalf("matching services fail: %v", bad)
	}
	for i, broken := range []func([]estate.Service) []estate.Service{
		func(s []estate.Service) []estate.Service { s[0].Ready++; return s },
		func(s []estate.Service) []estate.Service { s[1].Desired--; return s },
		func(s []estate.Service) []estate.Service { return s[1:] },
		func(s []estate.Service) []estate.Service {
			return append(s, estate.Service{Namespace: "fintech-prod", Kind: "Deployment", Name: "ghost"})
		},
	} {
		if bad := checkServices(broken(append([]estate.Service(nil), services...)), tr); len(bad) == 0 {
			t.Errorf("broken services %d pass", i)
		}
	}
}

// TestVmRSSReadsThisProcess: the RSS reader finds this process's VmRSS and
// the process-tree sum finds nothing for a directory no localcluster runs on.
func TestVmRSSReadsThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	if rss := vmRSS("self"); rss < 1<<20 {
		t.Errorf("VmRSS of this process %d bytes, want at least 1 MiB", rss)
	}
	if rss := vmRSS(strconv.Itoa(os.Getpid())); rss < 1<<20 {
		t.Errorf("VmRSS by pid %d bytes", rss)
	}
	if rss, n := localclusterRSS(t.TempDir()); rss != 0 || n != 0 {
		t.Errorf("no localcluster on a fresh directory, got %d bytes in %d processes", rss, n)
	}
}
