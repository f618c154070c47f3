package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// TestHeaderKeepsLongContext: with an EKS-style context name (an ARN of about 60 characters),
// the header's first line shows the whole name at 80 and 160 columns, and with --readonly the
// READ-ONLY badge beside it: the cluster, the user and the credentials warning give way first.
func TestHeaderKeepsLongContext(t *testing.T) {
	const eks = "arn:aws:eks:eu-west-1:123456789012:cluster/prod-payments-eu"
	for _, readOnly := range []bool{false, true} {
		for _, size := range [][2]int{{80, 24}, {160, 45}} {
			m := New(Options{Common: newTestModel(t, size[0], size[1]).common, Feed: Feed{
				OnScreen: OnScreen{Context: eks, Server: "https://ABCDEF0123456789.gr7.eu-west-1.eks.amazonaws.com", User: "arn:aws:iam::123456789012:user/alice"},
				ReadOnly: readOnly, WriteWarning: "credentials allow writes; read-only enforced by vigil"}})
			m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			head := strings.Split(screenText(m), "\n")[0]
			if w := ansi.StringWidth(head); w > size[0] {
				t.Errorf("%v: the header is %d cells wide", size, w)
			}
			if !strings.Contains(head, "ctx "+eks) {
				t.Errorf("%v readonly=%v: the context name is cut: %q", size, readOnly, head)
			}
			if readOnly && !strings.Contains(head, "READ-ONLY") {
				t.Errorf("%v: no READ-ONLY badge: %q", size, head)
			}
			if size[0] == 160 && !strings.Contains(head, "cluster ") {
				t.Errorf("%v: the cluster gave way though there is room: %q", size, head)
			}
			t.Logf("%v readonly=%v: %q", size, readOnly, head)
		}
	}
}

// TestHeaderSaysAnonymous: a context whose user the kubeconfig does not define connects as
// system:anonymous; the header does not show the missing user's name as if it logged in.
func TestHeaderSaysAnonymous(t *testing.T) {
	for _, anonymous := range []bool{false, true} {
		m := New(Options{Common: newTestModel(t, 120, 24).common, Feed: Feed{
			OnScreen: OnScreen{Context: "local-1-nobody", Server: "https://127.0.0.1:6443", User: "nobody", Anonymous: anonymous}}})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 24})
		head := strings.Split(screenText(m), "\n")[0]
		if said := strings.Contains(head, "user nobody (no credentials: anonymous)"); said != anonymous || !strings.Contains(head, "user nobody") {
			t.Errorf("anonymous %v: header %q", anonymous, head)
		}
	}
}

// TestHeaderSaysWhoActs: with --as (or a kubeconfig user's as:) the API server authorizes
// every request as the impersonated user; the header names both, and escapes both.
func TestHeaderSaysWhoActs(t *testing.T) {
	for _, as := range []string{"", "scoped", "evil\x1b[31m"} {
		m := New(Options{Common: newTestModel(t, 120, 24).common, Feed: Feed{
			OnScreen: OnScreen{Context: "local-1", Server: "https://127.0.0.1:6443", User: "local-1-admin", As: as}}})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 24})
		head := strings.Split(screenText(m), "\n")[0]
		want := "user local-1-admin"
		if as != "" {
			want += " as " + termsafe.Line(as)
		}
		if !strings.Contains(head, want) || (as == "" && strings.Contains(head, " as ")) {
			t.Errorf("as %q: header %q, want %q", as, head, want)
		}
	}
}
