package actions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// Pipeline runs actions through the guards. It is safe for concurrent use; one attempt per
// target runs at a time.
type Pipeline struct {
	// Env is the kube context the actions act on.
	Env *Env
	// Audit is the tamper-evident log every attempt is recorded in.
	Audit *audit.Log
	// Confirmer asks the operator, unless a request brings its own.
	Confirmer spec.Confirmer
	// OperationWait bounds how long an attempt that requested an operation (an Argo CD
	// sync) waits, after its finished record, for the operation's result, recorded in an
	// outcome record: "unknown" when none came in time. Zero is DefaultOperationWait.
	OperationWait time.Duration

	mu    sync.Mutex
	busy  map[string]busyEntry
	newID func() string
}

// DefaultOperationWait is how long an attempt waits for a requested operation's result.
const DefaultOperationWait = 5 * time.Minute

type busyEntry struct {
	action string
	since  time.Time
}

// Execute runs the whole pipeline for a on t and returns when the attempt is over. A refusal
// is a *RefusedError.
func (p *Pipeline) Execute(ctx context.Context, a *Action, t spec.Object, req spec.Request) (spec.Outcome, error) {
	attempt := p.attemptID()
	release, err := p.lock(a, t)
	if err != nil {
		p.refuse(ctx, a, t, req, attempt, "", err)
		return spec.Outcome{Attempt: attempt}, err
	}
	defer release()
	return p.run(ctx, a, t, req, attempt, release)
}

// Start runs the pipeline in a goroutine and reports progress on the returned channel, whose
// last event has Done set; it is closed after. A second attempt on a busy target is refused
// at once, with the error returned here.
func (p *Pipeline) Start(ctx context.Context, a *Action, t spec.Object, req spec.Request) (<-chan spec.Progress, error) {
	attempt := p.attemptID()
	release, err := p.lock(a, t)
	if err != nil {
		p.refuse(ctx, a, t, req, attempt, "", err)
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
		_, _ = p.run(ctx, a, t, req, attempt, release)
	}()
	return ch, nil
}

// Disabled is a.Disabled: the reason the action cannot run on t, or "".
func (p *Pipeline) Disabled(ctx context.Context, a *Action, t spec.Object) string {
	return a.Disabled(ctx, t)
}

