package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/estate"
)

// fakeLive is a session of the switch state machine's unit tests: its
// Ready answers what its context's script says, and every step is logged.
type fakeLive struct {
	name  string
	gen   uint64
	world *fakeWorld
	ready func(ctx context.Context) error

	mu      sync.Mutex
	started bool
	stopped bool
	subs    []chan estate.Snapshot
}

func (f *fakeLive) Context() string { return f.name }

func (f *fakeLive) Start(context.Context) error {
	f.mu.Lock()
	f.started = true
	f.mu.Unlock()
	f.world.record("start " + f.name)
	return nil
}

func (f *fakeLive) Ready(ctx context.Context) error {
	err := f.ready(ctx)
	f.world.record(fmt.Sprintf("ready %s: %v", f.name, err))
	return err
}

func (f *fakeLive) Subscribe() (<-chan estate.Snapshot, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan estate.Snapshot, 1)
	if f.stopped {
		close(ch)
		return ch, func() {}
	}
	f.subs = append(f.subs, ch)
	ch <- estate.Snapshot{Context: f.name, Generation: f.gen, Seq: 1}
	return ch, func() {}
}

// publish sends a snapshot to the subscribers, as a live session's loop does.
func (f *fakeLive) publish(seq uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.subs {
		select {
		case <-ch:
		default:
		}
		ch <- estate.Snapshot{Context: f.name, Generation: f.gen, Seq: seq}
	}
}

func (f *fakeLive) Latest() (estate.Snapshot, bool) {
	return estate.Snapshot{Context: f.name, Generation: f.gen, Seq: 1}, true
}

func (f *fakeLive) Stop() {
	f.mu.Lock()
	if !f.stopped {
		f.stopped = true
		for _, ch := range f.subs {
			close(ch)
		}
		f.subs = nil
	}
	f.mu.Unlock()
	f.world.record("stop " + f.name)
}

func (f *fakeLive) live() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.started && !f.stopped
}

// fakeWorld builds fake sessions: script says how a context's Ready
// answers (default: at once, nil) and buildErr which contexts cannot be
// built at all.
type fakeWorld struct {
	mu       sync.Mutex
	events   []string
	sessions []*fakeLive
	script   map[string]func(ctx context.Context) error
	buildErr map[string]error
	built    chan string // each context built, when not nil
}

func (w *fakeWorld) record(e string) {
	w.mu.Lock()
	w.events = append(w.events, e)
	w.mu.Unlock()
}

func (w *fakeWorld) log() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.events)
}

// alive names the sessions started and not stopped.
func (w *fakeWorld) alive() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, s := range w.sessions {
		if s.live() {
			out = append(out, s.name)
		}
	}
	return out
}

func (w *fakeWorld) session(name string) *fakeLive {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.sessions) - 1; i >= 0; i-- {
		if w.sessions[i].name == name {
			return w.sessions[i]
		}
	}
	return nil
}

func (w *fakeWorld) manager(t *testing.T) *Manager {
	t.Helper()
	m := &Manager{opts: ManagerOptions{ConnectTimeout: time.Second}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		subs: map[chan estate.Snapshot]struct{}{}}
	m.resolve = func(name string) (Connection, error) {
		if name == "missing" {
			return Connection{}, errors.New(`context "missing" not found in kubeconfig`)
		}
		return Connection{Context: name, Server: "https://" + name + ":6443"}, nil
	}
	m.build = func(ctx context.Context, t Connection, gen uint64) (live, error) {
		w.record("build " + t.Context)
		w.mu.Lock()
		err := w.buildErr[t.Context]
		ready := w.script[t.Context]
		w.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if ready == nil {
			ready = func(context.Context) error { return nil }
		}
		f := &fakeLive{name: t.Context, gen: gen, world: w, ready: ready}
		w.mu.Lock()
		w.sessions = append(w.sessions, f)
		w.mu.Unlock()
		if w.built != nil {
			w.built <- t.Context
		}
		return f, nil
	}
	t.Cleanup(m.Stop)
	return m
}

