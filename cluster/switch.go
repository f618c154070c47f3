package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-k8s/vigil/estate"
)

// ErrSuperseded is the error of a switch a later one replaced before it
// landed: the later switch decides what is shown.
var ErrSuperseded = errors.New("superseded by a later switch")

// errStopping ends a switch in flight when the Manager stops.
var errStopping = errors.New("vigil is stopping")

// SwitchError says why a switch to a context did not land and at which
// step; the session shown before it is still live.
type SwitchError struct {
	// Context and Server name where the switch went.
	Context, Server string
	// Step is what failed: "kubeconfig", "client", "reach", "start" or
	// "first sync".
	Step string
	// Err is the cause (a context error when the step ran out of time or
	// was superseded).
	Err error
}

func (e *SwitchError) Error() string {
	switch {
	case errors.Is(e.Err, ErrSuperseded):
		return fmt.Sprintf("switch to %s %s", e.Context, ErrSuperseded)
	case e.Step == "kubeconfig":
		return e.Err.Error()
	case e.Step == "client":
		return fmt.Sprintf("context %s: %s", e.Context, e.Err)
	case e.Step == "reach":
		return fmt.Sprintf("cannot reach %s (context %s): %s", e.Server, e.Context, Explain(e.Err))
	}
	return fmt.Sprintf("context %s: %s: %s", e.Context, e.Step, Explain(e.Err))
}

func (e *SwitchError) Unwrap() error { return e.Err }

// live is what a Manager needs of a session: *Session is the one; the
// state machine's unit tests fake it.
type live interface {
	Context() string
	// Start starts it; its informers and loops run until ctx ends or Stop.
	Start(ctx context.Context) error
	// Ready waits for its first sync and says whether it can be shown.
	Ready(ctx context.Context) error
	Subscribe() (<-chan estate.Snapshot, func())
	Latest() (estate.Snapshot, bool)
	Stop()
}

// builder makes the session of a resolved context with generation gen and
// checks, within ctx, that its API server answers.
type builder func(ctx context.Context, t Connection, gen uint64) (live, error)

// inflight is the switch that runs, for a later one to cancel.
type inflight struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// Switch makes context name ("" = the kubeconfig's or --context's) the one
// shown. It is a state machine with one switch at a time: a later Switch
// cancels the one in flight (which returns ErrSuperseded and leaves nothing
// running). Each step runs within ctx and a deadline of its own: resolve the
// REST config with cli-runtime overrides (the kubeconfig is never
// rewritten), build the new session's clients, reach its API server
// (ManagerOptions.ConnectTimeout), start it and wait for its first sync.
// Only then is it swapped in, with a new generation, and the old session
// stopped (its informers and pollers end; the Manager's subscriptions go
// on with the new one's snapshots). On any failure the new session is
// stopped and the old one stays live; the error (a *SwitchError) says why.
func (m *Manager) Switch(ctx context.Context, name string) (Connection, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	me := &inflight{cancel: cancel, done: make(chan struct{})}
	defer close(me.done)
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return Connection{}, errors.New("cluster: Manager stopped")
	}
	prev := m.running
	m.running = me
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		if m.running == me {
			m.running = nil
		}
		m.mu.Unlock()
	}()
	if prev != nil {
		// One switch at a time: the earlier one gives way and cleans up
		// (stops its half-built session) before this one builds. Every
		// step of it honours its context, so this wait is short; it is
		// not cut short even when this switch is superseded in turn, so
		// that no two switches ever build at once.
		prev.cancel(ErrSuperseded)
		<-prev.done
	}
	if ctx.Err() != nil {
		return Connection{}, &SwitchError{Context: name, Step: "queue", Err: cause(ctx)}
	}
	t, err := m.resolve(name)
	if err != nil {
		return Connection{}, &SwitchError{Context: name, Step: "kubeconfig", Err: err}
	}
	next, gen, err := m.startSession(ctx, t)
	if err != nil {
		return Connection{}, err
	}
	old, committed := m.commit(ctx, next, t, gen)
	if !committed {
		next.stop()
		return Connection{}, &SwitchError{Context: t.Context, Server: t.Server, Step: "first sync", Err: cause(ctx)}
	}
	if old != nil {
		old.stop()
	}
	m.log.Info("switched context", "context", t.Context, "generation", gen, "server", t.Server)
	return t, nil
}

