package logs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/theme"
)

// fakeStream is a LogsOpener over a buffer the test fills, recording the requests.
type fakeStream struct {
	buf     *estate.LogBuffer
	done    chan struct{}
	reqs    []common.LogsRequest
	err     error
	leftOut uint64
}

func (f *fakeStream) open(_ context.Context, req common.LogsRequest) (common.LogsFeed, error) {
	f.reqs = append(f.reqs, req)
	if f.err != nil {
		return common.LogsFeed{}, f.err
	}
	return common.LogsFeed{Buffer: f.buf, Done: f.done, Err: func() error { return nil }, LeftOut: func() uint64 { return f.leftOut }}, nil
}

func line(pod string, i int, text string) estate.LogLine {
	return estate.LogLine{Time: time.Unix(int64(1000+i), 0), Pod: pod, Container: "api-gateway", Kind: estate.LogText, Text: text}
}

func newView(t testing.TB, f *fakeStream, h int) *Model {
	t.Helper()
	c := common.Common{Styles: theme.New(true), Keys: common.DefaultKeyMap(), Width: 100, Height: h}
	m := New(c, f.open, "fintech-prod", "api-gateway", false)
	m.Update(run(t, m.Init()))
	return m
}

// run executes a command as the runtime would and returns its message.
func run(t testing.TB, cmd tea.Cmd) tea.Msg {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command")
	}
	return cmd()
}

// feed appends lines and delivers the view's wait.
func feed(t testing.TB, m *Model, lines ...estate.LogLine) {
	t.Helper()
	cmd := m.wait()
	m.feed.Buffer.Append(lines...)
	m.Update(run(t, cmd))
}

func press(m *Model, keys ...string) {
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "up":
			msg = tea.KeyPressMsg{Code: tea.KeyUp}
		default:
			msg = tea.KeyPressMsg{Code: rune(k[0]), Text: k}
		}
		m.Update(msg)
	}
}

func TestFollowSearchAndPrevious(t *testing.T) {
	f := &fakeStream{buf: estate.NewLogBuffer(100), done: make(chan struct{})}
	m := newView(t, f, 7) // 5 lines of body
	var lines []estate.LogLine
	for i := range 20 {
		text := fmt.Sprintf("status=200 n=%d", i)
		if i == 3 || i == 12 {
			text = fmt.Sprintf("status=500 n=%d", i)
		}
		lines = append(lines, line([]string{"api-gateway-78cd598dfd-5pns9", "api-gateway-78cd598dfd-gphll"}[i%2], i, text))
	}
	feed(t, m, lines...)
	if !m.Following() || m.Offset() != 15 {
		t.Fatalf("following %v at %d, want the last 5 of 20 lines (offset 15)", m.Following(), m.Offset())
	}
	view := ansi.Strip(m.View())
	if !strings.Contains(view, "[78cd598dfd-5pns9/api-gateway] status=200 n=18") || !strings.Contains(view, "[78cd598dfd-gphll/api-gateway] status=200 n=19") {
		t.Fatalf("the newest lines, tagged by pod, are not on screen:\n%s", view)
	}
	if !strings.Contains(view, "20 lines · buffer 20/100") {
		t.Errorf("header does not give the buffer's size:\n%s", view)
	}

	press(m, "/", "s", "t", "a", "t", "u", "s", "=", "5", "enter")
	if m.Following() || m.Offset() != 3 {
		t.Fatalf("search for status=500: following %v at %d, want paused at line 3", m.Following(), m.Offset())
	}
	press(m, "n")
	if m.Offset() != 12 {
		t.Errorf("n: at %d, want 12", m.Offset())
	}
	press(m, "n")
	if m.Offset() != 3 {
		t.Errorf("n wraps: at %d, want 3", m.Offset())
	}
	press(m, "N")
	if m.Offset() != 12 {
		t.Errorf("N: at %d, want 12", m.Offset())
	}
	// Paused: new lines do not move the view; f follows again.
	feed(t, m, line("api-gateway-78cd598dfd-5pns9", 20, "status=200 n=20"))
	if m.Offset() != 12 {
		t.Errorf("paused view moved to %d on new lines", m.Offset())
	}
	press(m, "f")
	if !m.Following() || m.Offset() != 16 {
		t.Errorf("f: following %v at %d, want the bottom (16)", m.Following(), m.Offset())
	}
	press(m, "up")
	if m.Following() {
		t.Error("scrolling up kept following")
	}

	pressOpen(t, m, 'p')
	if view := ansi.Strip(m.View()); !strings.Contains(view, "previous logs of fintech-prod/api-gateway") {
		t.Errorf("the previous view does not say so:\n%s", view)
	}
	if len(f.reqs) != 2 || !f.reqs[1].Previous || f.reqs[0].Previous {
		t.Fatalf("p did not reopen with previous: %+v", f.reqs)
	}
}

