package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
)

// apiWarnings receives the API server's Warning headers (deprecations, "would violate
// PodSecurity", ...) for every rest.Config ResolveConnection builds, in place of client-go's default
// handler, which prints a raw klog line to stderr (into the TUI's terminal, or as
// "I1201 04:29:37 … warnings.go:107]" noise in a headless command's output).
var apiWarnings = &warningSink{}

// SetWarnings says where API server warnings go: each is logged (log returns vigil's log; it is
// called on the first warning, so a command that meets none opens nothing; nil or a nil result
// logs nothing), and when out is not nil each distinct one is also printed once on out as
// "warning: <text>". Headless commands pass their stderr; the TUI passes nil, the terminal being
// its own. It also replaces client-go's process-wide default handler.
func SetWarnings(log func() *slog.Logger, out io.Writer) {
	apiWarnings.mu.Lock()
	apiWarnings.log, apiWarnings.logger, apiWarnings.out, apiWarnings.seen = log, nil, out, nil
	apiWarnings.mu.Unlock()
	rest.SetDefaultWarningHandlerWithContext(apiWarnings)
}

type warningSink struct {
	mu     sync.Mutex
	log    func() *slog.Logger
	logger *slog.Logger
	out    io.Writer
	seen   map[string]bool
}

// HandleWarningHeaderWithContext implements rest.WarningHandlerWithContext. As client-go's own
// handler, it considers code 299 only (the code of Kubernetes warnings).
func (w *warningSink) HandleWarningHeaderWithContext(_ context.Context, code int, _ string, text string) {
	if code != 299 || text == "" {
		return
	}
	text = strings.Join(strings.Fields(text), " ") // one line
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.logger == nil && w.log != nil {
		w.logger, w.log = w.log(), nil
	}
	if w.logger != nil {
		w.logger.Warn("api server warning", "warning", text)
	}
	if w.out == nil || w.seen[text] {
		return
	}
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	w.seen[text] = true
	_, _ = fmt.Fprintf(w.out, "warning: %s\n", text)
}
