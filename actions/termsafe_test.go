package actions

import (
	"context"
	"github.com/vigil-k8s/vigil/actions/spec"
	"strings"
	"testing"
)

// capturing confirms nothing and keeps what it was asked.
type capturing struct{ req spec.ConfirmRequest }

func (c *capturing) Confirm(_ context.Context, r spec.ConfirmRequest) (spec.Confirmation, error) {
	c.req = r
	return spec.Confirmation{}, nil
}

// TestHostilePreviewIsEscaped: a preview that quotes the cluster (a
// change-cause, an image, an admission message) reaches the confirmation
// and the outcome escaped, never as terminal control.
func TestHostilePreviewIsEscaped(t *testing.T) {
	env, _ := fakeEnv(t, allowAll)
	c := &capturing{}
	p, _ := newPipeline(t, env, c)
	r := &recorder{}
	a := r.action(env)
	a.steps.preview = func(context.Context, spec.Object) (previewed, error) {
		return previewed{Preview: spec.Preview{Summary: "roll back to \x1b[2J\x1b[Hrevision 2", Details: []string{"change-cause: \x1b]8;;https://evil/\x07fix\x1b]8;;\x07 \u202eok"},
			Warnings: []string{"\u009b31mred"}, DryRun: "server dry-run: admission webhook says \x1bP+q\x1b\\"}}, nil
	}
	out, err := p.Execute(context.Background(), a, prodTarget, spec.Request{Reason: "INC-1"})
	if err == nil {
		t.Fatal("an empty answer confirmed")
	}
	for name, text := range map[string]string{"confirmation": c.req.Preview.String(), "outcome": out.Preview.String(), "error": err.Error()} {
		if strings.ContainsAny(text, "\x1b\x07\u009b\u202e") {
			t.Errorf("the %s holds raw control text: %q", name, text)
		}
	}
	if !strings.Contains(c.req.Preview.String(), `\x1b[2J`) {
		t.Errorf("the confirmation does not show the escape: %q", c.req.Preview.String())
	}
}
