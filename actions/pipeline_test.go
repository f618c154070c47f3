package actions

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
)

// fakeEnv is an Env over a fake clientset whose SelfSubjectAccessReviews allow what allow
// says ("verb resource namespace") and whose SelfSubjectReview answers "oncall@fintech".
func fakeEnv(t *testing.T, allow map[string]bool, objs ...runtime.Object) (*Env, *fake.Clientset) {
	t.Helper()
	objs = append(objs,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fintech-prod", Labels: map[string]string{"environment": "production"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fintech-staging", Labels: map[string]string{"environment": "staging"}}})
	cs := fake.NewSimpleClientset(objs...)
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authzv1.SelfSubjectAccessReview)
		ra := r.Spec.ResourceAttributes
		r.Status.Allowed = allow[ra.Verb+" "+ra.Resource+" "+ra.Namespace]
		return true, r, nil
	})
	cs.PrependReactor("create", "selfsubjectreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.CreateAction).GetObject().(*authnv1.SelfSubjectReview)
		r.Status.UserInfo.Username = "oncall@fintech"
		return true, r, nil
	})
	return &Env{Context: "local-1", Server: "https://127.0.0.1:6443", Kube: cs}, cs
}

// recorder is a synthetic action whose steps record when they run.
type recorder struct {
	mu       sync.Mutex
	calls    []string
	precheck string
	prevErr  error
	block    chan struct{}
	logPath  string
	started  bool // the audit log held a started record when execute ran
}

func (r *recorder) note(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *recorder) action(env *Env) *Action {
	return &Action{ID: "test", Title: "Test", Dangerous: true, Permission: &Permission{Verb: "patch", Group: "apps"}, env: env,
		steps: steps{
			precheck: func(context.Context, spec.Object) (string, error) { r.note("precheck"); return r.precheck, nil },
			preview: func(context.Context, spec.Object) (previewed, error) {
				r.note("preview")
				return previewed{Preview: spec.Preview{Summary: "do the thing", DryRun: "server dry-run: ok"}}, r.prevErr
			},
			execute: func(context.Context, execToken, spec.Object, func(string)) (executed, error) {
				r.note("execute")
				recs, _ := audit.ReadFile(r.logPath)
				r.started = len(recs) > 0 && recs[len(recs)-1].Phase == audit.PhaseStarted
				if r.block != nil {
					<-r.block
				}
				return executed{Result: spec.Result{Message: "done"}}, nil
			},
			verify: func(context.Context, spec.Object, executed, func(string)) (string, error) {
				r.note("verify")
				return "checked", nil
			},
		}}
}

func newPipeline(t *testing.T, env *Env, c spec.Confirmer) (*Pipeline, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	// No controller runs the Argo CD operations these tests request: their result is not
	// waited for long.
	return &Pipeline{Env: env, Audit: l, Confirmer: c, OperationWait: 100 * time.Millisecond}, path
}

var (
	prodTarget    = spec.Object{Kind: spec.KindDeployment, Namespace: "fintech-prod", Name: "payment-service"}
	stagingTarget = spec.Object{Kind: spec.KindDeployment, Namespace: "fintech-staging", Name: "payment-service"}
	allowAll      = map[string]bool{"patch deployments fintech-prod": true, "patch deployments fintech-staging": true}
)

