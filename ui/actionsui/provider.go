package actionsui

import (
	"context"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/cluster"
)

// EventMsg is a progress report of a running action; Next waits for the
// following one (nil after the last).
type EventMsg struct {
	Event actions.Event
	Title string
	Next  tea.Cmd
}

// ConfirmMsg asks the operator to confirm a running action: the root
// pushes a Confirm modal, which answers on Reply. Next keeps listening.
type ConfirmMsg struct {
	Request actions.ConfirmRequest
	Reply   chan<- actions.Confirmation
	Next    tea.Cmd
}

// Pipeline is a Provider over the actions package for one kube context.
type Pipeline struct {
	// Env is the context's actions environment.
	Env *actions.Env
	// Audit is the audit log every attempt is recorded in.
	Audit *audit.Log
	// Generation labels StatesMsg so the root drops a late one.
	Generation uint64
	// Timeout bounds one attempt (default 2 minutes).
	Timeout time.Duration
}

var _ Provider = (*Pipeline)(nil)

// build returns the actions offered for svc.
func (p *Pipeline) build(svc cluster.Service) []offer {
	t := actions.Target{Kind: svc.Kind, Namespace: svc.Namespace, Name: svc.Name}
	env := p.Env
	out := []offer{
		{actions.Restart(env), t},
		{actions.Rollback(env, actions.RollbackParams{}), t},
		{actions.Scale(env, actions.ScaleParams{Replicas: svc.Desired + 1}), t},
	}
	if svc.Desired > 0 {
		out = append(out, offer{actions.Scale(env, actions.ScaleParams{Replicas: svc.Desired - 1}), t})
	}
	if svc.Argo.Name != "" {
		at := actions.Target{Kind: "Application", Namespace: svc.Argo.Namespace, Name: svc.Argo.Name}
		out = append(out, offer{actions.ArgoSync(env, actions.ArgoSyncParams{}), at})
	}
	return out
}

type offer struct {
	a *actions.Action
	t actions.Target
}

func title(o offer) string {
	if o.a.ID == "scale" {
		return o.a.Title + " (" + o.a.Params + ")"
	}
	return o.a.Title
}

// States implements Provider.
func (p *Pipeline) States(svc cluster.Service) tea.Cmd {
	offers := p.build(svc)
	ctxName, gen, key := p.Env.Context, p.Generation, svc.Key()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		msg := StatesMsg{Context: ctxName, Generation: gen, Key: key}
		for _, o := range offers {
			msg.States = append(msg.States, State{ID: o.a.ID + ":" + o.a.Params + ":" + o.t.Kind, Title: title(o),
				Dangerous: o.a.Dangerous, Disabled: o.a.Disabled(ctx, o.t), Target: o.t})
		}
		return msg
	}
}

// Run implements Provider: it starts the attempt and returns its first
// message; the rest follow through EventMsg.Next and ConfirmMsg.Next.
func (p *Pipeline) Run(svc cluster.Service, id string) tea.Cmd {
	var chosen *offer
	for _, o := range p.build(svc) {
		if o.a.ID+":"+o.a.Params+":"+o.t.Kind == id {
			chosen = &o
			break
		}
	}
	if chosen == nil {
		return func() tea.Msg {
			return EventMsg{Event: actions.Event{Done: true, Err: fmt.Errorf("unknown action %q", id)}}
		}
	}
	asks := make(chan ask)
	pl := &actions.Pipeline{Env: p.Env, Audit: p.Audit, Confirmer: uiConfirmer{asks: asks}}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	a, t, name := chosen.a, chosen.t, title(*chosen)
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		events, err := pl.Start(ctx, a, t, actions.Request{})
		if err != nil {
			cancel()
			return EventMsg{Title: name, Event: actions.Event{Done: true, Err: err}}
		}
		return wait(name, asks, events, cancel)()
	}
}

// wait returns the next event or confirmation request of an attempt.
func wait(name string, asks <-chan ask, events <-chan actions.Event, cancel func()) tea.Cmd {
	return func() tea.Msg {
		select {
		case q := <-asks:
			return ConfirmMsg{Request: q.req, Reply: q.reply, Next: wait(name, asks, events, cancel)}
		case e, ok := <-events:
			if !ok || e.Done {
				cancel()
				return EventMsg{Title: name, Event: e}
			}
			return EventMsg{Title: name, Event: e, Next: wait(name, asks, events, cancel)}
		}
	}
}

type ask struct {
	req   actions.ConfirmRequest
	reply chan actions.Confirmation
}

// uiConfirmer hands the request to the UI and waits for the modal's answer.
type uiConfirmer struct{ asks chan<- ask }

// Confirm implements actions.Confirmer.
func (c uiConfirmer) Confirm(ctx context.Context, req actions.ConfirmRequest) (actions.Confirmation, error) {
	reply := make(chan actions.Confirmation, 1)
	select {
	case c.asks <- ask{req: req, reply: reply}:
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
