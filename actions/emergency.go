package actions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// EmergencyRollbackParams are the guided emergency rollback's parameters.
type EmergencyRollbackParams = spec.EmergencyRollbackParams

// EmergencyRollbackID is the flow's ID in the audit log.
const EmergencyRollbackID = "emergency-rollback" // spec.EmergencyRollbackParams{}.About().ID

// The flow's steps, as their actions' IDs in the audit log.
const (
	stepSuspend = "argo-suspend-auto-sync"
	stepVerify  = "verify-healthy"
)

// EmergencyRollback runs the guided emergency rollback of a workload Argo CD manages with
// automated sync: the runbook teams follow, as one guarded flow.
//
//  1. suspend automated sync of the app for SuspendFor (SuspendAutoSync);
//  2. roll the workload back to ToRevision (Rollback);
//  3. verify it becomes healthy: the rollout complete, every replica updated and available.
//
// Every step's guards run and both changes are previewed (server dry runs) before the one
// confirmation, which is always the typed target and needs a reason. Each step then runs
// through the pipeline as its own attempt, with the plan that was confirmed — a step whose
// fresh preview differs is refused ("changed since preview") — so the audit log holds four
// attempts: the flow (started, finished, with its plan and outcome) and suspend, rollback and
// verify (started, finished each), the steps' params naming the flow's attempt. Progress is
// reported step by step. A failure stops the flow; auto-sync then stays suspended, and the
// error says so (re-enabling is its own action).
func (p *Pipeline) EmergencyRollback(ctx context.Context, t spec.Object, ep EmergencyRollbackParams, req spec.Request) (spec.Outcome, error) {
	flow := emergencyFlow(p.Env, ep)
	attempt := p.attemptID()
	release, err := p.lock(flow, t)
	if err != nil {
		p.refuse(ctx, flow, t, req, attempt, "", err)
		return spec.Outcome{Attempt: attempt}, err
	}
	defer release()
	return p.emergencyRollback(ctx, flow, t, ep, req, attempt)
}

// StartEmergencyRollback runs EmergencyRollback in a goroutine, as Start runs an action: it
// reports on the returned channel, whose last event has Done set, and closes it after. A
// second attempt on a busy workload is refused at once, with the error returned here.
func (p *Pipeline) StartEmergencyRollback(ctx context.Context, t spec.Object, ep EmergencyRollbackParams, req spec.Request) (<-chan spec.Progress, error) {
	flow := emergencyFlow(p.Env, ep)
	attempt := p.attemptID()
	release, err := p.lock(flow, t)
	if err != nil {
		p.refuse(ctx, flow, t, req, attempt, "", err)
		return nil, err
	}
	ch := make(chan spec.Progress, 16)
	user := req.Progress
	req.Progress = func(e spec.Progress) {
		if user != nil {
			user(e)
		}
		ch <- e
	}
	go func() {
		defer close(ch)
		defer release()
		_, _ = p.emergencyRollback(ctx, flow, t, ep, req, attempt)
	}()
	return ch, nil
}

// EmergencyDisabled returns why the guided emergency rollback of t cannot run now (read-only
// mode, no Argo CD app manages t, the app's auto-sync is off or already suspended, a step's
// permission or precondition), or "" when it can. It asks the API server.
func (p *Pipeline) EmergencyDisabled(ctx context.Context, t spec.Object, ep EmergencyRollbackParams) string {
	_, _, _, stage, reason, err := emergencyGuards(ctx, p.Env, t, ep)
	if err != nil {
		return fmt.Sprintf("cannot tell (%s): %v", stage, err)
	}
	return reason
}

// emergencyFlow is the flow's own action, in whose name its lock, confirmation and first and
// last audit records are taken.
func emergencyFlow(env *Env, ep EmergencyRollbackParams) *Action {
	return &Action{ID: EmergencyRollbackID, Title: "Emergency rollback (suspend auto-sync → roll back → verify healthy)",
		Dangerous: true, Confirm: ConfirmTyped, env: env, Params: ep.String()}
}

