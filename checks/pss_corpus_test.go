package checks_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	psapi "k8s.io/pod-security-admission/api"

	"github.com/vigil-k8s/vigil/checks"
)

// TestPodSecurityAdmissionCorpus runs pss-pods-restricted over
// pod-security-admission's own restricted fixtures for the latest version
// (test/testdata/restricted/v1.N/{pass,fail} of the module vigil builds
// with): upstream generated them from an apiserver, so each is judged as
// the object that apiserver stored, defaults included (a volume with no
// source is an emptyDir: restrictedvolumes0 passes). The expected verdict
// is the directory the fixture sits in; every one must agree.
func TestPodSecurityAdmissionCorpus(t *testing.T) {
	// The version go.mod requires, from the module cache (downloaded if
	// missing): the corpus is read there, never copied into the repository.
	cmd := exec.Command("go", "mod", "download", "-json", "k8s.io/pod-security-admission")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var mod struct{ Dir, Error string }
	if jsonErr := json.Unmarshal(out, &mod); jsonErr != nil && err == nil {
		err = jsonErr
	}
	if err != nil || mod.Error != "" || mod.Dir == "" {
		t.Fatalf("go mod download k8s.io/pod-security-admission (its corpus, read from the module cache): %v %s %s", err, mod.Error, stderr.String())
	}
	// The newest version directory: the one restricted:latest answers for.
	base := filepath.Join(mod.Dir, "test", "testdata", "restricted")
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
			inv, _ := loadFixture(t, f)
			total++
			if got := worst(checks.Evaluate(c, inv)); got == want {
				agree++
			} else {
				t.Errorf("%s/%s: vigil says %s:\n%s", want, filepath.Base(f), got, dump(checks.Evaluate(c, inv)))
			}
		}
	}
	t.Logf("pod-security-admission restricted %s fixtures: %d of %d agree", dir, agree, total)
	if agree != total || total < 90 {
		t.Errorf("pod-security-admission restricted %s: %d of %d fixtures agree; 100 %% of its ~99 fixtures required", dir, agree, total)
	}
}
