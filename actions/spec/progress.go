package spec

import (
	"errors"
	"time"

	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// Stage is a step of the guard pipeline, in order.
type Stage string

// The pipeline's stages, in the order they run.
const (
	StageBusy          Stage = "busy"
	StageReadOnly      Stage = "read-only"
	StageRBAC          Stage = "rbac"
	StagePreconditions Stage = "preconditions"
	StageDryRun        Stage = "dry-run"
	StageConfirm       Stage = "confirm"
	StageAudit         Stage = "audit"
	StageExecute       Stage = "execute"
	StageVerify        Stage = "verify"
	// StageOperation waits for what became of an operation the action only
	// requested (an Argo CD sync, which Argo CD's controller runs).
	StageOperation Stage = "operation"
	StageDone      Stage = "done"
)

// Progress is a report of one attempt.
type Progress struct {
	// Attempt identifies the attempt (also in the audit log).
	Attempt string
	Stage   Stage
	Message string
	// Done marks the last report; Outcome and Err are set on it.
	Done    bool
	Outcome *Outcome
	Err     error
}

// Request is one attempt's inputs.
type Request struct {
	// Reason is the operator's reason given up front (--reason); the Confirmer may supply it.
	Reason string
	// DryRun stops after the preview (nothing is changed).
	DryRun bool
	// Timeout, when positive, bounds the checks and preview, and then, on a fresh clock
	// started once the operator has answered, the audit record, execute and verify: the time
	// a person takes to confirm is no part of any deadline. The caller's ctx still cancels.
	Timeout time.Duration
	// Progress receives reports synchronously, from the goroutine running the attempt.
	Progress func(Progress)
	// Confirmer asks the operator for this attempt; nil means the pipeline's own.
	Confirmer Confirmer
}

// Outcome is what an attempt did.
type Outcome struct {
	Attempt string
	Preview Preview
	// DryRunOnly is true when the request only previewed.
	DryRunOnly bool
	Result     Result
	// FollowUps are what the action offers next, once it succeeded; empty when nothing.
	FollowUps FollowUps
}

// ErrChangedSincePreview is returned when the object moved between the preview and the
// confirmation: what was confirmed is no longer what would run.
var ErrChangedSincePreview = errors.New("changed since preview")

// RefusedError is an attempt the pipeline stopped before execution, with the stage and reason.
type RefusedError struct {
	Stage  Stage
	Reason string
	Err    error
}

func (e *RefusedError) Error() string {
	return "refused (" + string(e.Stage) + "): " + termsafe.Line(e.Reason)
}

// Unwrap returns the cause of the refusal, when there was one.
func (e *RefusedError) Unwrap() error { return e.Err }

// FollowUps are actions an attempt's outcome offers next (restart the consumers of a
// refreshed Secret …), for the operator to pick: nothing runs by itself.
type FollowUps struct {
	// Title says what they are and why ("the consumers of … (restart to pick up new values)").
	Title string
	// Offers are the actions, each on its object.
	Offers []Offer
}

// Offer is one follow-up: the action params on Object.
type Offer struct {
	// Title names it in a menu ("Restart payment-service").
	Title  string
	Params Params
	Object Object
}
