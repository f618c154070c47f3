package actionsui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// TestDisabledReasonShownWhole: Enter on a disabled action says why in
// full, however narrow the dialog: the item's line cuts the reason, the
// note under the items may not (the user has nowhere else to read it).
func TestDisabledReasonShownWhole(t *testing.T) {
	why := "Argo CD app fintech-app (automated (prune, selfHeal)): self-heal will restore " +
		"image registry.fintech.internal/fintech/payment-service:v1.2.3 within 3m0s; roll back in Git, " +
		"or use Emergency rollback, which suspends self-heal first"
	items := []Item{{ID: "restart", Title: "Restart"}, {ID: "rollback", Title: "Roll back…", Disabled: why}}
	for _, width := range []int{60, 120, 200} {
		m := NewMenu(common.Common{Styles: theme.New(true), Keys: common.DefaultKeyMap()}, "fintech-prod/payment-service", "k", items, nil, true, nil)
		m.SetSize(width, 30)
		m.Update(kp("j"))
		m.Update(kp("enter"))
		view := ansi.Strip(m.View())
		var said []string
		for _, l := range strings.Split(view, "\n") {
			said = append(said, strings.Trim(l, "│┌┐└┘╭╮╰╯─ "))
		}
		// Compared without spaces: the wrap may break a long word after a "/".
		bare := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if !strings.Contains(bare(strings.Join(said, " ")), bare("Roll back… is disabled: "+why)) {
			t.Errorf("width %d: the dialog does not say the whole reason %q:\n%s", width, why, view)
		}
		for _, l := range strings.Split(view, "\n") {
			if ansi.StringWidth(l) > width {
				t.Errorf("width %d: a line of %d cells: %q", width, ansi.StringWidth(l), l)
			}
		}
	}
}