// pressOpen presses a key that reopens the stream and delivers the new stream to the view.
func pressOpen(t *testing.T, m *Model, k rune) {
	t.Helper()
	_, cmd := m.Update(tea.KeyPressMsg{Code: k, Text: string(k)})
	msgs := []tea.Msg{run(t, cmd)}
	if batch, ok := msgs[0].(tea.BatchMsg); ok {
		msgs = msgs[:0]
		for _, c := range batch {
			if c != nil {
				msgs = append(msgs, c())
			}
		}
	}
	for _, msg := range msgs {
		if _, ok := msg.(openedMsg); ok {
			m.Update(msg)
		}
	}
}

func TestSinceAndTimestamps(t *testing.T) {
	f := &fakeStream{buf: estate.NewLogBuffer(10), done: make(chan struct{})}
	m := newView(t, f, 8)
	feed(t, m, line("api-gateway-78cd598dfd-5pns9", 0, "n=0"))
	if view := ansi.Strip(m.View()); strings.Contains(view, "1970-01-01T00:16:40Z") {
		t.Fatalf("timestamps shown before t:\n%s", view)
	}
	press(m, "t")
	if view := ansi.Strip(m.View()); !strings.Contains(view, "1970-01-01T00:16:40Z [78cd598dfd-5pns9/api-gateway] n=0") {
		t.Errorf("t does not show the kubelet's timestamps:\n%s", view)
	}
	var got []time.Duration
	for range 4 {
		pressOpen(t, m, 's')
		got = append(got, f.reqs[len(f.reqs)-1].Since)
	}
	want := []time.Duration{time.Minute, 15 * time.Minute, time.Hour, 0}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("s reopened with since %v, want %v", got, want)
	}
	pressOpen(t, m, 's')
	if view := ansi.Strip(m.View()); !strings.Contains(view, "logs of fintech-prod/api-gateway since 1m") {
		t.Errorf("the header does not say since 1m:\n%s", view)
	}
}

func TestDroppedAndDisabled(t *testing.T) {
	f := &fakeStream{buf: estate.NewLogBuffer(10), done: make(chan struct{})}
	m := newView(t, f, 8)
	var lines []estate.LogLine
	for i := range 25 {
		lines = append(lines, line("api-gateway-78cd598dfd-5pns9", i, fmt.Sprintf("n=%d", i)))
	}
	feed(t, m, lines...)
	if view := ansi.Strip(m.View()); !strings.Contains(view, "10 lines · 15 dropped · buffer 10/10") {
		t.Errorf("a flood past the buffer should show 10 lines kept and 15 dropped:\n%s", view)
	}
	if view := ansi.Strip(m.View()); strings.Contains(view, "not kept") {
		t.Errorf("nothing of the backlog was left out, yet the header says so:\n%s", view)
	}
	// A backlog longer than the buffer: its oldest lines never reached it, and the header says so.
	long := &fakeStream{buf: estate.NewLogBuffer(10), done: make(chan struct{}), leftOut: 4990}
	m = newView(t, long, 8)
	feed(t, m, lines[:10]...)
	if view := ansi.Strip(m.View()); !strings.Contains(view, "4990 older lines not kept") || strings.Contains(view, "dropped") {
		t.Errorf("a backlog of 5000 lines in a buffer of 10 should say 4990 older lines not kept, none dropped:\n%s", view)
	}

	off := &fakeStream{err: errors.New("logs are disabled for context audit by contexts.audit.logs (/etc/vigil/config.yaml:7)")}
	m = newView(t, off, 8)
	if view := ansi.Strip(m.View()); !strings.Contains(view, "disabled for context audit by contexts.audit.logs") {
		t.Errorf("a disabled context does not say why:\n%s", view)
	}
}

// BenchmarkKeyToFrameUnderFlood: with the buffer full and 10,000 lines a second arriving
// (about 170 per 60 Hz frame), one keypress and the frame after it. Must stay far below 16 ms.
func BenchmarkKeyToFrameUnderFlood(b *testing.B) {
	f := &fakeStream{buf: estate.NewLogBuffer(20000), done: make(chan struct{})}
	m := newView(b, f, 50)
	var fill []estate.LogLine
	for i := range 20000 {
		fill = append(fill, line("api-gateway-78cd598dfd-5pns9", i, "level=info method=GET path=/api/v1/api-gateway/810 status=200 duration_ms=214"))
	}
	feed(b, m, fill...)
	batch := fill[:170]
	keys := []string{"up", "f", "n"}
	m.query = "status=500"
	b.ResetTimer()
	for i := range b.N {
		feed(b, m, batch...)
		press(m, keys[i%len(keys)])
		_ = m.View()
	}
}

