package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

var (
	logMu   sync.Mutex
	logFile io.Writer = io.Discard
	// progress is the terminal's stderr; file descriptor 2 itself is pointed
	// at the log file so libraries that print there (the etcd client's zap
	// logger) do not flood the terminal.
	progress io.Writer = os.Stderr
)

// setupLogging sends klog (the apiserver's and controllers' chatter) to
// DIR/localcluster.log only; progress lines from logf go to stderr and to the
// same file.
func setupLogging(dir string) (func(), error) {
	path := filepath.Join(dir, "localcluster.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log file: %w", err)
	}
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	for k, v := range map[string]string{
		"logtostderr":     "false",
		"alsologtostderr": "false",
		"stderrthreshold": "FATAL",
		"v":               "0",
		"one_output":      "true",
	} {
		if err = fs.Set(k, v); err != nil {
			return nil, fmt.Errorf("klog flag %s: %w", k, err)
		}
	}
	klog.SetOutput(&lockedWriter{w: f})
	orig, err := syscall.Dup(2)
	if err != nil {
		return nil, fmt.Errorf("dup stderr: %w", err)
	}
	term := os.NewFile(uintptr(orig), "stderr")
	if err := syscall.Dup2(int(f.Fd()), 2); err != nil {
		return nil, fmt.Errorf("redirect stderr: %w", err)
	}
	progress = term
	// A crash must still reach the terminal, not only the log file.
	_ = debug.SetCrashOutput(term, debug.CrashOptions{})
	rest.SetDefaultWarningHandler(rest.NoWarnings{})
	logFile = f
	return func() { klog.Flush(); _ = f.Close() }, nil
}

// lockedWriter serialises klog and logf writes to the shared log file.
type lockedWriter struct{ w io.Writer }

func (l *lockedWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return l.w.Write(p)
}

// logf prints one progress line to stderr and the log file.
func logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	logMu.Lock()
	defer logMu.Unlock()
	fmt.Fprintln(progress, line)
	fmt.Fprintf(logFile, "%s localcluster: %s\n", time.Now().Format(time.RFC3339), line)
}

// quietLogger routes net/http server errors (TLS handshakes of probing
// clients and the like) to the log file rather than the terminal.
func quietLogger() *log.Logger {
	return log.New(&lockedWriter{w: writerFunc(func(p []byte) (int, error) { return logFile.Write(p) })}, "http: ", 0)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