func TestPipelineRunsStagesInOrder(t *testing.T) {
	env, _ := fakeEnv(t, allowAll)
	p, path := newPipeline(t, env, PresetConfirmer{Answer: "local-1/fintech-prod/payment-service"})
	r := &recorder{logPath: path}
	var stages []spec.Stage
	out, err := p.Execute(context.Background(), r.action(env), prodTarget, spec.Request{Reason: "INC-123",
		Progress: func(e spec.Progress) { stages = append(stages, e.Stage) }})
	if err != nil {
		t.Fatal(err)
	}
	want := []spec.Stage{spec.StageReadOnly, spec.StageDryRun, spec.StageConfirm, spec.StageAudit, spec.StageExecute, spec.StageVerify, spec.StageDone}
	if !slices.Equal(stages, want) {
		t.Errorf("stages %v, want %v", stages, want)
	}
	if !slices.Equal(r.calls, []string{"precheck", "preview", "execute", "verify"}) {
		t.Errorf("calls %v", r.calls)
	}
	if !r.started {
		t.Error("execute ran before the started record was in the audit log")
	}
	if out.Result.Verified != "checked" {
		t.Errorf("outcome %+v", out)
	}
	recs, _ := audit.ReadFile(path)
	if len(recs) != 2 || recs[0].Phase != audit.PhaseStarted || recs[1].Phase != audit.PhaseFinished ||
		recs[1].Result != "succeeded" || recs[0].User != "oncall@fintech" || recs[0].Reason != "INC-123" ||
		recs[0].Target != "deployment/fintech-prod/payment-service" || recs[0].DryRun != "server dry-run: ok" {
		t.Fatalf("audit records %+v", recs)
	}
}

func TestPipelineRefusals(t *testing.T) {
	cases := []struct {
		name      string
		readOnly  bool
		allow     map[string]bool
		precheck  string
		prevErr   error
		answer    string
		target    spec.Object
		stage     spec.Stage
		reason    string
		wantCalls []string
	}{
		{name: "read-only", readOnly: true, allow: allowAll, target: prodTarget, stage: spec.StageReadOnly, reason: "read-only mode"},
		{name: "forbidden", allow: map[string]bool{}, target: prodTarget, stage: spec.StageRBAC,
			reason: "forbidden: you cannot patch deployments in fintech-prod"},
		{name: "precondition", allow: allowAll, precheck: "paused: resume it first", target: prodTarget,
			stage: spec.StagePreconditions, reason: "paused", wantCalls: []string{"precheck"}},
		{name: "dry run rejected", allow: allowAll, prevErr: errors.New("admission webhook denied"), target: prodTarget,
			stage: spec.StageDryRun, reason: "admission webhook denied", wantCalls: []string{"precheck", "preview"}},
		{name: "enter alone", allow: allowAll, answer: "", target: stagingTarget, stage: spec.StageConfirm,
			reason: "Enter alone never confirms", wantCalls: []string{"precheck", "preview"}},
		{name: "wrong typed string", allow: allowAll, answer: "local-1/fintech-prod/payment-servic", target: prodTarget,
			stage: spec.StageConfirm, reason: `expected "local-1/fintech-prod/payment-service"`, wantCalls: []string{"precheck", "preview"}},
		{name: "y is not enough in production", allow: allowAll, answer: "y", target: prodTarget,
			stage: spec.StageConfirm, reason: "expected", wantCalls: []string{"precheck", "preview"}},
		{name: "no on staging", allow: allowAll, answer: "n", target: stagingTarget,
			stage: spec.StageConfirm, reason: `answered "n"`, wantCalls: []string{"precheck", "preview"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := fakeEnv(t, tc.allow)
			env.ReadOnly = tc.readOnly
			p, path := newPipeline(t, env, PresetConfirmer{Answer: tc.answer})
			r := &recorder{precheck: tc.precheck, prevErr: tc.prevErr, logPath: path}
			a := r.action(env)
			_, err := p.Execute(context.Background(), a, tc.target, spec.Request{Reason: "INC-1"})
			var re *spec.RefusedError
			if !errors.As(err, &re) || re.Stage != tc.stage || !strings.Contains(re.Error(), tc.reason) {
				t.Fatalf("err = %v, want refusal at %s containing %q", err, tc.stage, tc.reason)
			}
			if !slices.Equal(r.calls, tc.wantCalls) {
				t.Errorf("steps run %v, want %v", r.calls, tc.wantCalls)
			}
			if tc.stage == spec.StageReadOnly || tc.stage == spec.StageRBAC || tc.stage == spec.StagePreconditions {
				if d := a.Disabled(context.Background(), tc.target); !strings.Contains(d, tc.reason) {
					t.Errorf("Disabled = %q, want it to contain %q", d, tc.reason)
				}
			}
			recs, _ := audit.ReadFile(path)
			if len(recs) != 1 || recs[0].Phase != audit.PhaseRefused || recs[0].Stage != string(tc.stage) {
				t.Fatalf("audit records %+v, want one refused record", recs)
			}
		})
	}
}

