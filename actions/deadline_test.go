package actions

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
)

// slowConfirmer answers like PresetConfirmer, after a person's pause.
type slowConfirmer struct {
	pause  time.Duration
	answer string
}

func (c slowConfirmer) Confirm(ctx context.Context, req spec.ConfirmRequest) (spec.Confirmation, error) {
	select {
	case <-time.After(c.pause):
	case <-ctx.Done():
		return spec.Confirmation{}, ctx.Err()
	}
	return PresetConfirmer{Answer: c.answer}.Confirm(ctx, req)
}

// deadlineAction is a test action whose execute reports whether its context was alive and,
// when hang is set, waits for its deadline as a request the server never answers would.
func deadlineAction(env *Env, alive *bool, hang bool) *Action {
	return &Action{ID: "test", Title: "Test", Dangerous: true, Permission: &Permission{Verb: "patch", Group: "apps"}, env: env,
		steps: steps{
			precheck: func(context.Context, spec.Object) (string, error) { return "", nil },
			preview: func(context.Context, spec.Object) (previewed, error) {
				return previewed{Preview: spec.Preview{Summary: "do the thing", DryRun: "server dry-run: ok"}}, nil
			},
			execute: func(ctx context.Context, _ execToken, _ spec.Object, _ func(string)) (executed, error) {
				*alive = ctx.Err() == nil
				if hang {
					<-ctx.Done()
					return executed{}, ctx.Err()
				}
				return executed{Result: spec.Result{Message: "done"}}, nil
			},
		}}
}

// TestConfirmationTimeIsNotPartOfTheDeadline: an operator who takes longer to say yes than
// the whole timeout still gets a full timeout for execute, and the record says succeeded.
func TestConfirmationTimeIsNotPartOfTheDeadline(t *testing.T) {
	env, _ := fakeEnv(t, allowAll)
	p, path := newPipeline(t, env, slowConfirmer{pause: 2500 * time.Millisecond, answer: "y"})
	var alive bool
	_, err := p.Execute(context.Background(), deadlineAction(env, &alive, false), stagingTarget, spec.Request{Timeout: 2 * time.Second})
	if err != nil || !alive {
		t.Fatalf("a late yes: err %v, execute's context alive %v; want it alive and the action done", err, alive)
	}
	recs, _ := audit.ReadFile(path)
	if last := recs[len(recs)-1]; last.Phase != audit.PhaseFinished || last.Result != "succeeded" {
		t.Fatalf("last record %+v, want finished succeeded", last)
	}
}

// TestTimeoutAfterSendingIsUnknown: when execute runs out of time the change may have
// landed; the finished record says unknown, not failed.
func TestTimeoutAfterSendingIsUnknown(t *testing.T) {
	env, _ := fakeEnv(t, allowAll)
	p, path := newPipeline(t, env, PresetConfirmer{Answer: "y"})
	var alive bool
	_, err := p.Execute(context.Background(), deadlineAction(env, &alive, true), stagingTarget, spec.Request{Timeout: 50 * time.Millisecond})
	if err == nil {
		t.Fatal("a timed-out execute reported success")
	}
	recs, _ := audit.ReadFile(path)
	if last := recs[len(recs)-1]; last.Phase != audit.PhaseFinished || last.Result != ResultUnknown || last.Stage != string(spec.StageExecute) {
		t.Fatalf("last record %+v, want finished with result unknown at execute", last)
	}
}
