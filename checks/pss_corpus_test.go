package checks_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	psapi "k8s.io/pod-security-admission/api"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
)

// TestPodSecurityAdmissionCorpus runs pss-pods-restricted over
// pod-security-admission's own restricted fixtures for the latest version
// (test/testdata/restricted/v1.N/{pass,fail} of the module vigil builds
// with): upstream generated them from an apiserver, so each is judged as
// the object that apiserver stored, defaults included (a volume with no
// source is an emptyDir: restrictedvolumes0 passes). The expected verdict
// is the directory the fixture sits in; every one must agree.
func TestPodSecurityAdmissionCorpus(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/pod-security-admission").Output()
	if err != nil {
		t.Fatalf("locating k8s.io/pod-security-admission: %v", err)
	}
	// The newest version directory: the one restricted:latest answers for.
	base := filepath.Join(strings.TrimSpace(string(out)), "test", "testdata", "restricted")
	entries, err := os.ReadDir(base)
	if err != nil {
		t.Fatal(err)
	}
	var newest psapi.Version
	for _, e := range entries {
		if v, err := psapi.ParseVersion(e.Name()); err == nil && v.Older(psapi.LatestVersion()) && newest.Older(v) {
			newest = v
		}
	}
	dir := fmt.Sprintf("v%d.%d", newest.Major(), newest.Minor())
	root := filepath.Join(base, dir)
	c := mustCheck(t, "pss-pods-restricted")
	total, agree := 0, 0
	for _, want := range []checks.Status{checks.Pass, checks.Fail} {
		files, _ := filepath.Glob(filepath.Join(root, string(want), "*.yaml"))
		if len(files) == 0 {
			t.Fatalf("no fixtures in %s", filepath.Join(root, string(want)))
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			inv, err := load.Bytes(f, data)
			if err != nil {
				t.Fatal(err)
			}
			total++
			if got := worst(checks.Evaluate(c, inv)); got == want {
				agree++
			} else {
				t.Errorf("%s/%s: vigil says %s:\n%s", want, filepath.Base(f), got, dump(checks.Evaluate(c, inv)))
			}
		}
	}
	t.Logf("pod-security-admission restricted %s fixtures: %d of %d agree", dir, agree, total)
}