func TestConfirmationRules(t *testing.T) {
	typed := spec.ConfirmRequest{Typed: true, Expect: "local-1/fintech-prod/payment-service"}
	yn := spec.ConfirmRequest{Expect: "local-1/fintech-staging/payment-service"}
	for _, tc := range []struct {
		req    spec.ConfirmRequest
		answer string
		ok     bool
	}{
		{typed, "", false}, {typed, "\n", false}, {typed, "   ", false}, {typed, "y", false}, {typed, "yes", false},
		{typed, "local-1/fintech-prod/payment", false}, {typed, "LOCAL-1/fintech-prod/payment-service", false},
		{typed, "local-1/fintech-prod/payment-service", true}, {typed, "local-1/fintech-prod/payment-service\n", true},
		{yn, "", false}, {yn, "\r\n", false}, {yn, "n", false}, {yn, "no", false}, {yn, "sure", false},
		{yn, "y", true}, {yn, "YES", true}, {yn, "local-1/fintech-staging/payment-service", true},
	} {
		err := spec.CheckAnswer(tc.req, tc.answer)
		if (err == nil) != tc.ok {
			t.Errorf("CheckAnswer(typed=%v, %q) = %v, want ok=%v", tc.req.Typed, tc.answer, err, tc.ok)
		}
	}
}