// emergencyGuards runs the guards of every step of the flow on t: read-only mode, the managing
// Argo CD app, then the suspension's guards on the app and the rollback's on t. It returns the
// app and both actions, or the first refusal (a stage with a reason or an error).
func emergencyGuards(ctx context.Context, env *Env, t spec.Object, ep EmergencyRollbackParams) (app spec.Object, suspend, rb *Action, stage spec.Stage, reason string, err error) {
	if env.ReadOnly {
		return app, nil, nil, spec.StageReadOnly, "read-only mode", nil
	}
	app, err = ManagingApp(ctx, env, t)
	switch {
	case err != nil:
		return app, nil, nil, spec.StagePreconditions, "cannot tell which Argo CD application manages " + t.String() + ": " + err.Error(), err
	case app.Name == "":
		return app, nil, nil, spec.StagePreconditions, fmt.Sprintf("no Argo CD application manages %s: use a plain rollback", t), nil
	}
	suspend = SuspendAutoSync(env, spec.SuspendAutoSyncParams{For: ep.SuspendFor})
	rb = rollback(env, spec.RollbackParams{ToRevision: ep.ToRevision}, ep.SuspendFor)
	for _, s := range []struct {
		a *Action
		t spec.Object
	}{{suspend, app}, {rb, t}} {
		if stage, reason, err := s.a.guards(ctx, s.t); err != nil || reason != "" {
			if reason == "" {
				reason = err.Error()
			}
			return app, suspend, rb, stage, s.a.Title + ": " + reason, err
		}
	}
	return app, suspend, rb, "", "", nil
}

