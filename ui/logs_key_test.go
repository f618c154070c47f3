package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/logs"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// TestLogsKey: l on the Services screen opens the selected service's logs; in a detail view of
// a crash-looping service it opens the previous run's, the one that crashed; Esc comes back.
func TestLogsKey(t *testing.T) {
	var reqs []common.LogsRequest
	open := func(_ context.Context, req common.LogsRequest) (common.LogsFeed, error) {
		reqs = append(reqs, req)
		buf := estate.NewLogBuffer(10)
		buf.Append(estate.LogLine{Time: time.Unix(1000, 0), Pod: req.Service + "-7d9f", Container: req.Service, Text: "level=fatal msg=crashed"})
		done := make(chan struct{})
		close(done)
		return common.LogsFeed{Buffer: buf, Done: done, Err: func() error { return nil }}, nil
	}
	m := New(Options{
		Common: common.Common{Styles: theme.New(true), Keys: common.DefaultKeyMap()},
		Feed:   Feed{OnScreen: OnScreen{Context: "local-1", Generation: 2}, Logs: open},
		Now:    func() time.Time { return testNow },
	})
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	m.Update(SnapshotMsg{Snapshot: seedEstate(2)})
	s, _ := m.Services().Selected()
	run(m, press("l"))
	lv, ok := m.Top().(*logs.Model)
	if !ok {
		t.Fatalf("l opened %T, want the logs view", m.Top())
	}
	if len(reqs) != 1 || reqs[0].Namespace != s.Namespace || reqs[0].Service != s.Name {
		t.Fatalf("opened %+v, want the selected %s/%s", reqs, s.Namespace, s.Name)
	}
	if view := ansi.Strip(lv.View()); !strings.Contains(view, "level=fatal msg=crashed") {
		t.Errorf("the logs view does not show the stream:\n%s", view)
	}
	run(m, press("esc"))
	if _, ok := m.Top().(*logs.Model); ok {
		t.Fatal("esc did not close the logs view")
	}

	// The crash-looping notification-service, from its detail view: previous first.
	for i := 0; i < 10; i++ {
		if sel, _ := m.Services().Selected(); sel.Name == "notification-service" {
			break
		}
		m.Update(press("j"))
	}
	run(m, press("enter"))
	run(m, press("l"))
	if _, ok := m.Top().(*logs.Model); !ok || len(reqs) != 2 || reqs[1].Service != "notification-service" || !reqs[1].Previous {
		t.Fatalf("l in notification-service's detail: top %T, requests %+v, want its previous logs", m.Top(), reqs)
	}
}
