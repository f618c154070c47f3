package actionsui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/actions/spec"
)

// ProgressMsg is a progress report of a running action; Next waits for the
// following one (nil after the last). Object names what it acts on, so the
// UI can show one spinner per object.
type ProgressMsg struct {
	// ActionID is the action's ID (rollback, secret-refresh …).
	ActionID string
	Progress spec.Progress
	Title    string
	Object   spec.Object
	Next     tea.Cmd
}

// ConfirmMsg asks the operator to confirm a running action: the root
// pushes a Confirm modal, which answers on Reply. Next keeps listening.
type ConfirmMsg struct {
	Request spec.ConfirmRequest
	Reply   chan<- spec.Confirmation
	Next    tea.Cmd
}

// Pipeline is the Provider over one kube context's spec.Runner, whose one
// guard pipeline (and its one-action-per-object lock) spans every screen of
// the context.
type Pipeline struct {
	// Generation labels StatesMsg so the root drops a late one.
	Generation uint64
	// Timeout bounds the checks and preview of one attempt, then, from the confirmation on,
	// its change and verification (default 2 minutes each).
	Timeout time.Duration

	runner spec.Runner
}

var _ Provider = (*Pipeline)(nil)

// NewPipeline returns the provider over r, the runner of one context.
func NewPipeline(r spec.Runner, generation uint64) *Pipeline {
	return &Pipeline{Generation: generation, runner: r}
}

// States implements Provider.
func (p *Pipeline) States(key string, items []Item) tea.Cmd {
	items = append([]Item(nil), items...)
	r, gen := p.runner, p.Generation
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		msg := StatesMsg{Context: r.Context(), Generation: gen, Key: key}
		for _, it := range items {
			s := State{ID: it.ID, Title: it.Title, Dangerous: it.Dangerous, Disabled: it.Disabled, Object: it.Object}
			if s.Disabled == "" && it.Action != nil {
				s.Disabled = r.Disabled(ctx, it.Action, it.Object)
			}
			msg.States = append(msg.States, s)
		}
		return msg
	}
}

// Start implements Provider: it starts the attempt and returns its first
// message; the rest follow through ProgressMsg.Next and ConfirmMsg.Next.
func (p *Pipeline) Start(params spec.Params, o spec.Object, title, reason string) tea.Cmd {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	r, id := p.runner, params.About().ID
	return func() tea.Msg {
		// The timeout is the pipeline's (Request.Timeout): the time the operator spends on the
		// confirmation modal is not taken from the change's.
		ctx, cancel := context.WithCancel(context.Background())
		asks := make(chan ask)
		progress, err := r.Start(ctx, params, o, spec.Request{Reason: reason, Timeout: timeout, Confirmer: modal(asks)})
		if err != nil {
			cancel()
			return ProgressMsg{ActionID: id, Title: title, Object: o, Progress: spec.Progress{Done: true, Err: err}}
		}
		return wait(id, title, o, asks, progress, cancel)()
	}
}

// wait returns the next progress report or confirmation request of an attempt.
func wait(id, title string, o spec.Object, asks <-chan ask, progress <-chan spec.Progress, done func()) tea.Cmd {
	return func() tea.Msg {
		select {
		case q := <-asks:
			return ConfirmMsg{Request: q.req, Reply: q.reply, Next: wait(id, title, o, asks, progress, done)}
		case e, ok := <-progress:
			if !ok || e.Done {
				done()
				return ProgressMsg{ActionID: id, Title: title, Object: o, Progress: e}
			}
			return ProgressMsg{ActionID: id, Title: title, Object: o, Progress: e, Next: wait(id, title, o, asks, progress, done)}
		}
	}
}

type ask struct {
	req   spec.ConfirmRequest
	reply chan spec.Confirmation
}

// modal is one attempt's Confirmer: it hands the request to the attempt's
// waiter, which turns it into a ConfirmMsg, and waits for the modal's answer.
type modal chan ask

// Confirm implements spec.Confirmer.
func (m modal) Confirm(ctx context.Context, req spec.ConfirmRequest) (spec.Confirmation, error) {
	reply := make(chan spec.Confirmation, 1)
	select {
	case m <- ask{req: req, reply: reply}:
	case <-ctx.Done():
		return spec.Confirmation{}, ctx.Err()
	}
	select {
	case a := <-reply:
		return a, nil
	case <-ctx.Done():
		return spec.Confirmation{}, ctx.Err()
	}
}