func (p *Pipeline) emergencyRollback(ctx context.Context, flow *Action, t spec.Object, ep EmergencyRollbackParams, req spec.Request, attempt string) (out spec.Outcome, err error) {
	if ep.HealthyWithin <= 0 {
		ep.HealthyWithin = 3 * time.Minute
	}
	out.Attempt = attempt
	report := func(s spec.Stage, msg string) {
		if req.Progress != nil {
			req.Progress(spec.Progress{Attempt: attempt, Stage: s, Message: msg})
		}
	}
	defer func() {
		if req.Progress != nil {
			o := out
			req.Progress(spec.Progress{Attempt: attempt, Stage: spec.StageDone, Done: true, Outcome: &o, Err: err})
		}
	}()
	refuse := func(stage spec.Stage, reason string, cause error, dry string) error {
		e := &spec.RefusedError{Stage: stage, Reason: reason, Err: cause}
		p.refuse(ctx, flow, t, req, attempt, dry, e)
		return e
	}
	outer := ctx
	ctx, cancel := deadline(outer, req)
	defer func() { cancel() }()

	// 1–3: every step's guards, before anything is shown or asked.
	report(spec.StageReadOnly, "checking read-only mode, permissions and preconditions of every step")
	app, suspend, rollback, stage, why, gerr := emergencyGuards(ctx, p.Env, t, ep)
	if gerr != nil || why != "" {
		return out, refuse(stage, why, gerr, "")
	}

	// 4: both changes previewed, with their server dry runs.
	report(spec.StageDryRun, "previewing every step (server-side dry runs)")
	spv, serr := suspend.steps.preview(ctx, app)
	termsafe.Scrub(&spv)
	if serr != nil {
		return out, refuse(spec.StageDryRun, "suspend: dry run failed: "+serr.Error(), serr, spv.DryRun)
	}
	rpv, rerr := rollback.steps.preview(ctx, t)
	termsafe.Scrub(&rpv)
	if rerr != nil {
		return out, refuse(spec.StageDryRun, "rollback: dry run failed: "+rerr.Error(), rerr, rpv.DryRun)
	}
	rev := planValue(rpv.Plan, "to-revision")
	prev := spec.Preview{
		Summary: fmt.Sprintf("emergency rollback of %s: suspend auto-sync of %s for %s → roll back to revision %s → verify healthy", t, app.Name, ep.SuspendFor, rev),
		Details: []string{"1. " + spv.Summary},
		DryRun:  "suspend " + spv.DryRun + "; rollback " + rpv.DryRun,
	}
	for _, d := range spv.Details {
		prev.Details = append(prev.Details, "   "+d)
	}
	prev.Details = append(prev.Details, "2. "+rpv.Summary)
	for _, d := range rpv.Details {
		prev.Details = append(prev.Details, "   "+d)
	}
	prev.Details = append(prev.Details,
		fmt.Sprintf("3. verify: the rollout completes and every replica is updated and available, within %s", ep.HealthyWithin),
		fmt.Sprintf("afterwards the header reminds until auto-sync is re-enabled (an action) or Git is reverted; the suspension ends by itself only in the reminder, at %s", time.Now().Add(ep.SuspendFor).UTC().Format("15:04 MST")))
	prev.Warnings = append(append(prev.Warnings, spv.Warnings...), rpv.Warnings...)
	prev.Namespaces = append(append(prev.Namespaces, spv.Namespaces...), rpv.Namespaces...)
	for _, l := range spv.Plan {
		prev.Plan = append(prev.Plan, "suspend."+l)
	}
	for _, l := range rpv.Plan {
		prev.Plan = append(prev.Plan, "rollback."+l)
	}
	prev.Plan = append(prev.Plan, "argo-app="+app.Namespace+"/"+app.Name, "verify.within="+ep.HealthyWithin.String())
	out.Preview = prev
	if req.DryRun {
		out.DryRunOnly = true
		_, err = p.record(ctx, flow, t, req.Reason, attempt, audit.Record{Phase: audit.PhaseDryRun, DryRun: prev.DryRun, Result: "previewed", Plan: prev.Plan})
		return out, err
	}

	// 5: one confirmation, always typed, with a reason.
	report(spec.StageConfirm, "waiting for confirmation")
	creq := spec.ConfirmRequest{ActionID: flow.ID, Title: flow.Title, Dangerous: true, Context: p.Env.Context, Object: t,
		Expect: t.ConfirmText(p.Env.Context), Preview: prev, Reason: req.Reason, Typed: true, NeedReason: true,
		Why: "the emergency rollback suspends GitOps and changes production: it always asks for the typed target"}
	confirmer := p.confirmer(req)
	if confirmer == nil {
		return out, refuse(spec.StageConfirm, "no way to ask for confirmation", spec.ErrNotConfirmed, prev.DryRun)
	}
	cancel()
	conf, cerr := confirmer.Confirm(outer, creq)
	ctx, cancel = deadline(outer, req)
	switch {
	case cerr != nil:
	case conf.Cancelled:
		cerr = spec.ErrCancelled
	default:
		cerr = spec.CheckAnswer(creq, conf.Answer)
	}
	reason := strings.TrimSpace(conf.Reason)
	if reason == "" {
		reason = strings.TrimSpace(req.Reason)
	}
	req.Reason = reason
	if cerr == nil && reason == "" {
		cerr = fmt.Errorf("%w: the emergency rollback needs a reason (give --reason with the incident)", spec.ErrNotConfirmed)
	}
	if cerr != nil {
		e := &spec.RefusedError{Stage: spec.StageConfirm, Reason: cerr.Error(), Err: cerr}
		p.refuse(outer, flow, t, req, attempt, prev.DryRun, e)
		return out, e
	}

	// 6: the flow's record before any step.
	report(spec.StageAudit, "recording the flow")
	base, ferr := p.record(ctx, flow, t, reason, attempt, audit.Record{Phase: audit.PhaseStarted, DryRun: prev.DryRun, Plan: prev.Plan})
	if ferr != nil {
		return out, &spec.RefusedError{Stage: spec.StageAudit, Reason: "the audit log could not be written, so nothing was changed: " + ferr.Error(), Err: ferr}
	}

	// 7: the steps, each its own attempt through the pipeline, with the confirmed plan.
	sub := &Pipeline{Env: p.Env, Audit: p.Audit, newID: p.newID,
		Confirmer: stepConfirmer{reason: reason, plans: map[string][]string{stepSuspend: spv.Plan, rollback.ID: rpv.Plan}}}
	toRev, _ := strconv.ParseInt(rev, 10, 64)
	steps := []struct {
		name string
		a    *Action
		t    spec.Object
	}{
		{"suspend automated sync of " + app.Name, SuspendAutoSync(p.Env, spec.SuspendAutoSyncParams{For: ep.SuspendFor}), app},
		{"roll " + t.Name + " back to revision " + rev, Rollback(p.Env, spec.RollbackParams{ToRevision: toRev}), t}, // refused if auto-sync is not suspended by now
		{"verify " + t.Name + " is healthy", VerifyHealthy(p.Env, ep.HealthyWithin), t},
	}
	var done []string
	var stepErr error
	failed := ""
	for i, s := range steps {
		s.a.Params = strings.TrimSpace(s.a.Params + " flow=" + attempt)
		report(spec.StageExecute, fmt.Sprintf("step %d/%d: %s", i+1, len(steps), s.name))
		so, e := sub.Execute(ctx, s.a, s.t, spec.Request{Reason: reason, Timeout: req.Timeout, Progress: func(ev spec.Progress) {
			if ev.Message != "" && (ev.Stage == spec.StageExecute || ev.Stage == spec.StageVerify) {
				report(spec.StageExecute, fmt.Sprintf("step %d/%d: %s", i+1, len(steps), ev.Message))
			}
		}})
		if e != nil {
			stepErr, failed = e, s.name
			break
		}
		done = append(done, fmt.Sprintf("%d. %s: %s", i+1, so.Result.Message, so.Result.Verified))
	}
	out.Result = spec.Result{Message: strings.Join(done, "\n")}
	fin := audit.Record{Phase: audit.PhaseFinished, DryRun: prev.DryRun, Plan: prev.Plan, Result: "succeeded", User: base.User,
		Answer: strings.Join(done, "; ")}
	if stepErr != nil {
		fin.Result, fin.Stage, fin.Error = "failed", string(spec.StageExecute), failed+": "+stepErr.Error()
		err = fmt.Errorf("%s %s: step %q: %w", flow.ID, t, failed, stepErr)
		if len(done) > 0 {
			err = fmt.Errorf("%w; automated sync of %s stays suspended: re-enable it (an action) or revert in Git", err, app.Name)
		}
	} else {
		out.Result.Verified = "rolled back and healthy; automated sync of " + app.Name + " suspended for " + ep.SuspendFor.String()
	}
	if _, werr := p.record(context.WithoutCancel(outer), flow, t, reason, attempt, fin); werr != nil {
		err = errors.Join(err, fmt.Errorf("writing the flow's finished audit record: %w", werr))
	}
	return out, err
}

