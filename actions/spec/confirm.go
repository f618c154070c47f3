package spec

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ConfirmRequest is what a Confirmer shows and asks.
type ConfirmRequest struct {
	// ActionID and Title name the action; Dangerous ones deserve a red frame.
	ActionID, Title string
	Dangerous       bool
	// Context is the kube context; Object what is acted on.
	Context string
	Object  Object
	// Typed says the operator must type Expect; otherwise y/n.
	Typed bool
	// Expect is `<context>/<namespace>/<name>`.
	Expect string
	// Why says why the object is protected, when Typed.
	Why string
	// Preview is the change and the dry-run outcome.
	Preview Preview
	// NeedReason says a reason is required; Reason is the one given up front (flag), if any.
	NeedReason bool
	Reason     string
}

// Prompt is the question in words.
func (r ConfirmRequest) Prompt() string {
	if r.Typed {
		return fmt.Sprintf("Type %s to confirm (%s)", r.Expect, r.Why)
	}
	return "Proceed? Type y or yes (" + EnterAloneNeverConfirms + ")"
}

// EnterAloneNeverConfirms is how every prompt words the rule that an empty answer refuses.
const EnterAloneNeverConfirms = "Enter alone never confirms"

// Confirmation is an operator's answer.
type Confirmation struct {
	// Answer is exactly what was typed.
	Answer string
	// Reason is the operator's reason (ticket, incident).
	Reason string
	// Cancelled says the operator cancelled (Esc) rather than answered; Answer and Reason are
	// then what had been typed so far, recorded with the cancellation. A cancellation never
	// confirms, whatever Answer holds.
	Cancelled bool
}

// Confirmer asks an operator. The TUI implements it with a modal, the CLI with a prompt or
// the --confirm flag. A Confirmer only collects the answer: the pipeline judges it
// (CheckAnswer), so no implementation can make Enter alone confirm.
type Confirmer interface {
	Confirm(ctx context.Context, req ConfirmRequest) (Confirmation, error)
}

// ErrNotConfirmed is returned (wrapped) when the answer does not confirm.
var ErrNotConfirmed = errors.New("not confirmed")

// ErrCancelled is returned (wrapped) when the operator cancelled the confirmation. It wraps
// ErrNotConfirmed: a cancellation is one way of not confirming.
var ErrCancelled = fmt.Errorf("%w: cancelled by the operator", ErrNotConfirmed)

// CheckAnswer decides whether answer confirms req. Empty input (Enter alone) never confirms;
// a typed confirmation must match Expect exactly; y/n accepts y or yes — or, for runbooks,
// the typed string itself.
func CheckAnswer(req ConfirmRequest, answer string) error {
	a := strings.TrimSpace(answer)
	switch {
	case a == "":
		return fmt.Errorf("%w: empty answer (%s)", ErrNotConfirmed, EnterAloneNeverConfirms)
	case req.Typed && a != req.Expect:
		return fmt.Errorf("%w: typed %q, expected %q", ErrNotConfirmed, a, req.Expect)
	case req.Typed:
		return nil
	case a == req.Expect || strings.EqualFold(a, "y") || strings.EqualFold(a, "yes"):
		return nil
	default:
		return fmt.Errorf("%w: answered %q", ErrNotConfirmed, a)
	}
}
