package actions

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
)

// everyParams are the parameters of every action, with the ID the audit log and the docs
// (docs/compliance-reviewers.md) name it by.
var everyParams = []struct {
	id     string
	params spec.Params
	object spec.Object
}{
	{"restart", spec.RestartParams{}, prodTarget},
	{"rollback", spec.RollbackParams{ToRevision: 2}, prodTarget},
	{"scale", spec.ScaleParams{Replicas: 3}, prodTarget},
	{"secret-refresh", spec.SecretRefreshParams{}, spec.Object{Kind: spec.KindExternalSecret, Namespace: "fintech-prod", Name: "payment-service-secrets"}},
	{"argo-sync", spec.ArgoSyncParams{}, spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: "fintech-app"}},
	{"argo-rollback", spec.ArgoRollbackParams{ID: 1}, spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: "fintech-app"}},
	{"silence", spec.SilenceParams{Duration: time.Hour}, spec.Object{Kind: spec.KindAlert, Namespace: "fintech-prod", Name: "HighErrorRate"}},
	{"silence-expire", spec.ExpireSilenceParams{}, spec.Object{Kind: spec.KindSilence, Name: "0b1c"}},
	{"argo-suspend-auto-sync", spec.SuspendAutoSyncParams{For: time.Hour}, spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: "fintech-app"}},
	{"argo-resume-auto-sync", spec.ResumeAutoSyncParams{}, spec.Object{Kind: spec.KindApplication, Namespace: "argocd", Name: "fintech-app"}},
	{"emergency-rollback", spec.EmergencyRollbackParams{ToRevision: 2, SuspendFor: time.Hour}, prodTarget},
}

// TestRunnerBuildsEveryAction: the Runner the UI reaches builds the action each spec.Params
// names and sends it through the guards: in read-only mode every one is shown disabled and
// refused at the read-only stage, recorded under its own ID and parameters.
func TestRunnerBuildsEveryAction(t *testing.T) {
	env, _ := fakeEnv(t, allowAll)
	env.ReadOnly = true
	_, path := newPipeline(t, env, nil)
	log, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner(env, log)
	if r.Context() != "local-1" {
		t.Errorf("context %q", r.Context())
	}
	for _, tt := range everyParams {
		if why := r.Disabled(context.Background(), tt.params, tt.object); why != "read-only mode" {
			t.Errorf("%s: disabled %q, want read-only mode", tt.id, why)
		}
		ch, serr := r.Start(context.Background(), tt.params, tt.object, spec.Request{})
		if serr != nil {
			t.Fatalf("%s: %v", tt.id, serr)
		}
		var last spec.Progress
		for p := range ch {
			last = p
		}
		var re *spec.RefusedError
		if !last.Done || !errors.As(last.Err, &re) || re.Stage != spec.StageReadOnly {
			t.Errorf("%s: last report %+v, want a refusal at the read-only stage", tt.id, last)
		}
	}
	recs, err := audit.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(everyParams) {
		t.Fatalf("%d audit records, want %d", len(recs), len(everyParams))
	}
	for i, tt := range everyParams {
		if recs[i].Action != tt.id || recs[i].Params != tt.params.String() || recs[i].Target != tt.object.String() {
			t.Errorf("record %d: %s %q %s, want %s %q %s", i, recs[i].Action, recs[i].Params, recs[i].Target, tt.id, tt.params.String(), tt.object)
		}
	}
}

// TestRequestConfirmerIsTheOneAsked: the TUI's modal is the Confirmer of each attempt it
// starts (spec.Request.Confirmer), not the pipeline's.
func TestRequestConfirmerIsTheOneAsked(t *testing.T) {
	env, _ := fakeEnv(t, allowAll)
	p, path := newPipeline(t, env, PresetConfirmer{Answer: ""})
	r := &recorder{logPath: path}
	if _, err := p.Execute(context.Background(), r.action(env), stagingTarget, spec.Request{}); !errors.Is(err, spec.ErrNotConfirmed) {
		t.Fatalf("the pipeline's empty answer: err %v, want not confirmed", err)
	}
	out, err := p.Execute(context.Background(), r.action(env), stagingTarget, spec.Request{Confirmer: PresetConfirmer{Answer: "yes"}})
	if err != nil || out.Result.Message != "done" {
		t.Fatalf("the request's yes: %+v, %v", out, err)
	}
}
