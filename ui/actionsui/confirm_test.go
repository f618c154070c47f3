package actionsui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func newConfirm(typed bool) (*Confirm, chan spec.Confirmation) {
	reply := make(chan spec.Confirmation, 1)
	req := spec.ConfirmRequest{ActionID: "rollback", Title: "Roll back", Dangerous: true, Context: "local-1",
		Object: spec.Object{Kind: "Deployment", Namespace: "fintech-prod", Name: "payment-service"},
		Typed:  typed, Expect: "local-1/fintech-prod/payment-service", Why: "namespace fintech-prod is production",
		Preview: spec.Preview{Summary: "roll back to revision 2", Details: []string{"image payment-service:v1.2.3 → v1.2.2"}, DryRun: "server dry-run: ok"}}
	c := NewConfirm(common.Common{Styles: theme.New(true), Keys: common.DefaultKeyMap()}, ConfirmMsg{Request: req, Reply: reply})
	c.SetSize(100, 20)
	current = c
	return c, reply
}

func kp(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	return tea.KeyPressMsg{Code: []rune(s)[0], Text: s}
}

func typeIn(c *Confirm, s string) {
	for _, r := range s {
		c.Update(kp(string(r)))
	}
}

// current is the modal under test; popped reports whether its last
// Update asked to close it.
var current *Confirm

func popped(tea.Cmd) bool {
	_, pop, _ := current.TakeNav()
	return pop
}