// untilCancelled is a Ready that never syncs: it ends with its context.
func untilCancelled(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// next reads the subscription until a snapshot of context arrives.
func next(t *testing.T, ch <-chan estate.Snapshot, context string) estate.Snapshot {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case s, ok := <-ch:
			if !ok {
				t.Fatalf("subscription closed waiting for %s", context)
			}
			if s.Context == context {
				return s
			}
		case <-deadline:
			t.Fatalf("no snapshot of %s", context)
		}
	}
}

// TestSwitchStartsNewBeforeStoppingOld: the new session is built, started
// and first-synced before the old one is stopped, and gets a new generation.
func TestSwitchStartsNewBeforeStoppingOld(t *testing.T) {
	w := &fakeWorld{}
	m := w.manager(t)
	ch, _ := m.Subscribe()
	if _, err := m.Switch(context.Background(), "local-1"); err != nil {
		t.Fatal(err)
	}
	next(t, ch, "local-1")
	if _, err := m.Switch(context.Background(), "local-2"); err != nil {
		t.Fatal(err)
	}
	want := []string{"build local-1", "start local-1", "ready local-1: <nil>",
		"build local-2", "start local-2", "ready local-2: <nil>", "stop local-1"}
	if got := w.log(); !slices.Equal(got, want) {
		t.Errorf("steps:\n got %q\nwant %q", got, want)
	}
	if name, gen := m.Current(); name != "local-2" || gen != 2 {
		t.Errorf("Current() = %s %d, want local-2 2", name, gen)
	}
	if s := next(t, ch, "local-2"); s.Generation != 2 {
		t.Errorf("local-2 snapshot generation %d, want 2", s.Generation)
	}
	if got := w.alive(); !slices.Equal(got, []string{"local-2"}) {
		t.Errorf("alive %v, want local-2 alone", got)
	}
}

// TestSwitchFailureKeepsOldLive: whatever step fails — the kubeconfig, the
// clients (a CA file that is not PEM), the first sync (a server that
// refuses) — the old session is not stopped, still feeds the
// subscription, and the error says why.
func TestSwitchFailureKeepsOldLive(t *testing.T) {
	w := &fakeWorld{
		buildErr: map[string]error{"bad-ca": errors.New("unable to load root certificates: unable to parse bytes as PEM block")},
		script:   map[string]func(context.Context) error{"refused": func(context.Context) error { return errors.New("connection refused") }},
	}
	m := w.manager(t)
	ch, _ := m.Subscribe()
	if _, err := m.Switch(context.Background(), "local-1"); err != nil {
		t.Fatal(err)
	}
	next(t, ch, "local-1")
	for name, want := range map[string]string{
		"missing": `context "missing" not found`,
		"bad-ca":  "context bad-ca: unable to load root certificates: unable to parse bytes as PEM block",
		"refused": "context refused: first sync: connection refused",
	} {
		_, err := m.Switch(context.Background(), name)
		var se *SwitchError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), want) {
			t.Errorf("Switch(%s) = %v, want a SwitchError saying %q", name, err, want)
		}
		if got, gen := m.Current(); got != "local-1" || gen != 1 {
			t.Errorf("after Switch(%s): Current() = %s %d, want local-1 1", name, got, gen)
		}
	}
	if got := w.alive(); !slices.Equal(got, []string{"local-1"}) {
		t.Errorf("alive %v, want local-1 alone", got)
	}
	if f := w.session("refused"); f == nil || f.live() {
		t.Error("the refused context's session was not built, or not stopped")
	}
	w.session("local-1").publish(7)
	if s := next(t, ch, "local-1"); s.Seq != 7 {
		t.Errorf("the old session's snapshots stopped flowing (seq %d)", s.Seq)
	}
}