func TestPromptConfirmerEnterAloneDoesNotConfirm(t *testing.T) {
	env, _ := fakeEnv(t, allowAll)
	var out strings.Builder
	p, path := newPipeline(t, env, NewPromptConfirmer(strings.NewReader("\n"), &out))
	r := &recorder{logPath: path}
	_, err := p.Execute(context.Background(), r.action(env), stagingTarget, spec.Request{Reason: "INC-1"})
	if !errors.Is(err, spec.ErrNotConfirmed) || slices.Contains(r.calls, "execute") {
		t.Fatalf("Enter alone: err %v, calls %v", err, r.calls)
	}
	if !strings.Contains(out.String(), "Proceed? Type y or yes (Enter alone never confirms): ") {
		t.Errorf("prompt: %q", out.String())
	}
	// The typed target on a production namespace, reason asked on the terminal.
	env.RequireReasonProtected = true
	out.Reset()
	p.Confirmer = NewPromptConfirmer(strings.NewReader("INC-77\nlocal-1/fintech-prod/payment-service\n"), &out)
	r = &recorder{logPath: path}
	if _, err := p.Execute(context.Background(), r.action(env), prodTarget, spec.Request{}); err != nil {
		t.Fatalf("typed confirmation: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Type local-1/fintech-prod/payment-service to confirm (namespace fintech-prod is labelled environment=production)") {
		t.Errorf("prompt: %q", out.String())
	}
	recs, _ := audit.ReadFile(path)
	if recs[len(recs)-1].Reason != "INC-77" {
		t.Errorf("reason not recorded: %+v", recs[len(recs)-1])
	}
}

// cancelConfirmer is an operator who typed a reason and part of the answer, then pressed Esc.
type cancelConfirmer struct{ answer, reason string }

func (c cancelConfirmer) Confirm(context.Context, spec.ConfirmRequest) (spec.Confirmation, error) {
	return spec.Confirmation{Answer: c.answer, Reason: c.reason, Cancelled: true}, nil
}

// TestCancelledConfirmationIsRecordedAsCancelled: a cancellation is refused (even with the full
// answer typed) and its audit record says cancelled, with the reason and what had been typed;
// an empty answer with Enter is still "not confirmed", not a cancellation.
func TestCancelledConfirmationIsRecordedAsCancelled(t *testing.T) {
	env, _ := fakeEnv(t, allowAll)
	for _, tc := range []struct{ answer, wantErr string }{
		{"local-1/fintech-prod/pay", `cancelled by the operator (had typed "local-1/fintech-prod/pay")`},
		{"local-1/fintech-prod/payment-service", `cancelled by the operator (had typed "local-1/fintech-prod/payment-service")`},
		{"", "cancelled by the operator"},
	} {
		p, path := newPipeline(t, env, cancelConfirmer{answer: tc.answer, reason: "INC-42"})
		r := &recorder{logPath: path}
		_, err := p.Execute(context.Background(), r.action(env), prodTarget, spec.Request{})
		var re *spec.RefusedError
		if !errors.As(err, &re) || re.Stage != spec.StageConfirm || !errors.Is(err, spec.ErrCancelled) || !errors.Is(err, spec.ErrNotConfirmed) {
			t.Fatalf("answer %q: err = %v, want a cancellation refused at confirm", tc.answer, err)
		}
		if slices.Contains(r.calls, "execute") {
			t.Fatalf("answer %q: a cancellation executed: %v", tc.answer, r.calls)
		}
		recs, _ := audit.ReadFile(path)
		if len(recs) != 1 {
			t.Fatalf("answer %q: records %+v, want one", tc.answer, recs)
		}
		rec := recs[0]
		if rec.Phase != audit.PhaseRefused || rec.Result != ResultCancelled || rec.Stage != string(spec.StageConfirm) ||
			rec.Reason != "INC-42" || !strings.Contains(rec.Error, tc.wantErr) || strings.Contains(rec.Error, "empty answer") {
			t.Errorf("answer %q: record %+v, want result cancelled, reason INC-42, error containing %q", tc.answer, rec, tc.wantErr)
		}
	}
	// Enter alone stays a refusal (not confirmed), not a cancellation.
	p, path := newPipeline(t, env, PresetConfirmer{Answer: "", Reason: "INC-43"})
	r := &recorder{logPath: path}
	_, err := p.Execute(context.Background(), r.action(env), stagingTarget, spec.Request{})
	if !errors.Is(err, spec.ErrNotConfirmed) || errors.Is(err, spec.ErrCancelled) {
		t.Fatalf("Enter alone: err %v", err)
	}
	recs, _ := audit.ReadFile(path)
	if len(recs) != 1 || recs[0].Result != ResultRefused || !strings.Contains(recs[0].Error, "empty answer (Enter alone never confirms)") || recs[0].Reason != "INC-43" {
		t.Errorf("Enter alone record %+v", recs)
	}
}

func TestReasonRequired(t *testing.T) {
	env, _ := fakeEnv(t, allowAll)
	env.RequireReason = true
	p, path := newPipeline(t, env, PresetConfirmer{Answer: "y"})
	r := &recorder{logPath: path}
	_, err := p.Execute(context.Background(), r.action(env), stagingTarget, spec.Request{})
	if err == nil || !strings.Contains(err.Error(), "a reason is required") {
		t.Fatalf("err %v", err)
	}
	if _, err := p.Execute(context.Background(), r.action(env), stagingTarget, spec.Request{Reason: "CHG-9"}); err != nil {
		t.Fatal(err)
	}
}

func TestProtectedContextNeedsTypedTarget(t *testing.T) {
	env, _ := fakeEnv(t, allowAll)
	env.Protected = true
	p, path := newPipeline(t, env, PresetConfirmer{Answer: "yes"})
	r := &recorder{logPath: path}
	_, err := p.Execute(context.Background(), r.action(env), stagingTarget, spec.Request{})
	if !errors.Is(err, spec.ErrNotConfirmed) {
		t.Fatalf("protected context accepted y/n: %v", err)
	}
}

func TestOneActionPerTarget(t *testing.T) {
	env, _ := fakeEnv(t, allowAll)
	p, path := newPipeline(t, env, PresetConfirmer{Answer: "y"})
	r := &recorder{logPath: path, block: make(chan struct{})}
	ch, err := p.Start(context.Background(), r.action(env), stagingTarget, spec.Request{})
	if err != nil {
		t.Fatal(err)
	}
	for e := range ch { // wait until it executes
		if e.Stage == spec.StageExecute {
			break
		}
	}
	_, err = p.Start(context.Background(), r.action(env), stagingTarget, spec.Request{})
	var re *spec.RefusedError
	if !errors.As(err, &re) || re.Stage != spec.StageBusy || !strings.Contains(err.Error(), "busy: test started") {
		t.Fatalf("second attempt: %v", err)
	}
	// Another target is not blocked.
	other := stagingTarget
	other.Name = "api-gateway"
	r2 := &recorder{logPath: path}
	if _, err := p.Execute(context.Background(), r2.action(env), other, spec.Request{}); err != nil {
		t.Fatalf("other target: %v", err)
	}
	close(r.block)
	var last spec.Progress
	for e := range ch {
		last = e
	}
	if !last.Done || last.Err != nil || last.Outcome.Result.Message != "done" {
		t.Fatalf("last event %+v", last)
	}
	// Free again.
	if _, err := p.Execute(context.Background(), (&recorder{logPath: path}).action(env), stagingTarget, spec.Request{}); err != nil {
		t.Fatal(err)
	}
	rep, _ := audit.VerifyFile(path)
	if !rep.OK() {
		t.Fatal(rep.Broken)
	}
}

func TestDryRunOnlyPreviews(t *testing.T) {
	env, _ := fakeEnv(t, allowAll)
	p, path := newPipeline(t, env, nil)
	r := &recorder{logPath: path}
	out, err := p.Execute(context.Background(), r.action(env), prodTarget, spec.Request{DryRun: true})
	if err != nil || !out.DryRunOnly || out.Preview.Summary != "do the thing" {
		t.Fatalf("%+v %v", out, err)
	}
	if slices.Contains(r.calls, "execute") {
		t.Fatal("dry run executed")
	}
	recs, _ := audit.ReadFile(path)
	if len(recs) != 1 || recs[0].Phase != audit.PhaseDryRun {
		t.Fatalf("%+v", recs)
	}
}

func TestAuditFailureStopsExecution(t *testing.T) {
	env, _ := fakeEnv(t, allowAll)
	p, path := newPipeline(t, env, PresetConfirmer{Answer: "y"})
	r := &recorder{logPath: path}
	p.Audit = nil
	_, err := p.Execute(context.Background(), r.action(env), stagingTarget, spec.Request{})
	var re *spec.RefusedError
	if !errors.As(err, &re) || re.Stage != spec.StageAudit || slices.Contains(r.calls, "execute") {
		t.Fatalf("err %v calls %v", err, r.calls)
	}
}

func TestRBACChecksExactAttributes(t *testing.T) {
	env, cs := fakeEnv(t, map[string]bool{"patch deployments fintech-prod": true})
	var got []authzv1.ResourceAttributes
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		got = append(got, *a.(k8stesting.CreateAction).GetObject().(*authzv1.SelfSubjectAccessReview).Spec.ResourceAttributes)
		return false, nil, nil
	})
	a := Scale(env, spec.ScaleParams{Replicas: 3})
	_ = a.Disabled(context.Background(), prodTarget)
	want := authzv1.ResourceAttributes{Namespace: "fintech-prod", Verb: "patch", Group: "apps", Resource: "deployments", Subresource: "scale", Name: "payment-service"}
	if len(got) == 0 || got[0] != want {
		t.Fatalf("SSAR attributes %+v, want %+v", got, want)
	}
	_ = time.Second
}
