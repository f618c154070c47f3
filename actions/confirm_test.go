package actions

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-k8s/vigil/actions/spec"
)

// TestPromptEndsItsLineAtEndOfInput: a prompt answered by the end of input (a pipe, a closed
// terminal) refuses, and ends the prompt's line, so the refusal printed next starts a line of
// its own rather than trailing "Reason (ticket or incident): ".
func TestPromptEndsItsLineAtEndOfInput(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"the reason", ""},
		{"the answer", "INC-7\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			req := spec.ConfirmRequest{Title: "Scale", Context: "local-1", NeedReason: true,
				Object: spec.Object{Kind: "Deployment", Namespace: "fintech-prod", Name: "payment-service"}}
			_, err := NewPromptConfirmer(strings.NewReader(tc.in), &out).Confirm(context.Background(), req)
			if !errors.Is(err, spec.ErrNotConfirmed) {
				t.Fatalf("err %v, want not confirmed", err)
			}
			if !strings.HasSuffix(out.String(), ": \n") {
				t.Errorf("the prompt's line is left open at end of input: %q", out.String())
			}
		})
	}
}
