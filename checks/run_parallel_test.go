package checks_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
)

// oneByOne is Run as it was before the checks ran on every core: the
// reference the parallel Run must equal.
func oneByOne(cat []checks.Check, inv *checks.Inventory) []checks.Finding {
	var out []checks.Finding
	for _, c := range cat {
		out = append(out, checks.Evaluate(c, inv)...)
	}
	return out
}

// TestRunOnEveryCoreEqualsOneByOne: over both seed estates and every
// check's fixtures, the parallel Run yields exactly the findings, in the
// same order, as evaluating the catalogue one check after another (and,
// under -race, that the checks only read the inventory they share). Run
// works out the workloads once for all its checks, Evaluate alone afresh:
// this is also that optimisation against the plain derivation.
func TestRunOnEveryCoreEqualsOneByOne(t *testing.T) {
	cat := checks.Catalogue()
	root := filepath.Join("..", "testdata", "fintech")
	var invs []*checks.Inventory
	var names []string
	for _, cl := range []string{"local-1", "local-2"} {
		inv, err := load.Paths([]string{filepath.Join(root, "all"), filepath.Join(root, cl)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		invs, names = append(invs, inv), append(names, "estate "+cl)
		// As a live listing fills them: every namespace's Deployments and
		// DaemonSets, which some checks append to the workloads Run shares.
		live := *inv
		live.AllDeployments, live.AllDaemonSets = inv.Deployments, inv.DaemonSets
		invs, names = append(invs, &live), append(names, "estate "+cl+" read across namespaces")
	}
	fixtures, _ := filepath.Glob(filepath.Join("..", "testdata", "checks", "*", "*.yaml"))
	for _, f := range fixtures {
		inv, _ := loadFixture(t, f)
		invs, names = append(invs, inv), append(names, f)
	}
	if len(invs) < 10 {
		t.Fatalf("precondition: %d inventories, want the estates and the fixtures", len(invs))
	}
	for i, inv := range invs {
		want := oneByOne(cat, inv)
		for range 3 {
			if got := checks.Run(cat, inv); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: Run gave %d findings, one check after another %d, or in another order", names[i], len(got), len(want))
			}
		}
	}
	if got := checks.Run(nil, invs[0]); got != nil {
		t.Errorf("an empty catalogue gave %v", got)
	}
}

// loadFixture reads a manifest file into an inventory, failing the test on
// a read or parse error; it returns the file's bytes too.
func loadFixture(t *testing.T, path string) (*checks.Inventory, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := load.Bytes(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return inv, data
}
