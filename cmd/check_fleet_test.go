package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
)

// fleetFixture is a kubeconfig with the contexts names (the first current), and a config file giving
// context a its own namespaces.
func fleetFixture(t *testing.T, names []string) (kubeconfig, cfgFile string) {
	t.Helper()
	dir := t.TempDir()
	cfgFile = filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgFile, []byte("namespaces: [shop]\ncontexts:\n  a:\n    namespaces: [team-a]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kubeconfig = filepath.Join(dir, "kubeconfig")
	var ctxs []string
	for _, n := range names {
		ctxs = append(ctxs, "{name: "+n+", context: {cluster: c, user: u}}")
	}
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {}}]
contexts: [`+strings.Join(ctxs, ", ")+`]
current-context: `+names[0]+`
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig, cfgFile
}

// fakeFleet runs `vigil check ARGS` with a listInventory that answers per context: a and c
// the failing ingress-tls fixture, b and d the passing one, down an error of two lines. It
// records the namespaces each context was listed with and the most contexts listed at once.
type fakeFleet struct {
	// contexts are the kubeconfig's; default a, b, c, d and down.
	contexts    []string
	mu          sync.Mutex
	namespaces  map[string][]string
	inFlight    atomic.Int32
	maxInFlight atomic.Int32
	// hold keeps a context's listing until its channel is closed.
	hold map[string]chan struct{}
	// progress receives the progress line, as a terminal's stderr would.
	progress io.Writer
	// warn is what a context's listing says on the check's stderr, as an API server's
	// warning would be.
	warn map[string]string
}