// stepConfirmer confirms a step of a confirmed flow: only when the step's fresh preview plans
// exactly what the flow's preview planned (predictions of Argo CD aside: they change once
// auto-sync is suspended; a rollback's resourceVersion moves with every status write, its
// template is what the rollback itself checks).
type stepConfirmer struct {
	reason string
	plans  map[string][]string
}

func (c stepConfirmer) Confirm(_ context.Context, req spec.ConfirmRequest) (spec.Confirmation, error) {
	if want, ok := c.plans[req.ActionID]; ok && !slices.Equal(confirmedPart(want), confirmedPart(req.Preview.Plan)) {
		return spec.Confirmation{}, fmt.Errorf("%w: %s plans %v now, the flow confirmed %v; look again",
			spec.ErrChangedSincePreview, req.ActionID, confirmedPart(req.Preview.Plan), confirmedPart(want))
	}
	return spec.Confirmation{Answer: req.Expect, Reason: c.reason}, nil
}

func confirmedPart(plan []string) []string {
	var out []string
	for _, l := range plan {
		if !strings.HasPrefix(l, "argo-") && !strings.HasPrefix(l, "resourceVersion=") {
			out = append(out, l)
		}
	}
	return out
}

func planValue(plan []string, key string) string {
	for _, l := range plan {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return v
		}
	}
	return "?"
}