// TestWrap: w breaks a line longer than the width into rows, every character of it on screen
// once, the continuation indented under the text; following still shows the newest line.
func TestWrap(t *testing.T) {
	f := &fakeStream{buf: estate.NewLogBuffer(100), done: make(chan struct{})}
	m := newView(t, f, 8)                    // 6 rows of body, 100 columns
	long := strings.Repeat("0123456789", 30) // 5 rows of 69 columns beside the tag
	feed(t, m, line("api-gateway-78cd598dfd-5pns9", 0, "first"), line("api-gateway-78cd598dfd-5pns9", 1, long), line("api-gateway-78cd598dfd-5pns9", 2, "last"))
	if view := ansi.Strip(m.View()); strings.Contains(view, long) || strings.Count(view, "0123456789") >= 30 {
		t.Fatalf("without wrap the long line should be cut:\n%s", view)
	}
	press(m, "w")
	view := ansi.Strip(m.View())
	tag := "[78cd598dfd-5pns9/api-gateway] "
	var got strings.Builder
	inLong := false
	for _, r := range strings.Split(view, "\n") {
		switch {
		case strings.HasPrefix(r, tag+"0123"):
			inLong = true
			got.WriteString(strings.TrimPrefix(r, tag))
		case inLong && strings.HasPrefix(r, strings.Repeat(" ", len(tag))):
			got.WriteString(strings.TrimSpace(r))
		default:
			inLong = false
		}
	}
	if got.String() != long {
		t.Fatalf("wrapped rows join to %q, want the whole line (%d chars):\n%s", got.String(), len(long), view)
	}
	if !strings.Contains(view, tag+"last") {
		t.Errorf("following with wrap does not show the newest line:\n%s", view)
	}
	if m.Offset() != 1 {
		t.Errorf("with wrap the bottom starts at line %d, want 1 (the long line's 5 rows and last fill the 6)", m.Offset())
	}
	press(m, "w")
	if view := ansi.Strip(m.View()); strings.Count(view, "0123456789") >= 30 {
		t.Errorf("w again does not cut:\n%s", view)
	}
}

// TestContainerPicker: c lists every container the stream showed; choosing one reopens the
// stream for it alone and the header says so; choosing all again reads every container.
func TestContainerPicker(t *testing.T) {
	f := &fakeStream{buf: estate.NewLogBuffer(100), done: make(chan struct{})}
	m := newView(t, f, 8)
	side := line("api-gateway-78cd598dfd-5pns9", 1, "envoy ready")
	side.Container = "istio-proxy"
	feed(t, m, line("api-gateway-78cd598dfd-5pns9", 0, "listening"), side)
	press(m, "c")
	if !m.Capturing() {
		t.Fatal("the picker does not capture keys")
	}
	view := ansi.Strip(m.View())
	if !strings.Contains(view, "[all containers]") || !strings.Contains(view, " api-gateway ") || !strings.Contains(view, " istio-proxy ") {
		t.Fatalf("the picker does not list all, api-gateway and istio-proxy:\n%s", view)
	}
	press(m, "j", "j")
	deliver(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	if m.Capturing() || len(f.reqs) != 2 || f.reqs[1].Container != "istio-proxy" {
		t.Fatalf("choosing istio-proxy: capturing %v, requests %+v", m.Capturing(), f.reqs)
	}
	if view := ansi.Strip(m.View()); !strings.Contains(view, "logs of fintech-prod/api-gateway container istio-proxy") {
		t.Errorf("the header does not name the container:\n%s", view)
	}
	press(m, "c")
	if view := ansi.Strip(m.View()); !strings.Contains(view, "[istio-proxy]") || !strings.Contains(view, " api-gateway ") {
		t.Fatalf("the picker forgot a container or does not start on the one read:\n%s", view)
	}
	press(m, "esc")
	if m.Capturing() || len(f.reqs) != 2 {
		t.Fatalf("esc in the picker: capturing %v, requests %d", m.Capturing(), len(f.reqs))
	}
	press(m, "c", "k", "k")
	deliver(t, m, tea.KeyPressMsg{Code: tea.KeyEnter})
	if len(f.reqs) != 3 || f.reqs[2].Container != "" {
		t.Fatalf("choosing all containers: requests %+v", f.reqs)
	}
}

// deliver sends msg and delivers a reopened stream, as pressOpen.
func deliver(t *testing.T, m *Model, msg tea.Msg) {
	t.Helper()
	_, cmd := m.Update(msg)
	if cmd == nil {
		return
	}
	out := cmd()
	if batch, ok := out.(tea.BatchMsg); ok {
		for _, c := range batch {
			if c != nil {
				if o, ok := c().(openedMsg); ok {
					m.Update(o)
				}
			}
		}
		return
	}
	if o, ok := out.(openedMsg); ok {
		m.Update(o)
	}
}