func (f *fakeFleet) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	if f.contexts == nil {
		f.contexts = []string{"b", "a", "c", "d", "down"}
	}
	kubeconfig, cfgFile := fleetFixture(t, f.contexts)
	pass, err := load.Paths([]string{fixture("ingress-tls", "pass")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fail, err := load.Paths([]string{fixture("ingress-tls", "fail")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.namespaces = map[string][]string{}
	var out, errOut bytes.Buffer
	g := newGlobalFlags(func(string) string { return "" })
	o := newCheckOptions(g, genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
	o.listInventory = func(_ context.Context, o *CheckOptions) (*checks.Inventory, error) {
		name := kubeContextName(o.ConfigFlags)
		n := f.inFlight.Add(1)
		defer f.inFlight.Add(-1)
		for m := f.maxInFlight.Load(); n > m && !f.maxInFlight.CompareAndSwap(m, n); m = f.maxInFlight.Load() {
		}
		time.Sleep(50 * time.Millisecond)
		if h := f.hold[name]; h != nil {
			<-h
		}
		if w := f.warn[name]; w != "" {
			fmt.Fprintln(o.ErrOut, w)
		}
		f.mu.Lock()
		f.namespaces[name] = o.Namespaces
		f.mu.Unlock()
		var inv checks.Inventory
		switch name {
		case "a", "c":
			inv = *fail
		case "b", "d":
			inv = *pass
		default:
			return nil, errors.New("Get \"https://127.0.0.1:1/api\": dial tcp 127.0.0.1:1:\nconnect: connection refused")
		}
		inv.Origin = "context " + name
		return &inv, nil
	}
	o.progressOut = f.progress
	c := newCheckCommand(o)
	g.addFlags(c.PersistentFlags())
	c.SetArgs(append([]string{"--kubeconfig", kubeconfig, "--config", cfgFile, "--check", "ingress-tls"}, args...))
	code := execute(context.Background(), c, &errOut)
	return out.String(), errOut.String(), code
}

// TestAllContextsFleet: every context evaluated as `--context X` alone would be (its own
// config settings; the same JSON report), at most --parallel at once; an unreachable
// context is its error line and exit 2 while the others report; exit 1 when findings reach
// --fail-on anywhere.
func TestAllContextsFleet(t *testing.T) {
	var f fakeFleet
	out, errOut, code := f.run(t, "--all-contexts", "--parallel", "2", "-o", "json")
	if code != ExitUsage || !strings.Contains(errOut, "1 of 5 contexts could not be evaluated: down") {
		t.Errorf("exit %d, stderr %q: want 2 naming down", code, errOut)
	}
	if m := f.maxInFlight.Load(); m != 2 {
		t.Errorf("at most %d contexts listed at once with --parallel 2, want 2", m)
	}
	if !slices.Equal(f.namespaces["a"], []string{"team-a"}) || !slices.Equal(f.namespaces["b"], []string{"shop"}) {
		t.Errorf("namespaces per context %v: want a's own (team-a), the global ones (shop) for b", f.namespaces)
	}
	var fleet struct {
		Contexts []struct {
			Context string          `json:"context"`
			Error   string          `json:"error"`
			Report  json.RawMessage `json:"report"`
		} `json:"contexts"`
		Summary []struct {
			Context string `json:"context"`
			Error   string `json:"error"`
			Fail    int    `json:"fail"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &fleet); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(fleet.Contexts) != 5 || len(fleet.Summary) != 5 {
		t.Fatalf("want 5 contexts and 5 summary lines:\n%s", out)
	}
	for i, c := range fleet.Contexts {
		s := fleet.Summary[i]
		if c.Context == "down" {
			if c.Error != `Get "https://127.0.0.1:1/api": dial tcp 127.0.0.1:1: connect: connection refused` || s.Error != c.Error {
				t.Errorf("down: error %q, summary %q", c.Error, s.Error)
			}
			continue
		}
		var single fakeFleet
		alone, _, _ := single.run(t, "--context", c.Context, "-o", "json")
		if !jsonEqual(t, c.Report, json.RawMessage(alone)) {
			t.Errorf("%s: fleet report differs from --context %s -o json", c.Context, c.Context)
		}
		if wantFail := map[string]bool{"a": true, "c": true}[c.Context]; (s.Fail > 0) != wantFail {
			t.Errorf("summary %s: %d failing findings", c.Context, s.Fail)
		}
	}

	// Without the dead context: exit 1 from a's findings, 0 when only passing contexts are
	// there (--fail-on reaches nothing in b and d).
	for _, tc := range []struct {
		contexts []string
		want     int
	}{{[]string{"b", "a"}, ExitFindings}, {[]string{"b", "d"}, ExitOK}} {
		g := fakeFleet{contexts: tc.contexts}
		if _, errOut, code := g.run(t, "--all-contexts"); code != tc.want || errOut != "" {
			t.Errorf("contexts %v: exit %d (want %d), stderr %q", tc.contexts, code, tc.want, errOut)
		}
	}
	if _, errOut, code := f.run(t, "--all-contexts", "--check", "ingress-tls", "-o", "prometheus"); code != ExitUsage || strings.Count(errOut, "\n") != 1 {
		t.Errorf("prometheus: exit %d, stderr %q", code, errOut)
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--all-contexts", "-f", "x.yaml"}, ExitUsage},
		{[]string{"--all-contexts", "--context", "a"}, ExitUsage},
		{[]string{"--all-contexts", "-o", "junit"}, ExitUsage},
		{[]string{"--all-contexts", "--parallel", "0"}, ExitUsage},
	} {
		if _, errOut, code := f.run(t, tc.args...); code != tc.want {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, code, tc.want, errOut)
		}
	}
}

// TestAllContextsDefaultParallel: without --parallel, eight contexts of a fleet of twelve are
// listed at once, never more.
func TestAllContextsDefaultParallel(t *testing.T) {
	// Every listing waits until eight are in flight (or 10 s): the count does not hang on
	// how fast goroutines start on a loaded machine.
	release := make(chan struct{})
	f := fakeFleet{hold: map[string]chan struct{}{}}
	for i := range 12 {
		f.contexts = append(f.contexts, fmt.Sprintf("ctx-%02d", i))
		f.hold[f.contexts[i]] = release
	}
	go func() {
		defer close(release)
		for deadline := time.Now().Add(10 * time.Second); f.inFlight.Load() < 8 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // a ninth would have started by now
	}()
	if _, errOut, code := f.run(t, "--all-contexts", "-o", "json"); code != ExitUsage {
		t.Fatalf("exit %d, stderr %q: want 2 (every ctx-NN is unreachable in the fake)", code, errOut)
	}
	if m := f.maxInFlight.Load(); m != DefaultParallel || DefaultParallel != 8 {
		t.Errorf("at most %d contexts listed at once by default (DefaultParallel %d), want 8", m, DefaultParallel)
	}
}

// TestAllContextsProgress: while a context is still being read, the progress line (on a
// terminal's stderr) says how many are done and names it with its wait so far, redrawn by
// the clock while nothing ends; it is erased before the report, which stays clean. On a
// stderr that is not a terminal nothing of it is written.
func TestAllContextsProgress(t *testing.T) {
	release := make(chan struct{})
	var progress syncBuffer
	f := fakeFleet{hold: map[string]chan struct{}{"c": release}, progress: &progress}
	seen := make(chan string, 1)
	go func() {
		defer close(release)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if s := progress.String(); strings.Contains(s, "4 of 5 contexts done; reading c (1s)") {
				seen <- s
				return
			}
		}
		seen <- progress.String()
	}()
	out, errOut, code := f.run(t, "--all-contexts", "--parallel", "5", "-o", "json")
	during := <-seen
	if !strings.Contains(during, "4 of 5 contexts done; reading c (0s)") || !strings.Contains(during, "4 of 5 contexts done; reading c (1s)") {
		t.Fatalf("want c named as the one read, drawn when the others ended and redrawn a second later; the line's writes: %q", during)
	}
	if got := progress.String(); !strings.HasSuffix(got, "vigil check: 5 of 5 contexts done\r\x1b[K") {
		t.Errorf("want the line erased at the end, after all five were done; it ends %q", got[max(0, len(got)-80):])
	}
	if code != ExitUsage || !json.Valid([]byte(out)) || strings.ContainsAny(out, "\r\x1b") || strings.Contains(errOut, "contexts done") {
		t.Errorf("exit %d; the report must be clean JSON and stderr (not a terminal) without the line: stdout %d bytes, stderr %q", code, len(out), errOut)
	}
}

// TestCheckProgress: `vigil check --context c` held by its API server says so on a terminal's
// stderr from the first second on, redrawn each second, and erases the line before the report;
// a warning meanwhile goes above the line. A check that answers within the second draws
// nothing at all, and neither does one on a stderr that is not a terminal.
func TestCheckProgress(t *testing.T) {
	release := make(chan struct{})
	var progress syncBuffer
	f := fakeFleet{hold: map[string]chan struct{}{"c": release}, progress: &progress, warn: map[string]string{"c": "Warning: policy/v1beta1 is deprecated"}}
	seen := make(chan string, 1)
	go func() {
		defer close(release)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if s := progress.String(); strings.Contains(s, "vigil check: reading c (2s)") {
				seen <- s
				return
			}
		}
		seen <- progress.String()
	}()
	out, errOut, code := f.run(t, "--context", "c", "-o", "json")
	during := <-seen
	if want := "\r\x1b[Kvigil check: reading c (1s)\r\x1b[Kvigil check: reading c (2s)"; !strings.HasPrefix(during, want) {
		t.Fatalf("want c named from the first second on and redrawn a second later; the line's writes: %q", during)
	}
	got := progress.String()
	if !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("want the line erased before the report; the line's writes end %q", got[max(0, len(got)-80):])
	}
	if !strings.Contains(errOut, "Warning: policy/v1beta1 is deprecated\n") || !strings.Contains(got, "\r\x1b[K\r\x1b[Kvigil check: reading c") {
		t.Errorf("want the warning on stderr, the line erased for it and drawn again; stderr %q, the line's writes %q", errOut, got)
	}
	if code != ExitFindings || !json.Valid([]byte(out)) || strings.ContainsAny(out, "\r\x1b") || strings.Contains(errOut, "reading c") {
		t.Errorf("exit %d; the report must be clean JSON and stderr (not a terminal) without the line: stdout %d bytes, stderr %q", code, len(out), errOut)
	}

	var quick syncBuffer
	f.progress = &quick
	if _, _, code := f.run(t, "--context", "a", "-o", "json"); code != ExitFindings || quick.String() != "" {
		t.Errorf("a check answered within the second: exit %d, want no line at all; the line's writes: %q", code, quick.String())
	}
}

// TestFleetProgressLine: the contexts read longest first, at most three named and the rest
// counted, each name escaped and cut to 40 characters; a warning said while the line is up
// goes above it.
func TestFleetProgressLine(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	now := t0
	var b bytes.Buffer
	p := &fleetProgress{w: &b, total: 9, now: func() time.Time { return now }, reading: map[string]time.Time{}}
	for i, name := range []string{"staging", "prod\x1b]0;pwned\x07", strings.Repeat("x", 60), "dev", "qa"} {
		now = t0.Add(time.Duration(i) * time.Second)
		p.reading[name] = now
	}
	p.done = 4
	now = t0.Add(30 * time.Second)
	fmt.Fprint(p.above(&b), "warning: before the line\n")
	if b.String() != "warning: before the line\n" {
		t.Errorf("a warning before the line was ever drawn: want it alone, got %q", b.String())
	}
	p.draw()
	want := fmt.Sprintf("vigil check: 4 of 9 contexts done; reading staging (30s), prod\\x1b]0;pwned\\x07 (29s), %s… (28s), +2 more", strings.Repeat("x", 39))
	if got := p.line(); got != want {
		t.Errorf("line:\n got %q\nwant %q", got, want)
	}
	b.Reset() // the terminal: the line and the warning both land on it
	fmt.Fprint(p.above(&b), "warning: policy/v1beta1 is deprecated\n")
	if want := "\r\x1b[Kwarning: policy/v1beta1 is deprecated\n\r\x1b[K" + p.line(); b.String() != want {
		t.Errorf("a warning while the line is up: want the line erased, the warning, the line drawn again:\n got %q\nwant %q", b.String(), want)
	}
	p.stop, p.stopped = make(chan struct{}), make(chan struct{})
	close(p.stopped)
	p.close()
	b.Reset()
	fmt.Fprint(p.above(&b), "warning: late\n")
	if b.String() != "warning: late\n" {
		t.Errorf("a warning once the line is erased for good: want it alone, got %q", b.String())
	}
	var nilProgress *fleetProgress
	nilProgress.begin("a")
	nilProgress.end("a")
	nilProgress.close()
}

// TestCheckProgressFirstDrawIsATickIn: the single check's line is first drawn at the first
// tick and says at least one tick of reading ("(1s)" a second in), however the caller and the
// ticker's goroutine are scheduled. Here a tick is 5 ms and the clock runs 200 times fast, so
// a tick reads as a second, and the first reading of the clock is held 4 ms, as a caller
// descheduled on a loaded machine would be (CI once drew "(0s)" a second in).
func TestCheckProgressFirstDrawIsATickIn(t *testing.T) {
	for i := range 20 {
		real0 := time.Now()
		calls := 0
		now := func() time.Time {
			if calls++; calls == 1 {
				time.Sleep(4 * time.Millisecond)
			}
			return real0.Add(200 * time.Since(real0))
		}
		var line syncBuffer
		p := startCheckProgress(&line, "c", 5*time.Millisecond, now)
		for deadline := time.Now().Add(5 * time.Second); line.String() == "" && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		p.close()
		first, _, _ := strings.Cut(strings.TrimPrefix(line.String(), "\r\x1b[K"), "\r")
		if first == "" || strings.HasSuffix(first, "(0s)") {
			t.Fatalf("start %d: the first draw %q, want the reading at least a tick (a second here) old", i, first)
		}
	}
}

// TestFleetProgressRoundsSeconds: a context's time is rounded to the second, so 1 s ticks that
// fall a hair before each of its whole seconds read 1s, 2s, 3s rather than 0s, 1s, 2s.
func TestFleetProgressRoundsSeconds(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	now := t0
	p := &fleetProgress{total: 1, now: func() time.Time { return now }, reading: map[string]time.Time{"c": t0}}
	for elapsed, want := range map[time.Duration]string{
		0: "(0s)", 400 * time.Millisecond: "(0s)", 999 * time.Millisecond: "(1s)",
		1001 * time.Millisecond: "(1s)", 1999 * time.Millisecond: "(2s)", 2600 * time.Millisecond: "(3s)",
	} {
		now = t0.Add(elapsed)
		if got := p.line(); !strings.HasSuffix(got, "reading c "+want) {
			t.Errorf("after %v: %q, want it to end %q", elapsed, got, want)
		}
	}
}