// run is one attempt; release frees the target (idempotent): an attempt waiting for a
// requested operation's result frees it first, so the target's other actions (suspending
// its auto-sync) are not refused as busy meanwhile.
func (p *Pipeline) run(ctx context.Context, a *Action, t spec.Object, req spec.Request, attempt string, release func()) (out spec.Outcome, err error) {
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

	// Two deadlines of req.Timeout each: one for the checks and preview, one started after
	// the confirmation for execute and verify. The confirmation itself has none.
	outer := ctx
	ctx, cancel := deadline(outer, req)
	defer func() { cancel() }()

	// 1–3: read-only, RBAC, preconditions (the same code as Disabled).
	report(spec.StageReadOnly, "checking read-only mode, permissions and preconditions")
	if stage, reason, gerr := a.guards(ctx, t); gerr != nil || reason != "" {
		if reason == "" {
			reason = gerr.Error()
		}
		err = &spec.RefusedError{Stage: stage, Reason: reason, Err: gerr}
		p.refuse(ctx, a, t, req, attempt, "", err)
		return out, err
	}

	// 4: server-side dry run and preview.
	report(spec.StageDryRun, "previewing (server-side dry run)")
	prev, perr := a.steps.preview(ctx, t)
	termsafe.Scrub(&prev.Preview) // change-causes, images, admission messages: data, never terminal control
	out.Preview = prev.Preview
	if perr != nil {
		err = &spec.RefusedError{Stage: spec.StageDryRun, Reason: "dry run failed: " + perr.Error(), Err: perr}
		p.refuse(ctx, a, t, req, attempt, prev.DryRun, err)
		return out, err
	}
	if req.DryRun {
		out.DryRunOnly = true
		_, aerr := p.record(ctx, a, t, req.Reason, attempt, audit.Record{Phase: audit.PhaseDryRun, DryRun: prev.DryRun, Result: "previewed"})
		return out, aerr
	}

	// 5: confirmation.
	report(spec.StageConfirm, "waiting for confirmation")
	creq := spec.ConfirmRequest{ActionID: a.ID, Title: a.Title, Dangerous: a.Dangerous, Context: p.Env.Context,
		Object: t, Expect: t.ConfirmText(p.Env.Context), Preview: prev.Preview, Reason: req.Reason}
	protected, why := p.Env.protected(ctx, t, prev.Namespaces)
	if !protected && prev.Unpinned != "" {
		protected, why = true, prev.Unpinned
	}
	if !protected && prev.Outsized != "" {
		protected, why = true, prev.Outsized
	}
	creq.Typed = a.Confirm == ConfirmTyped || (a.Confirm == ConfirmAuto && protected)
	creq.Why = why
	if creq.Typed && why == "" {
		creq.Why = "this action always asks for the typed target"
	}
	creq.NeedReason = p.Env.RequireReason || (protected && p.Env.RequireReasonProtected)
	confirmer := p.confirmer(req)
	if confirmer == nil {
		err = &spec.RefusedError{Stage: spec.StageConfirm, Reason: "no way to ask for confirmation", Err: spec.ErrNotConfirmed}
		p.refuse(ctx, a, t, req, attempt, prev.DryRun, err)
		return out, err
	}
	cancel()
	conf, cerr := confirmer.Confirm(outer, creq)
	ctx, cancel = deadline(outer, req) // the clock starts now
	switch {
	case cerr != nil:
	case conf.Cancelled:
		cerr = spec.ErrCancelled
		if a := strings.TrimSpace(conf.Answer); a != "" {
			cerr = fmt.Errorf("%w (had typed %q)", spec.ErrCancelled, a)
		}
	default:
		cerr = spec.CheckAnswer(creq, conf.Answer)
	}
	reason := strings.TrimSpace(conf.Reason)
	if reason == "" {
		reason = strings.TrimSpace(req.Reason)
	}
	req.Reason = reason
	if cerr == nil && creq.NeedReason && reason == "" {
		cerr = fmt.Errorf("%w: a reason is required for %s (give --reason with a ticket or incident)", spec.ErrNotConfirmed, t.ConfirmText(p.Env.Context))
	}
	if cerr != nil {
		err = &spec.RefusedError{Stage: spec.StageConfirm, Reason: cerr.Error(), Err: cerr}
		p.refuse(outer, a, t, req, attempt, prev.DryRun, err)
		return out, err
	}

	// 6: audit before touching anything; no record, no action.
	report(spec.StageAudit, "recording the attempt")
	base, aerr := p.record(ctx, a, t, reason, attempt, audit.Record{Phase: audit.PhaseStarted, DryRun: prev.DryRun, Plan: prev.Plan})
	if aerr != nil {
		err = &spec.RefusedError{Stage: spec.StageAudit, Reason: "the audit log could not be written, so nothing was changed: " + aerr.Error(), Err: aerr}
		return out, err
	}

	// 7–8: execute and verify.
	report(spec.StageExecute, prev.Summary)
	progress := func(s spec.Stage) func(string) { return func(m string) { report(s, m) } }
	res, xerr := a.steps.execute(ctx, execToken{attempt: attempt, user: base.User, reason: reason, plan: prev.plan}, t, progress(spec.StageExecute))
	stage := spec.StageExecute
	if xerr == nil && a.steps.verify != nil {
		stage = spec.StageVerify
		report(spec.StageVerify, "verifying")
		res.Verified, xerr = a.steps.verify(ctx, t, res, progress(spec.StageVerify))
	}
	out.Result = res.Result
	if xerr == nil {
		out.FollowUps = res.followUps
	}
	fin := audit.Record{Phase: audit.PhaseFinished, DryRun: prev.DryRun, Plan: prev.Plan, Result: "succeeded", User: base.User,
		Answer: res.Message, Verified: res.Verified}
	requested := xerr == nil && a.steps.outcome != nil
	if requested {
		// Only the request is done: its result is the operation's, recorded after it.
		fin.Result = ResultRequested
	}
	if xerr != nil {
		fin.Result, fin.Stage, fin.Error = "failed", string(stage), xerr.Error()
		if outcomeUnknown(ctx, xerr) {
			// The request may have reached the API server: whether the change landed is not
			// known, and the record must not say it failed.
			fin.Result = ResultUnknown
		}
		err = fmt.Errorf("%s %s: %s: %w", a.ID, t, stage, xerr)
	}
	// The finished record is written even when the deadline has passed.
	if _, ferr := p.record(context.WithoutCancel(outer), a, t, reason, attempt, fin); ferr != nil {
		err = errors.Join(err, fmt.Errorf("writing the finished audit record: %w", ferr))
	}
	if requested && err == nil {
		release()
		err = p.await(outer, a, t, reason, attempt, fin, res, &out, report)
	}
	return out, err
}