// shown is a session with what the Manager runs around it.
type shown struct {
	sess    live
	cancel  context.CancelFunc
	fwdDone chan struct{} // closed when its forwarder ended; nil before commit
	unsub   func()
}

// stop ends the session and waits for its forwarder.
func (s *shown) stop() {
	s.cancel()
	s.sess.Stop()
	if s.fwdDone != nil {
		<-s.fwdDone
	} else if s.unsub != nil {
		s.unsub()
	}
}

// startSession builds, reaches, starts and first-syncs the session of t,
// each step within ctx; on failure nothing of it is left running.
func (m *Manager) startSession(ctx context.Context, t Connection) (*shown, uint64, error) {
	m.mu.Lock()
	m.lastGen++
	gen := m.lastGen
	m.mu.Unlock()
	fail := func(step string, err error) (*shown, uint64, error) {
		if ctx.Err() != nil {
			err = cause(ctx)
		}
		return nil, 0, &SwitchError{Context: t.Context, Server: t.Server, Step: step, Err: err}
	}
	sess, err := m.build(ctx, t, gen)
	if err != nil {
		var se *SwitchError
		if errors.As(err, &se) {
			return fail(se.Step, se.Err)
		}
		return fail("client", err)
	}
	// The session lives past this call, so its context is not ctx; but
	// while the switch runs, ctx ending (a later switch, the deadline)
	// ends its start-up requests too.
	sctx, scancel := context.WithCancel(context.Background())
	next := &shown{sess: sess, cancel: scancel}
	unbind := context.AfterFunc(ctx, scancel)
	defer unbind()
	if err := sess.Start(sctx); err != nil {
		next.stop()
		return fail("start", err)
	}
	if err := sess.Ready(ctx); err != nil {
		next.stop()
		return fail("first sync", err)
	}
	return next, gen, nil
}

// commit swaps next in as the session shown, unless ctx ended (a later
// switch superseded this one, the deadline passed) or the Manager stopped:
// the check and the swap are one step under m.mu, so a superseded switch
// never lands. It returns the session to stop.
func (m *Manager) commit(ctx context.Context, next *shown, t Connection, gen uint64) (old *shown, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ctx.Err() != nil || m.stopped {
		return nil, false
	}
	old = m.cur
	ch, unsub := next.sess.Subscribe()
	next.unsub = unsub
	next.fwdDone = make(chan struct{})
	go m.forward(ch, next.fwdDone)
	m.cur, m.target, m.gen = next, t, gen
	return old, true
}

// cause is why ctx ended: ErrSuperseded, or the context's own error.
func cause(ctx context.Context) error {
	if c := context.Cause(ctx); c != nil {
		return c
	}
	return ctx.Err()
}

// buildSession is the Manager's builder: a Session of t with the context's
// settings and client wrappers, whose API server answered within
// ConnectTimeout.
func (m *Manager) buildSession(ctx context.Context, t Connection, gen uint64) (live, error) {
	settings := m.opts.Config.For(t.Context)
	wrapConfig, wrapClient := m.wrapsFor(t.Context)
	o := Options{RESTConfig: t.RESTConfig, Context: t.Context, Generation: gen, Settings: settings,
		Namespaces: m.opts.Namespaces, WrapConfig: wrapConfig, WrapClient: wrapClient, Logger: m.log}
	if m.opts.Tune != nil {
		m.opts.Tune(&o)
	}
	sess, err := New(o)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, m.opts.ConnectTimeout)
	defer cancel()
	if _, err := sess.Ping(pctx); err != nil {
		if ctx.Err() == nil && pctx.Err() != nil {
			err = fmt.Errorf("no answer within %s", m.opts.ConnectTimeout)
		}
		return nil, &SwitchError{Step: "reach", Err: err}
	}
	return sess, nil
}

// DefaultConnectTimeout bounds the first contact with a context's API
// server in a switch.
const DefaultConnectTimeout = 10 * time.Second
