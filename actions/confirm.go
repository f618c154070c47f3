package actions

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-k8s/vigil/actions/spec"
)

// PresetConfirmer answers with a fixed string: the headless --confirm flag.
type PresetConfirmer struct {
	Answer, Reason string
}

// Confirm returns the preset answer; an empty one refuses.
func (p PresetConfirmer) Confirm(_ context.Context, req spec.ConfirmRequest) (spec.Confirmation, error) {
	reason := p.Reason
	if reason == "" {
		reason = req.Reason
	}
	return spec.Confirmation{Answer: p.Answer, Reason: reason}, nil
}

// PromptConfirmer asks on a terminal: it prints the preview and the question to Out and
// reads a line (and a reason, when one is required and was not given) from In.
type PromptConfirmer struct {
	In  *bufio.Reader
	Out io.Writer
}

// NewPromptConfirmer returns a PromptConfirmer over in and out.
func NewPromptConfirmer(in io.Reader, out io.Writer) *PromptConfirmer {
	return &PromptConfirmer{In: bufio.NewReader(in), Out: out}
}

// Confirm prints the request and reads the answer.
func (p *PromptConfirmer) Confirm(_ context.Context, req spec.ConfirmRequest) (spec.Confirmation, error) {
	fmt.Fprintf(p.Out, "%s %s in context %s\n%s", req.Title, req.Object, req.Context, req.Preview)
	c := spec.Confirmation{Reason: req.Reason}
	if req.NeedReason && strings.TrimSpace(c.Reason) == "" {
		fmt.Fprint(p.Out, "Reason (ticket or incident): ")
		line, err := p.readLine()
		if err != nil {
			return c, err
		}
		c.Reason = line
	}
	fmt.Fprintf(p.Out, "%s: ", req.Prompt())
	line, err := p.readLine()
	c.Answer = line
	return c, err
}

func (p *PromptConfirmer) readLine() (string, error) {
	line, err := p.In.ReadString('\n')
	if err == io.EOF && line != "" {
		err = nil
	}
	if err == io.EOF {
		// The prompt waits on its line: end it, so what follows (the
		// refusal) starts a line of its own.
		fmt.Fprintln(p.Out)
		return "", fmt.Errorf("%w: no answer (end of input)", spec.ErrNotConfirmed)
	}
	return strings.TrimRight(line, "\r\n"), err
}