// await waits, up to OperationWait, for what became of the operation a finished attempt
// requested, reporting its progress, and records it in an outcome record: succeeded, failed
// (an error of the attempt), or unknown when no result came in time or it could not be read.
func (p *Pipeline) await(outer context.Context, a *Action, t spec.Object, reason, attempt string, fin audit.Record, res executed,
	out *spec.Outcome, report func(spec.Stage, string)) error {
	wait := p.OperationWait
	if wait <= 0 {
		wait = DefaultOperationWait
	}
	ctx, cancel := context.WithTimeout(outer, wait)
	defer cancel()
	report(spec.StageOperation, "waiting for the operation's result")
	got, oerr := a.steps.outcome(ctx, t, res, func(m string) { report(spec.StageOperation, m) })
	got.Message = termsafe.Line(got.Message) // the controller's message: data, never terminal control
	rec := audit.Record{Phase: audit.PhaseOutcome, Plan: fin.Plan, User: fin.User, Result: "succeeded", Answer: got.Message}
	var err error
	switch {
	case oerr != nil:
		rec.Result, rec.Stage, rec.Error = ResultUnknown, string(spec.StageOperation), oerr.Error()
		out.Result.Operation = "unknown: " + oerr.Error()
	case got.Failed:
		rec.Result = "failed"
		out.Result.Operation = got.Message
		err = fmt.Errorf("%s %s: %s: %s", a.ID, t, spec.StageOperation, got.Message)
	default:
		out.Result.Operation = got.Message
	}
	if _, ferr := p.record(context.WithoutCancel(outer), a, t, reason, attempt, rec); ferr != nil {
		err = errors.Join(err, fmt.Errorf("writing the outcome audit record: %w", ferr))
	}
	return err
}

// confirmer is who asks the operator for req: its own Confirmer, else the pipeline's.
func (p *Pipeline) confirmer(req spec.Request) spec.Confirmer {
	if req.Confirmer != nil {
		return req.Confirmer
	}
	return p.Confirmer
}

// ResultRefused and ResultCancelled are the results of a refused record: the pipeline stopped
// the attempt, or the operator cancelled the confirmation (the record keeps the reason and
// what had been typed).
const (
	ResultRefused   = "refused"
	ResultCancelled = "cancelled"
)

// ResultRequested is the finished record's result of an attempt that only requested an
// operation another controller runs (an Argo CD sync): an outcome record follows with the
// operation's result.
const ResultRequested = "requested"

// ResultUnknown is the finished record's result when execute or verify ran out of time or was
// cancelled: the request may have been applied, so the outcome is not known (look at the
// object before retrying).
const ResultUnknown = "unknown"

// outcomeUnknown reports whether err is a deadline or a cancellation (the attempt's, or a
// server-side timeout) rather than an answer from the API server.
func outcomeUnknown(ctx context.Context, err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || ctx.Err() != nil ||
		apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err)
}

// deadline is ctx bounded by r.Timeout when it is positive.
func deadline(ctx context.Context, r spec.Request) (context.Context, context.CancelFunc) {
	if r.Timeout > 0 {
		return context.WithTimeout(ctx, r.Timeout)
	}
	return context.WithCancel(ctx)
}

// refuse writes the single audit record of a refused attempt. Its own failure is reported
// through the returned error of the attempt only by the caller's wording; a refusal stays a
// refusal.
func (p *Pipeline) refuse(ctx context.Context, a *Action, t spec.Object, req spec.Request, attempt, dry string, err error) {
	rec := audit.Record{Phase: audit.PhaseRefused, DryRun: dry, Result: ResultRefused, Error: err.Error()}
	if errors.Is(err, spec.ErrCancelled) {
		rec.Result = ResultCancelled
	}
	var re *spec.RefusedError
	if errors.As(err, &re) {
		rec.Stage = string(re.Stage)
	}
	_, _ = p.record(ctx, a, t, req.Reason, attempt, rec)
}

func (p *Pipeline) record(ctx context.Context, a *Action, t spec.Object, reason, attempt string, r audit.Record) (audit.Record, error) {
	if p.Audit == nil {
		return r, errors.New("no audit log configured")
	}
	if r.User == "" {
		u, err := p.Env.User(ctx)
		if err != nil {
			u = "unknown (" + shortErr(err) + ")"
		}
		r.User = u
	}
	r.Attempt, r.Context, r.Server = attempt, p.Env.Context, p.Env.Server
	r.Action, r.Target, r.Params, r.Reason = a.ID, t.String(), a.Params, reason
	return p.Audit.Append(r)
}

// lock marks t busy for this pipeline; a second attempt gets a RefusedError at StageBusy.
func (p *Pipeline) lock(a *Action, t spec.Object) (func(), error) {
	key := t.ConfirmText(p.Env.Context) + "#" + t.Kind
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.busy == nil {
		p.busy = map[string]busyEntry{}
	}
	if b, ok := p.busy[key]; ok {
		return nil, &spec.RefusedError{Stage: spec.StageBusy, Reason: fmt.Sprintf("%s is busy: %s started %s ago; one action per target at a time",
			t, b.action, time.Since(b.since).Round(time.Second))}
	}
	p.busy[key] = busyEntry{action: a.ID, since: time.Now()}
	return sync.OnceFunc(func() {
		p.mu.Lock()
		delete(p.busy, key)
		p.mu.Unlock()
	}), nil
}

func (p *Pipeline) attemptID() string {
	if p.newID != nil {
		return p.newID()
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