// TestConfirmation_EnterDoesNotConfirm: Enter alone, or a wrong typed
// target, leaves the modal open and sends nothing; only the exact
// `<context>/<namespace>/<name>` confirms.
func TestConfirmation_EnterDoesNotConfirm(t *testing.T) {
	c, reply := newConfirm(true)
	if _, cmd := c.Update(kp("enter")); popped(cmd) {
		t.Fatal("Enter alone closed the modal")
	}
	if len(reply) != 0 || c.Answered() {
		t.Fatal("Enter alone sent an answer")
	}
	if !strings.Contains(ansi.Strip(c.View()), "Enter alone never confirms") {
		t.Errorf("the modal does not say why:\n%s", ansi.Strip(c.View()))
	}
	typeIn(c, "yes")
	if _, cmd := c.Update(kp("enter")); popped(cmd) || len(reply) != 0 {
		t.Fatal("y/yes confirmed a typed confirmation")
	}
	typeIn(c, "")
	for range 3 {
		c.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	typeIn(c, "local-1/fintech-prod/payment-service")
	_, cmd := c.Update(kp("enter"))
	if !popped(cmd) {
		t.Fatal("the exact typed target did not close the modal")
	}
	got := <-reply
	if err := spec.CheckAnswer(c.req, got.Answer); err != nil {
		t.Fatalf("the answer sent does not pass the pipeline's check: %v", err)
	}
}

func TestConfirmation_YesNoNeedsAnAnswer(t *testing.T) {
	c, reply := newConfirm(false)
	c.Update(kp("enter"))
	if len(reply) != 0 {
		t.Fatal("Enter alone confirmed a y/n question")
	}
	typeIn(c, "y")
	if _, cmd := c.Update(kp("enter")); !popped(cmd) || (<-reply).Answer != "y" {
		t.Fatal("y did not confirm")
	}
}

func TestConfirmation_EscCancels(t *testing.T) {
	c, reply := newConfirm(true)
	typeIn(c, "local-1/fintech-prod/payment-service")
	if _, cmd := c.Update(kp("esc")); !popped(cmd) {
		t.Fatal("Esc did not close the modal")
	}
	got := <-reply
	if !got.Cancelled || got.Answer != "local-1/fintech-prod/payment-service" {
		t.Fatalf("Esc sent %+v, want a cancellation with what was typed", got)
	}
}

// TestConfirmation_EscKeepsTheReason: a reason typed, then Esc, reaches the
// pipeline as a cancellation carrying the reason and the partial answer.
func TestConfirmation_EscKeepsTheReason(t *testing.T) {
	reply := make(chan spec.Confirmation, 1)
	req := spec.ConfirmRequest{ActionID: "scale", Title: "Scale", Context: "local-1",
		Object: spec.Object{Kind: "Deployment", Namespace: "fintech-prod", Name: "api-gateway"},
		Typed:  true, Expect: "local-1/fintech-prod/api-gateway", Why: "production", NeedReason: true}
	c := NewConfirm(common.Common{Styles: theme.New(true), Keys: common.DefaultKeyMap()}, ConfirmMsg{Request: req, Reply: reply})
	c.SetSize(100, 20)
	current = c
	typeIn(c, "INC-42")
	c.Update(kp("enter")) // on to the answer
	typeIn(c, "local-1/fin")
	if _, cmd := c.Update(kp("esc")); !popped(cmd) {
		t.Fatal("Esc did not close the modal")
	}
	got := <-reply
	if got != (spec.Confirmation{Answer: "local-1/fin", Reason: "INC-42", Cancelled: true}) {
		t.Fatalf("Esc sent %+v, want the cancellation with reason INC-42 and answer local-1/fin", got)
	}
}

// TestConfirmation_WordingAgrees: the modal states the Enter rule once, the
// same way, for both kinds of question; nothing says Enter cancels.
func TestConfirmation_WordingAgrees(t *testing.T) {
	for _, typed := range []bool{true, false} {
		c, _ := newConfirm(typed)
		v := ansi.Strip(c.View())
		if n := strings.Count(v, "Enter alone never confirms"); n != 1 || strings.Contains(v, "Enter alone cancels") {
			t.Errorf("typed=%v: the Enter rule is stated %d times (or says Enter cancels):\n%s", typed, n, v)
		}
		if !strings.Contains(v, "Esc cancels") {
			t.Errorf("typed=%v: the modal does not say Esc cancels:\n%s", typed, v)
		}
	}
}

func TestConfirmation_Golden(t *testing.T) {
	c, _ := newConfirm(true)
	typeIn(c, "local-1/fintech")
	got := ansi.Strip(c.View())
	path := filepath.Join("testdata", "confirm_100x20.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	want := string(b)
	if got != want {
		t.Errorf("confirm modal:\n%s", got)
	}
}

// eksContext is an EKS-style context name: an ARN of about 60 characters.
const eksContext = "arn:aws:eks:eu-west-1:123456789012:cluster/prod-payments-eu"

// TestConfirmation_LongContextNeverCut: at 80 columns with an EKS ARN as the context, the
// token to type and the context name are shown whole (wrapped, never cut with "…"), as is what
// has been typed; no line is wider than the terminal, and a preview taller than the room
// scrolls (↓) while the question stays on screen.
func TestConfirmation_LongContextNeverCut(t *testing.T) {
	var details []string
	for i := range 40 {
		details = append(details, fmt.Sprintf("diff line %d", i))
	}
	for _, size := range [][2]int{{80, 19}, {160, 40}} {
		width, height := size[0], size[1]
		reply := make(chan spec.Confirmation, 1)
		obj := spec.Object{Kind: "Deployment", Namespace: "fintech-prod", Name: "payment-service"}
		req := spec.ConfirmRequest{ActionID: "rollback", Title: "Roll back", Dangerous: true, Context: eksContext,
			Object: obj, Typed: true, Expect: obj.ConfirmText(eksContext), Why: "namespace fintech-prod is production",
			NeedReason: true, Preview: spec.Preview{Summary: "roll back to revision 2", Details: details}}
		c := NewConfirm(common.Common{Styles: theme.New(true), Keys: common.DefaultKeyMap()}, ConfirmMsg{Request: req, Reply: reply})
		c.SetSize(width, height)
		current = c
		typeIn(c, "INC-7")
		c.Update(kp("enter"))
		typeIn(c, req.Expect[:70])
		v := ansi.Strip(c.View())
		var joined strings.Builder
		for _, l := range strings.Split(v, "\n") {
			if w := ansi.StringWidth(l); w > width {
				t.Errorf("width %d: a line of %d cells: %q", width, w, l)
			}
			joined.WriteString(strings.Trim(l, "│┃ █"))
		}
		if n := strings.Count(v, "\n") + 1; n > height {
			t.Errorf("width %d: the modal is %d lines high, the room %d", width, n, height)
		}
		c.Update(tea.KeyPressMsg{Code: tea.KeyDown})
		if after := ansi.Strip(c.View()); after == v {
			t.Errorf("width %d: ↓ did not scroll the preview:\n%s", width, after)
		}
		for range 50 {
			c.Update(tea.KeyPressMsg{Code: tea.KeyDown})
		}
		if after := ansi.Strip(c.View()); !strings.Contains(after, "diff line 39") || !strings.Contains(after, "Type") {
			t.Errorf("width %d: the end of the preview cannot be reached with the question on screen:\n%s", width, after)
		}
		if strings.Contains(v, "…") {
			t.Errorf("width %d: something is cut:\n%s", width, v)
		}
		for _, want := range []string{"Type" + req.Expect + "to confirm", "in" + eksContext, ">" + req.Expect[:70]} {
			if !strings.Contains(strings.ReplaceAll(joined.String(), " ", ""), strings.ReplaceAll(want, " ", "")) {
				t.Errorf("width %d: %q is not shown whole:\n%s", width, want, v)
			}
		}
	}
}

// TestRevisionPickerKeepsDigestTail: the rollback picker's IMAGES column keeps the end of an
// image too long for it (the digest), so two revisions differing there read differently.
func TestRevisionPickerKeepsDigestTail(t *testing.T) {
	base := "registry.fintech.internal/fintech/payment-service@sha256:" + strings.Repeat("0", 63)
	svc := estate.Service{Namespace: "fintech-prod", Name: "payment-service", Revisions: []estate.Revision{
		{Number: 2, Images: []string{base + "a"}, Current: true}, {Number: 1, Images: []string{base + "b"}}}}
	p := revisionPicker(common.Common{Styles: theme.New(true), Keys: common.DefaultKeyMap()}, svc, time.Now(), "Roll back", func(int64) tea.Cmd { return nil })
	p.SetSize(120, 20)
	v := ansi.Strip(p.View())
	for _, want := range []string{"0000a ", "0000b "} {
		if !strings.Contains(v, want) {
			t.Errorf("the picker lacks the digest tail %q:\n%s", want, v)
		}
	}
}
