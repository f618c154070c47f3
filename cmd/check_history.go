package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/vigil-k8s/vigil/checks/attest"
	"github.com/vigil-k8s/vigil/checks/history"
	"github.com/vigil-k8s/vigil/checks/report"
	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// HistoryDir is the history's directory under the state directory: one
// <context>.jsonl per kube context (named as attestations' directories are).
const HistoryDir = "history"

// historyPath is the history file of a kube context.
func historyPath(getenv func(string) string, kubeContext string) (string, error) {
	dir, err := attest.StateDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, HistoryDir, attest.ContextDir(kubeContext)+".jsonl"), nil
}

// recordHistory lays the drift since --since over rep and appends this evaluation to the
// context's history (unless --no-history). A history that cannot be written is a warning
// (none when there is no state directory at all): the report stands without it. One that cannot be read, or holds nothing as old as
// --since, is an error of --since.
func (o *CheckOptions) recordHistory(rep *report.Report, at time.Time) error {
	if o.getenv == nil {
		return nil
	}
	kubeContext := kubeContextName(o.ConfigFlags)
	entry := history.Summarize(kubeContext, at, rep.Findings, rep.Items, rep.Score)
	entry.Scope = o.scope
	path, err := historyPath(o.getenv, kubeContext)
	if err != nil {
		if o.Since != "" {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--since: no state directory: %w", err)}
		}
		return nil // no home to record in (a bare CI environment): nothing is said
	}
	if o.Since != "" {
		since, _ := parseSince(o.Since, at) // Validate parsed it
		then, err := historyAt(path, since, entry)
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--since %s: %w", o.Since, err)}
		}
		d := history.Between(then, entry)
		rep.Drift = &d
	}
	if o.Output == report.HTML {
		// The HTML report draws the trend: the runs of this scope recorded so far and this one.
		past, err := readHistory(path)
		if err != nil {
			fmt.Fprintf(o.ErrOut, "vigil check: history not drawn: %v\n", err)
		}
		rep.History = append(history.Like(past, entry), entry)
	}
	if o.NoHistory {
		return nil
	}
	if err := appendHistory(path, entry); err != nil {
		fmt.Fprintf(o.ErrOut, "vigil check: history not recorded: %v\n", err)
	}
	return nil
}

// readHistory is every entry of the history at path, oldest first; none when there is
// no file yet.
func readHistory(path string) ([]history.Entry, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, _, err := history.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	slices.SortStableFunc(entries, func(a, b history.Entry) int { return a.Time.Compare(b.Time) })
	return entries, nil
}

// historyAt is the last entry of the history at path recorded at or before t of the
// same scope as now (history.Comparable).
func historyAt(path string, t time.Time, now history.Entry) (history.Entry, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return history.Entry{}, fmt.Errorf("no evaluation recorded yet (%s): run vigil check first", path)
	}
	if err != nil {
		return history.Entry{}, err
	}
	defer f.Close()
	entries, _, err := history.Read(f)
	if err != nil {
		return history.Entry{}, fmt.Errorf("%s: %w", path, err)
	}
	e, ok := history.At(history.Like(entries, now), t)
	if ok {
		return e, nil
	}
	if other, found := history.At(entries, t); found {
		// Recorded, but of other namespaces or by another identity: what differs is what
		// each could read, not what changed.
		return history.Entry{}, fmt.Errorf("no evaluation of the same scope recorded at or before %s: this run evaluates %s; the last one recorded then (%s) evaluated %s",
			t.Format(time.RFC3339), termsafe.Line(now.Scope.String()), other.Time.Format(time.RFC3339), termsafe.Line(other.Scope.String()))
	}
	first := "none"
	if len(entries) > 0 {
		first = entries[0].Time.Format(time.RFC3339)
	}
	return history.Entry{}, fmt.Errorf("no evaluation recorded at or before %s (the first: %s)", t.Format(time.RFC3339), first)
}

// appendHistory appends one entry to the history at path, creating it (0600) and its
// directory (0700).
func appendHistory(path string, e history.Entry) error {
	line, err := history.Line(e)
	if err != nil {
		return err
	}
	if err = os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.Write(line); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// parseSince reads --since: RFC 3339, a date (its start, UTC), or a duration back from now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, errors.New("want RFC 3339 (2026-12-01T09:00:00Z), a date (2026-12-01) or a duration back from now (24h)")
}
