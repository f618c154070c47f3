package fleetbench

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// buildVigil builds the vigil binary of this worktree once, into a
// temporary directory, and returns its path.
func buildVigil(b *testing.B) string { return build(b, "vigil", ".") }

// buildFloor builds floorlist, the plain client-go program of the fleet check's floor, once.
func buildFloor(b *testing.B) string { return build(b, "floorlist", "./cluster/fleetbench/floorlist") }

// build builds the package pkg of this worktree into a temporary directory as name.
func build(b *testing.B, name, pkg string) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = clustertest.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build -o %s %s in %s: %v\n%s", bin, pkg, cmd.Dir, err, out)
	}
	return bin
}

// floor times one floorlist run over kubeconfig's contexts named ("all": every one) as run
// times a check: wall, its CPU and the API servers'. Any exit but 0 fails the benchmark.
func (c checker) floor(b *testing.B, floorBin, kubeconfig string, names ...string) checkRun {
	b.Helper()
	cmd := exec.Command(floorBin, append([]string{kubeconfig}, names...)...)
	cmd.Env = c.env
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	r, err := timed(cmd)
	if err != nil {
		b.Fatalf("floorlist %v: %v\n%s", names, err, errOut.Bytes())
	}
	return r
}

// timed runs cmd: its wall time, its CPU time (user + system) and what localcluster's
// processes used meanwhile.
func timed(cmd *exec.Cmd) (checkRun, error) {
	server := localclusterTree(lc.Dir)
	server0, start := treeCPU(server), time.Now()
	err := cmd.Run()
	r := checkRun{wall: time.Since(start), serverCPU: treeCPU(server) - server0}
	if cmd.ProcessState != nil {
		r.vigilCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return r, err
}

// checker runs `vigil check` as a whole process with a home and state
// directory of its own (each run records its history there, as a user's
// would).
type checker struct {
	bin string
	env []string
}

func newChecker(b *testing.B, bin string) checker {
	home := b.TempDir()
	env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_STATE_HOME="+filepath.Join(home, "state"), "NO_COLOR=1")
	return checker{bin: bin, env: env}
}

// checkRun is one whole-process run: its wall time, the CPU time vigil
// used (user + system) and the CPU time localcluster's API servers used
// meanwhile (the same two cores serve both).
type checkRun struct {
	wall, vigilCPU, serverCPU time.Duration
}

// run times one `vigil check ARGS -o json`. Exit 0 (no finding at or above
// --fail-on) and 1 (findings: the seeded estate has failing ones by design)
// are both a complete report; anything else fails the benchmark.
func (c checker) run(b *testing.B, args ...string) (checkRun, []byte) {
	b.Helper()
	cmd := exec.Command(c.bin, append(append([]string{"check"}, args...), "-o", "json")...)
	cmd.Env = c.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	r, err := timed(cmd)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		b.Fatalf("vigil check %v: %v\n%s", args, err, errOut.Bytes())
	}
	return r, out.Bytes()
}

// verifyAllContexts checks a fleet report names exactly the contexts and
// has a report, not an error, for each.
func verifyAllContexts(b *testing.B, out []byte, contexts []string) {
	b.Helper()
	var fleet struct {
		Contexts []struct {
			Context string          `json:"context"`
			Error   string          `json:"error"`
			Report  json.RawMessage `json:"report"`
		} `json:"contexts"`
	}
	if err := json.Unmarshal(out, &fleet); err != nil {
		b.Fatalf("vigil check --all-contexts -o json: %v", err)
	}
	var got []string
	for _, c := range fleet.Contexts {
		got = append(got, c.Context)
		if c.Error != "" || len(c.Report) == 0 || string(c.Report) == "null" {
			b.Fatalf("vigil check --all-contexts: %s: no report (error %q)", c.Context, c.Error)
		}
	}
	if !slices.Equal(got, contexts) {
		b.Fatalf("vigil check --all-contexts reported %v, want %v", got, contexts)
	}
}

// checkTimes are the medians of the whole-process runs.
type checkTimes struct {
	single         map[string]time.Duration // by context
	slowest        string                   // the context with the slowest single median
	all, allAdmins time.Duration            // --all-contexts over every context, over local-1…8 only
	runs           map[string][]time.Duration
	// vigilCPU and serverCPU are the medians of the CPU times by run key
	// (a context, "all", "admins"; the floor's under "floor "+key).
	vigilCPU, serverCPU map[string]time.Duration
	// floorSlowest is the admin context whose floorlist run alone is the slowest (the
	// floor's runs are under "floor "+context and "floor all").
	floorSlowest string
}

// floorRatio is floorlist over every context against floorlist over its slowest single one.
func (ts checkTimes) floorRatio() float64 {
	return median(ts.runs["floor all"]).Seconds() / median(ts.runs["floor "+ts.floorSlowest]).Seconds()
}

// timeChecks runs, three times in turn, `vigil check --context local-N` for
// each admin context, `--all-contexts` over the whole kubeconfig and over
// the admin contexts only, and floorlist (the same LISTs from a plain client-go program) for
// each admin context and over every context; in turn, so that a slow spell of the shared
// machine does not land on one side only.
func timeChecks(b *testing.B, c checker, floorBin, kubeconfig, adminKubeconfig string, contexts, admins []string) checkTimes {
	const runs = 3
	ts := checkTimes{single: map[string]time.Duration{}, runs: map[string][]time.Duration{},
		vigilCPU: map[string]time.Duration{}, serverCPU: map[string]time.Duration{}}
	vigilCPU, serverCPU := map[string][]time.Duration{}, map[string][]time.Duration{}
	note := func(key string, r checkRun) {
		ts.runs[key] = append(ts.runs[key], r.wall)
		vigilCPU[key] = append(vigilCPU[key], r.vigilCPU)
		serverCPU[key] = append(serverCPU[key], r.serverCPU)
	}
	for range runs {
		for _, name := range admins {
			r, _ := c.run(b, "--kubeconfig", kubeconfig, "--context", name)
			note(name, r)
		}
		r, out := c.run(b, "--kubeconfig", kubeconfig, "--all-contexts")
		verifyAllContexts(b, out, contexts)
		note("all", r)
		r, out = c.run(b, "--kubeconfig", adminKubeconfig, "--all-contexts")
		verifyAllContexts(b, out, admins)
		note("admins", r)
		// Every context at once rather than the default 8: what is left
		// when the waves of --parallel are taken out.
		r, out = c.run(b, "--kubeconfig", kubeconfig, "--all-contexts", "--parallel", strconv.Itoa(len(contexts)))
		verifyAllContexts(b, out, contexts)
		note("all-p", r)
		for _, name := range admins {
			note("floor "+name, c.floor(b, floorBin, kubeconfig, name))
		}
		note("floor all", c.floor(b, floorBin, kubeconfig, "all"))
	}
	for key := range vigilCPU {
		ts.vigilCPU[key], ts.serverCPU[key] = median(vigilCPU[key]), median(serverCPU[key])
	}
	for _, name := range admins {
		ts.single[name] = median(ts.runs[name])
		if ts.slowest == "" || ts.single[name] > ts.single[ts.slowest] {
			ts.slowest = name
		}
	}
	for _, name := range admins {
		if ts.floorSlowest == "" || median(ts.runs["floor "+name]) > median(ts.runs["floor "+ts.floorSlowest]) {
			ts.floorSlowest = name
		}
	}
	ts.all, ts.allAdmins = median(ts.runs["all"]), median(ts.runs["admins"])
	return ts
}
