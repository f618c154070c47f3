package actionsui

import (
	"context"
	"errors"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/audit"
)

// EventMsg is a progress report of a running action; Next waits for the
// following one (nil after the last). Target names what it acts on, so the
// UI can show one spinner per target.
type EventMsg struct {
	// ActionID is the action's ID (rollback, secret-refresh …).
	ActionID string
	Event    actions.Event
	Title    string
	Target   actions.Target
	Next     tea.Cmd
}

// ConfirmMsg asks the operator to confirm a running action: the root
// pushes a Confirm modal, which answers on Reply. Next keeps listening.
type ConfirmMsg struct {
	Request actions.ConfirmRequest
	Reply   chan<- actions.Confirmation
	Next    tea.Cmd
}

// Pipeline is a Provider over the actions package for one kube context.
// It holds one actions.Pipeline, so its one-action-per-target lock spans
// every screen of the context.
type Pipeline struct {
	// Audit is the audit log every attempt is recorded in.
	Audit *audit.Log
	// Generation labels StatesMsg so the root drops a late one.
	Generation uint64
	// Timeout bounds the checks and preview of one attempt, then, from the confirmation on,
	// its change and verification (default 2 minutes each).
	Timeout time.Duration

	env  *actions.Env
	pl   *actions.Pipeline
	conf *router
}

var _ Provider = (*Pipeline)(nil)

// NewPipeline returns the provider of env's context, recording in log.
func NewPipeline(env *actions.Env, log *audit.Log, generation uint64) *Pipeline {
	r := &router{asks: map[string]chan ask{}}
	return &Pipeline{Audit: log, Generation: generation, env: env, conf: r,
		pl: &actions.Pipeline{Env: env, Audit: log, Confirmer: r}}
}

// Env implements Provider.
func (p *Pipeline) Env() *actions.Env { return p.env }

// States implements Provider.
func (p *Pipeline) States(key string, items []Item) tea.Cmd {
	items = append([]Item(nil), items...)
	ctxName, gen := p.env.Context, p.Generation
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		msg := StatesMsg{Context: ctxName, Generation: gen, Key: key}
		for _, it := range items {
			s := State{ID: it.ID, Title: it.Title, Dangerous: it.Dangerous, Disabled: it.Disabled, Target: it.Target}
			if s.Disabled == "" && it.Probe != nil {
				s.Disabled = it.Probe.Disabled(ctx, it.Target)
			}
			msg.States = append(msg.States, s)
		}
		return msg
	}
}

// Start implements Provider: it starts the attempt and returns its first
// message; the rest follow through EventMsg.Next and ConfirmMsg.Next.
func (p *Pipeline) Start(a *actions.Action, t actions.Target, title, reason string) tea.Cmd {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	pl, r, id, key := p.pl, p.conf, a.ID, t.ConfirmText(p.env.Context)+"#"+t.Kind
	return func() tea.Msg {
		// The timeout is the pipeline's (Request.Timeout): the time the operator spends on the
		// confirmation modal is not taken from the change's.
		ctx, cancel := context.WithCancel(context.Background())
		asks, own := r.open(key)
		events, err := pl.Start(ctx, a, t, actions.Request{Reason: reason, Timeout: timeout})
		if err != nil {
			if own {
				r.close(key)
			}
			cancel()
			return EventMsg{ActionID: id, Title: title, Target: t, Event: actions.Event{Done: true, Err: err}}
		}
		done := func() { r.close(key); cancel() }
		return wait(id, title, t, asks, events, done)()
	}
}

// wait returns the next event or confirmation request of an attempt.
func wait(id, title string, t actions.Target, asks <-chan ask, events <-chan actions.Event, done func()) tea.Cmd {
	return func() tea.Msg {
		select {
		case q := <-asks:
			return ConfirmMsg{Request: q.req, Reply: q.reply, Next: wait(id, title, t, asks, events, done)}
		case e, ok := <-events:
			if !ok || e.Done {
				done()
				return EventMsg{ActionID: id, Title: title, Target: t, Event: e}
			}
			return EventMsg{ActionID: id, Title: title, Target: t, Event: e, Next: wait(id, title, t, asks, events, done)}
		}
	}
}

type ask struct {
	req   actions.ConfirmRequest
	reply chan actions.Confirmation
}

// router is the shared pipeline's Confirmer: it hands a request to the
// attempt on the same target (the pipeline runs one per target), whose
// waiter turns it into a ConfirmMsg.
type router struct {
	mu   sync.Mutex
	asks map[string]chan ask
}

// open returns the ask channel of key; own is false when another attempt
// holds it (the pipeline will refuse this one as busy).
func (r *router) open(key string) (chan ask, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ch, ok := r.asks[key]; ok {
		return ch, false
	}
	ch := make(chan ask)
	r.asks[key] = ch
	return ch, true
}

func (r *router) close(key string) {
	r.mu.Lock()
	delete(r.asks, key)
	r.mu.Unlock()
}

// Confirm implements actions.Confirmer.
func (r *router) Confirm(ctx context.Context, req actions.ConfirmRequest) (actions.Confirmation, error) {
	r.mu.Lock()
	ch := r.asks[req.Expect+"#"+req.Target.Kind]
	r.mu.Unlock()
	if ch == nil {
		return actions.Confirmation{}, errors.New("no confirmation modal for " + req.Expect)
	}
	reply := make(chan actions.Confirmation, 1)
	select {
	case ch <- ask{req: req, reply: reply}:
	case <-ctx.Done():
		return actions.Confirmation{}, ctx.Err()
	}
	select {
	case a := <-reply:
		return a, nil
	case <-ctx.Done():
		return actions.Confirmation{}, ctx.Err()
	}
}