// TestSwitchHonoursItsContext: a first sync that never comes ends with the
// caller's deadline, the half-built session is stopped and the old one
// stays.
func TestSwitchHonoursItsContext(t *testing.T) {
	w := &fakeWorld{script: map[string]func(context.Context) error{"slow": untilCancelled}}
	m := w.manager(t)
	if _, err := m.Switch(context.Background(), "local-1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := m.Switch(ctx, "slow")
	if took := time.Since(start); took > time.Second {
		t.Errorf("Switch took %s past its 100ms deadline", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("Switch = %v, want a timeout", err)
	}
	if got := w.alive(); !slices.Equal(got, []string{"local-1"}) {
		t.Errorf("alive %v, want local-1 alone", got)
	}
}

// TestNewSwitchCancelsTheOneInFlight: a :ctx while another switch waits
// for its first sync cancels it; the first returns ErrSuperseded without
// landing, its session is stopped before the next one is built, and one
// session is left alive: the last asked for.
func TestNewSwitchCancelsTheOneInFlight(t *testing.T) {
	w := &fakeWorld{script: map[string]func(context.Context) error{"hung": untilCancelled}, built: make(chan string, 8)}
	m := w.manager(t)
	if _, err := m.Switch(context.Background(), "local-1"); err != nil {
		t.Fatal(err)
	}
	<-w.built
	first := make(chan error, 1)
	go func() {
		_, err := m.Switch(context.Background(), "hung")
		first <- err
	}()
	if got := <-w.built; got != "hung" {
		t.Fatalf("built %s, want hung", got)
	}
	if _, err := m.Switch(context.Background(), "local-2"); err != nil {
		t.Fatalf("second switch: %v", err)
	}
	if err := <-first; !errors.Is(err, ErrSuperseded) {
		t.Errorf("first switch = %v, want ErrSuperseded", err)
	}
	log := w.log()
	if i, j := slices.Index(log, "stop hung"), slices.Index(log, "build local-2"); i < 0 || j < i {
		t.Errorf("the superseded session was not stopped before the next was built: %q", log)
	}
	if name, _ := m.Current(); name != "local-2" {
		t.Errorf("Current() = %s, want local-2", name)
	}
	if got := w.alive(); !slices.Equal(got, []string{"local-2"}) {
		t.Errorf("alive %v, want local-2 alone", got)
	}
}

// TestSwitchStormLeavesOneSession: many switches at once, each cancelling
// the one before; at the end exactly one session is alive and it is the
// one the Manager shows.
func TestSwitchStormLeavesOneSession(t *testing.T) {
	w := &fakeWorld{script: map[string]func(context.Context) error{}}
	for i := range 10 {
		d := time.Duration(i%3) * 5 * time.Millisecond
		w.script[fmt.Sprint("c", i)] = func(ctx context.Context) error {
			select {
			case <-time.After(d):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	m := w.manager(t)
	ch, _ := m.Subscribe()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { _, _ = m.Switch(context.Background(), fmt.Sprint("c", i)) })
	}
	wg.Wait()
	name, gen := m.Current()
	if got := w.alive(); len(got) != 1 || got[0] != name {
		t.Fatalf("alive %v, Current() %s: want that one alone", got, name)
	}
	if s := next(t, ch, name); s.Generation != gen {
		t.Errorf("subscription has generation %d of %s, want %d", s.Generation, name, gen)
	}
	m.Stop()
	if got := w.alive(); len(got) != 0 {
		t.Errorf("alive after Stop: %v", got)
	}
}

// TestStopCancelsASwitchInFlight: Stop does not wait out a hung switch and
// leaves nothing alive.
func TestStopCancelsASwitchInFlight(t *testing.T) {
	w := &fakeWorld{script: map[string]func(context.Context) error{"hung": untilCancelled}, built: make(chan string, 8)}
	m := w.manager(t)
	done := make(chan error, 1)
	go func() {
		_, err := m.Switch(context.Background(), "hung")
		done <- err
	}()
	<-w.built
	stopped := make(chan struct{})
	go func() { m.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop waited for a hung switch")
	}
	if err := <-done; err == nil {
		t.Error("the switch landed after Stop")
	}
	if got := w.alive(); len(got) != 0 {
		t.Errorf("alive after Stop: %v", got)
	}
}
