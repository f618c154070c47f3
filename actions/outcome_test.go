package actions

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
)

// requester is the recorder's action made to only request an operation another controller
// runs: its outcome step waits for result (or the deadline).
func requester(r *recorder, env *Env, result <-chan operationResult) *Action {
	a := r.action(env)
	a.steps.outcome = func(ctx context.Context, _ spec.Object, _ executed, progress func(string)) (operationResult, error) {
		progress("Running")
		select {
		case res := <-result:
			return res, nil
		case <-ctx.Done():
			return operationResult{}, ctx.Err()
		}
	}
	return a
}

// An action that only requests an operation is recorded as requested, then, in an outcome
// record of the same attempt, as the operation's result; while it waits the target is free.
func TestRequestedOperationIsRecordedThenItsResult(t *testing.T) {
	for _, tc := range []struct {
		name    string
		result  *operationResult // nil: none comes
		want    string
		wantErr bool
	}{
		{"succeeded", &operationResult{Message: "Argo CD operation Succeeded: successfully synced"}, "succeeded", false},
		{"failed", &operationResult{Failed: true, Message: "Argo CD operation Failed: one or more objects failed to apply"}, "failed", true},
		{"no result in time", nil, ResultUnknown, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := fakeEnv(t, allowAll)
			p, path := newPipeline(t, env, PresetConfirmer{Answer: "y"})
			p.OperationWait = 300 * time.Millisecond
			result := make(chan operationResult, 1)
			r := &recorder{logPath: path}
			ch, err := p.Start(context.Background(), requester(r, env, result), stagingTarget, spec.Request{Reason: "CHG-1"})
			if err != nil {
				t.Fatal(err)
			}
			var stages []spec.Stage
			for e := range ch {
				stages = append(stages, e.Stage)
				if e.Stage == spec.StageOperation {
					break
				}
			}
			// Waiting: the request is recorded, the result not yet, and the target is free.
			recs, _ := audit.ReadFile(path)
			if len(recs) != 2 || recs[1].Phase != audit.PhaseFinished || recs[1].Result != ResultRequested {
				t.Fatalf("while waiting: records %+v, want started and finished 'requested'", recs)
			}
			if _, err := p.Execute(context.Background(), (&recorder{logPath: path}).action(env), stagingTarget, spec.Request{}); err != nil {
				t.Errorf("another action on the target while the operation runs: %v", err)
			}
			if tc.result != nil {
				result <- *tc.result
			}
			var last spec.Progress
			for e := range ch {
				stages = append(stages, e.Stage)
				last = e
			}
			if !last.Done || (last.Err != nil) != tc.wantErr {
				t.Errorf("last event %+v, want an error: %v", last, tc.wantErr)
			}
			if want := []spec.Stage{spec.StageVerify, spec.StageOperation}; !slices.Equal(stages[len(stages)-4:len(stages)-2], want) {
				t.Errorf("stages %v: the operation after verify", stages)
			}
			recs, _ = audit.ReadFile(path)
			o := recs[len(recs)-1]
			if len(recs) != 5 || o.Phase != audit.PhaseOutcome || o.Result != tc.want || o.Attempt != recs[1].Attempt || o.Reason != "CHG-1" {
				t.Fatalf("records %+v, want the outcome %q of the first attempt last", recs, tc.want)
			}
			switch {
			case tc.result != nil && (o.Answer != tc.result.Message || last.Outcome.Result.Operation != tc.result.Message):
				t.Errorf("outcome answer %q, Result.Operation %q, want %q", o.Answer, last.Outcome.Result.Operation, tc.result.Message)
			case tc.result == nil && (!strings.Contains(o.Error, context.DeadlineExceeded.Error()) || !strings.HasPrefix(last.Outcome.Result.Operation, "unknown: ")):
				t.Errorf("no result: record %+v, Result.Operation %q", o, last.Outcome.Result.Operation)
			}
			if tc.wantErr && !strings.Contains(last.Err.Error(), tc.result.Message) {
				t.Errorf("error %v does not carry the operation's message", last.Err)
			}
			if rep, _ := audit.VerifyFile(path); !rep.OK() {
				t.Fatal(rep.Broken)
			}
		})
	}
	// An action that requests nothing is recorded as succeeded, with one finished record.
	env, _ := fakeEnv(t, allowAll)
	p, path := newPipeline(t, env, PresetConfirmer{Answer: "y"})
	if _, err := p.Execute(context.Background(), (&recorder{logPath: path}).action(env), stagingTarget, spec.Request{}); err != nil {
		t.Fatal(err)
	}
	if recs, _ := audit.ReadFile(path); len(recs) != 2 || recs[1].Result != "succeeded" {
		t.Errorf("records %+v", recs)
	}
}

// TestArgoWaitSaysItIsStillWaiting: an operation Argo CD's controller never takes up (none
// runs, or it is stuck) is not a silent hang: while nothing changes the wait says, every
// heartbeat, where the operation stands, how long it has waited and when it gives up.
func TestArgoWaitSaysItIsStillWaiting(t *testing.T) {
	defer func(p, h time.Duration) { argoPoll, argoHeartbeat = p, h }(argoPoll, argoHeartbeat)
	argoPoll, argoHeartbeat = 5*time.Millisecond, 40*time.Millisecond
	op := map[string]any{"sync": map[string]any{"revision": "main"}, "initiatedBy": map[string]any{"username": "alice"}}
	app := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "fintech-app", "namespace": "argocd"}, "operation": op}}
	get := func(context.Context, spec.Object) (*argoApp, error) { return parseArgoApp(app.DeepCopy()) }
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var said []string
	_, err := argoOutcome(get)(ctx, spec.Object{Kind: "Application", Namespace: "argocd", Name: "fintech-app"}, executed{state: op}, func(m string) { said = append(said, m) })
	if err == nil || !strings.Contains(err.Error(), "no result of the operation") {
		t.Fatalf("err %v, want no result in time", err)
	}
	const pending = "requested; Argo CD's application controller has not started it yet"
	if len(said) < 3 || said[0] != pending {
		t.Fatalf("said %q: want the pending state, then heartbeats", said)
	}
	for _, m := range said[1:] {
		if !strings.HasPrefix(m, pending+" · waited ") || !strings.Contains(m, ", gives up in ") {
			t.Errorf("heartbeat %q: want the state, the time waited and the time left", m)
		}
	}
}