// VerifyHealthy returns the read-only action that waits until a workload's rollout is
// complete: its controller observed the latest generation and every replica is updated and
// available (a StatefulSet: ready at the update revision; a DaemonSet: every scheduled pod
// updated and available). The emergency rollback's third step.
func VerifyHealthy(env *Env, within time.Duration) *Action {
	a := &Action{ID: stepVerify, Title: "Verify healthy", Confirm: ConfirmYesNo, env: env, Params: "within=" + within.String()}
	a.steps = steps{
		preview: func(ctx context.Context, t spec.Object) (previewed, error) {
			_, msg, err := rolloutDone(ctx, env, t)
			return previewed{Preview: spec.Preview{Summary: fmt.Sprintf("wait up to %s for %s to be healthy (now: %s)", within, t, msg), DryRun: "read-only: nothing to dry-run"}}, err
		},
		execute: func(ctx context.Context, _ execToken, t spec.Object, progress func(string)) (executed, error) {
			deadline := time.Now().Add(within)
			last := ""
			for {
				ok, msg, err := rolloutDone(ctx, env, t)
				if err != nil {
					return executed{}, err
				}
				if ok {
					return executed{Result: spec.Result{Message: t.String() + " is healthy", Verified: msg}}, nil
				}
				if msg != last {
					progress(msg)
					last = msg
				}
				if time.Now().After(deadline) {
					return executed{}, fmt.Errorf("%s not healthy within %s: %s", t, within, msg)
				}
				select {
				case <-ctx.Done():
					return executed{}, ctx.Err()
				case <-time.After(500 * time.Millisecond):
				}
			}
		},
	}
	return a
}

// rolloutDone reports whether t's rollout is complete, and where it stands.
func rolloutDone(ctx context.Context, env *Env, t spec.Object) (bool, string, error) {
	w, err := getWorkload(ctx, env.Kube, t)
	if err != nil {
		return false, "", err
	}
	switch o := w.obj.(type) {
	case *appsv1.Deployment:
		want := int32(1)
		if o.Spec.Replicas != nil {
			want = *o.Spec.Replicas
		}
		s := o.Status
		msg := fmt.Sprintf("%d/%d updated, %d available, %d total (generation %d observed %d)", s.UpdatedReplicas, want, s.AvailableReplicas, s.Replicas, o.Generation, s.ObservedGeneration)
		return s.ObservedGeneration >= o.Generation && s.UpdatedReplicas == want && s.AvailableReplicas == want && s.Replicas == want, msg, nil
	case *appsv1.StatefulSet:
		want := int32(1)
		if o.Spec.Replicas != nil {
			want = *o.Spec.Replicas
		}
		s := o.Status
		msg := fmt.Sprintf("%d/%d ready at %s (current %s)", s.ReadyReplicas, want, s.UpdateRevision, s.CurrentRevision)
		return s.ObservedGeneration >= o.Generation && s.UpdatedReplicas == want && s.ReadyReplicas == want && s.CurrentRevision == s.UpdateRevision, msg, nil
	case *appsv1.DaemonSet:
		s := o.Status
		msg := fmt.Sprintf("%d/%d updated, %d available", s.UpdatedNumberScheduled, s.DesiredNumberScheduled, s.NumberAvailable)
		return s.ObservedGeneration >= o.Generation && s.UpdatedNumberScheduled == s.DesiredNumberScheduled && s.NumberAvailable == s.DesiredNumberScheduled, msg, nil
	}
	return false, "", fmt.Errorf("%s is not a workload", t)
}
