package cmd

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// fleetProgress is the line `vigil check --all-contexts` keeps on a terminal while it runs:
// how many contexts are done and which are still being read, the longest wait first, redrawn
// every second and erased before anything else is written. An unreachable context can hold
// the run for its whole --timeout; this says which one, and for how long so far. A nil
// *fleetProgress draws nothing (stderr is not a terminal: a pipe, a CI log).
type fleetProgress struct {
	w       io.Writer
	total   int
	now     func() time.Time
	mu      sync.Mutex
	done    int
	reading map[string]time.Time // context → when its reading began
	single  bool                 // one context, not a fleet: startCheckProgress
	shown   bool                 // the line is on the terminal (false once erased for good: above writes through)
	stop    chan struct{}
	stopped chan struct{}
}

// progressShown is how many contexts the line names at most; the rest are counted.
const progressShown = 3

// fleetProgressTo is where --all-contexts draws its progress: o.progressOut when set (tests),
// else the terminal o.ErrOut writes to, past its escaping writer (the line's text is escaped
// by line, its cursor controls are the only raw bytes), else nowhere.
func (o *CheckOptions) fleetProgressTo() io.Writer {
	if o.progressOut != nil {
		return o.progressOut
	}
	w := o.ErrOut
	if u, ok := w.(interface{ Unwrap() io.Writer }); ok {
		w = u.Unwrap()
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return f
	}
	return nil
}

// startFleetProgress draws on w (nil: nothing) for total contexts, redrawing every tick.
func startFleetProgress(w io.Writer, total int, tick time.Duration, now func() time.Time) *fleetProgress {
	if w == nil {
		return nil
	}
	p := newFleetProgress(w, total, now)
	p.run(tick)
	return p
}

func newFleetProgress(w io.Writer, total int, now func() time.Time) *fleetProgress {
	return &fleetProgress{w: w, total: total, now: now, reading: map[string]time.Time{},
		stop: make(chan struct{}), stopped: make(chan struct{})}
}

// run redraws the line every tick until close.
func (p *fleetProgress) run(tick time.Duration) {
	go func() {
		defer close(p.stopped)
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				p.draw()
				p.mu.Unlock()
			}
		}
	}()
}

// startCheckProgress draws on w (nil: nothing) while `vigil check` reads the one context
// name: "vigil check: reading local-1 (4s)", first drawn at the first tick, so a check that
// answers within it draws nothing.
func startCheckProgress(w io.Writer, name string, tick time.Duration, now func() time.Time) *fleetProgress {
	if w == nil {
		return nil
	}
	p := newFleetProgress(w, 1, now)
	p.single = true
	// Before the ticker starts: its first tick then finds the reading a whole tick old, never
	// "(0s)" a second in.
	p.reading[name] = now()
	p.run(tick)
	return p
}

// begin says the reading of context name has begun.
func (p *fleetProgress) begin(name string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reading[name] = p.now()
	p.draw()
}

// end says context name is done, evaluated or not.
func (p *fleetProgress) end(name string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.reading, name)
	p.done++
	p.draw()
}

// close stops the redrawing and erases the line.
func (p *fleetProgress) close() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.stopped
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// above returns a writer for what is said while the line is up (API server warnings): the
// line is erased, the text written to w (whole lines), and the line drawn again below it.
func (p *fleetProgress) above(w io.Writer) io.Writer {
	return writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.shown {
			return w.Write(b)
		}
		fmt.Fprint(p.w, "\r\x1b[K")
		n, err := w.Write(b)
		p.draw()
		return n, err
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// draw rewrites the line in place; p.mu is held.
func (p *fleetProgress) draw() {
	fmt.Fprint(p.w, "\r\x1b[K"+p.line())
	p.shown = true
}

// line is the progress line, e.g. "vigil check: 13 of 16 contexts done; reading prod-eu
// (12s), staging (2s), +1 more". p.mu is held.
func (p *fleetProgress) line() string {
	s := fmt.Sprintf("vigil check: %d of %d contexts done", p.done, p.total)
	if p.single {
		s = "vigil check"
	}
	if len(p.reading) == 0 {
		return s
	}
	type wait struct {
		name  string
		since time.Time
	}
	waits := make([]wait, 0, len(p.reading))
	for name, since := range p.reading {
		waits = append(waits, wait{name, since})
	}
	slices.SortFunc(waits, func(a, b wait) int { return cmp.Or(a.since.Compare(b.since), strings.Compare(a.name, b.name)) })
	now := p.now()
	var names []string
	for _, w := range waits[:min(len(waits), progressShown)] {
		// Rounded, not floored: the ticks are not aligned with a context's start, and a
		// context begun just after the ticker would read "0s, 0s, 2s, 2s, 4s" at 1 s ticks.
		secs := int(now.Sub(w.since).Round(time.Second) / time.Second)
		names = append(names, fmt.Sprintf("%s (%ds)", termsafe.Line(truncateName(w.name, 40)), secs))
	}
	if rest := len(waits) - progressShown; rest > 0 {
		names = append(names, fmt.Sprintf("+%d more", rest))
	}
	if p.single {
		return s + ": reading " + strings.Join(names, ", ")
	}
	return s + "; reading " + strings.Join(names, ", ")
}

// truncateName keeps a context's name to n runes, marking the cut.
func truncateName(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
