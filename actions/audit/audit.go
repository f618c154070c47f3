// Package audit is vigil's tamper-evident record of every guarded action: an append-only JSON
// Lines file in which each record carries the SHA-256 of the line before it, so an edited,
// deleted or reordered record breaks the chain and `vigil audit verify` names the first one.
//
// Writers in several processes share the file safely: it is opened O_APPEND, each append
// holds an exclusive flock(2) while it reads the last line, writes one line in a single
// write(2) and fsyncs. A process killed mid-write leaves at worst an incomplete last line.
// Verify reports it (the log cannot show what that record said), and the next Append repairs
// it and says so in its own record: a fragment is cut off and its sequence number skipped, a
// complete record that only lacks its newline gets it. A sequence number is never used twice.
//
// What a hash chain cannot show without an anchor outside the file: that records were cut
// from the end at a line boundary, or that the newest record was replaced wholesale. Verify
// therefore reports the head hash, for a reviewer to copy into a ticket or log shipper, and
// checks a head noted earlier (`vigil audit verify --head HASH`) is still in the chain.
//
// The state directory and the log are never followed through a symbolic link: a link there
// could send the records anywhere, or read someone else's file as the log.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Phase says which moment of an attempt a record describes.
type Phase string

const (
	// PhaseStarted is written, and fsynced, before an action touches the cluster.
	PhaseStarted Phase = "started"
	// PhaseFinished is written after the action and its verification, with the result.
	PhaseFinished Phase = "finished"
	// PhaseRefused is the single record of an attempt stopped before execution
	// (read-only, forbidden, a failed precondition, unconfirmed, busy).
	PhaseRefused Phase = "refused"
	// PhaseDryRun is the single record of an attempt that only previewed.
	PhaseDryRun Phase = "dry-run"
	// PhaseOutcome follows a finished record whose result is "requested" (an
	// Argo CD sync asks Argo CD's controller to run an operation): what
	// became of the operation, succeeded, failed, or unknown when no result
	// came in time.
	PhaseOutcome Phase = "outcome"
)

// Record is one line of the audit log.
type Record struct {
	// Seq numbers records from 1 in file order.
	Seq int64 `json:"seq"`
	// Time is when the record was written (UTC).
	Time time.Time `json:"time"`
	// Attempt ties the started and finished records of one attempt together.
	Attempt string `json:"attempt"`
	// Phase is started, finished, refused, dry-run or outcome.
	Phase Phase `json:"phase"`
	// User is the kube user as the API server sees it (SelfSubjectReview).
	User string `json:"user"`
	// Context and Server name the kube context and its API server.
	Context string `json:"context"`
	Server  string `json:"server,omitempty"`
	// Action is the action's ID (rollback, restart, scale, argo-sync, ...).
	Action string `json:"action"`
	// Target is the object acted on, e.g. deployment/fintech-prod/payment-service.
	Target string `json:"target"`
	// Params are the action's parameters (revision, replicas, duration ...).
	Params string `json:"params,omitempty"`
	// Reason is the operator's reason (ticket, incident).
	Reason string `json:"reason,omitempty"`
	// DryRun is the outcome of the server-side dry run.
	DryRun string `json:"dryRun,omitempty"`
	// Plan is what was previewed and confirmed, as executed (the revision, the matchers, the
	// Argo CD operation, the workloads restarted, what the plan was computed from).
	Plan []string `json:"plan,omitempty"`
	// Answer is what the server answered the change (finished records).
	Answer string `json:"answer,omitempty"`
	// Verified is what the verify step observed afterwards (finished records).
	Verified string `json:"verified,omitempty"`
	// Result is succeeded, failed, unknown (execute or verify ran out of time or was cancelled
	// after the request may have been sent: the change may have landed), requested (the
	// change asked a controller to run an operation; an outcome record follows with its
	// result), refused, cancelled (the operator cancelled the confirmation; Error says what
	// had been typed) or previewed; empty on a started record.
	Result string `json:"result,omitempty"`
	// Stage names the pipeline stage that refused or failed.
	Stage string `json:"stage,omitempty"`
	// Error is the error, if any.
	Error string `json:"error,omitempty"`
	// Repaired says that an incomplete line left by a killed writer was cut off before this record.
	Repaired string `json:"repaired,omitempty"`
	// Prev is the hex SHA-256 of the previous line's bytes (without its newline); empty for the first.
	Prev string `json:"prev"`
}

// DefaultPath is $XDG_STATE_HOME/vigil/audit.jsonl, ~/.local/state/vigil/audit.jsonl when
// XDG_STATE_HOME is unset. getenv is os.Getenv outside tests.
func DefaultPath(getenv func(string) string) (string, error) {
	base := getenv("XDG_STATE_HOME")
	if base == "" {
		home := getenv("HOME")
		if home == "" {
			return "", errors.New("audit log: neither XDG_STATE_HOME nor HOME is set; pass an explicit --audit-log path")
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "vigil", "audit.jsonl"), nil
}

// Log appends records to one audit file.
type Log struct {
	path string
	now  func() time.Time
}

// ErrSymlink is returned (wrapped) when the audit log or its directory is a symbolic link.
var ErrSymlink = errors.New("is a symbolic link, which vigil does not follow")

// Open returns the log at path, creating its directory (0700) if needed. The file itself is
// created on first append, mode 0600. The directory must not be a symbolic link.
func Open(path string) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit log directory %s: %w", filepath.Dir(path), err)
	}
	if err := CheckDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return &Log{path: path, now: time.Now}, nil
}

// CheckDir refuses a state directory (the audit log's, which also holds vigil.log) that is a
// symbolic link or not a directory, with a one-line error naming it and what to do.
func CheckDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("state directory %s: %w", dir, err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("state directory %s %w: replace it with a real directory (mode 0700)", dir, ErrSymlink)
	}
	if !fi.IsDir() {
		return fmt.Errorf("state directory %s is not a directory", dir)
	}
	return nil
}

// openNoFollow opens the log itself without following a symbolic link, and refuses anything
// but a regular file (a FIFO or device would block or lie).
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	if err := CheckDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, perm)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("audit log %s %w: remove the link; the log must be a regular file", path, ErrSymlink)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("audit log %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Path is the file's path.
func (l *Log) Path() string { return l.path }

// Append sets r's Seq, Time and Prev from the current tail, writes it as one line and fsyncs,
// all under an exclusive flock shared with other vigil processes. It returns the record as
// written. An incomplete last line left by an interrupted writer (or a truncation) is
// repaired first and the repair recorded in r.Repaired; see repairTail.
func (l *Log) Append(r Record) (Record, error) {
	f, err := openNoFollow(l.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return r, fmt.Errorf("audit log %s: %w", l.path, err)
	}
	defer f.Close()
	if err = flock(f); err != nil {
		return r, fmt.Errorf("audit log %s: lock: %w", l.path, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it anyway

	last, frag, err := tail(f)
	if err != nil {
		return r, fmt.Errorf("audit log %s: %w", l.path, err)
	}
	var prev *Record
	if last != nil {
		prev = &Record{}
		if err = json.Unmarshal(last, prev); err != nil {
			return r, fmt.Errorf("audit log %s: last record is not JSON (run `vigil audit verify`): %w", l.path, err)
		}
	}
	var lead []byte // written in front of the record, in the same write(2)
	if len(frag) > 0 {
		if last, prev, lead, r.Repaired, err = repairTail(f, last, prev, frag); err != nil {
			return r, fmt.Errorf("audit log %s: %w", l.path, err)
		}
	}
	r.Prev, r.Seq = "", 1
	if last != nil {
		r.Prev = lineHash(last)
		r.Seq = prev.Seq + 1
	}
	if r.Repaired != "" && lead == nil { // a fragment was cut: never reuse the number it had
		r.Seq = max(r.Seq, skippedSeq(frag)) + 1
	}
	r.Time = l.now().UTC()
	line, err := json.Marshal(r)
	if err != nil {
		return r, err
	}
	line = append(append(lead, line...), '\n')
	if _, err := f.Write(line); err != nil {
		return r, fmt.Errorf("audit log %s: write: %w", l.path, err)
	}
	if err := f.Sync(); err != nil {
		return r, fmt.Errorf("audit log %s: fsync: %w", l.path, err)
	}
	return r, nil
}

// repairTail deals with bytes after the last newline. A complete record that chains to the
// last line and only lacks its newline (a writer stopped between the two, or the newline was
// cut) is kept: lead is the newline to write before the next record, which then follows it.
// Anything else is a fragment of a record that was never completely written, or was cut: it
// is truncated away, and the next record skips the sequence number it had (at least one past
// the last complete record), so a number is never used twice. Either way the returned note
// says what was done, with the bytes' length and SHA-256.
func repairTail(f *os.File, last []byte, prev *Record, frag []byte) (newLast []byte, newPrev *Record, lead []byte, note string, err error) {
	var rec Record
	wantPrev, wantSeq := "", int64(1)
	if prev != nil {
		wantPrev, wantSeq = lineHash(last), prev.Seq+1
	}
	if json.Unmarshal(frag, &rec) == nil && rec.Prev == wantPrev && rec.Seq == wantSeq {
		return frag, &rec, []byte{'\n'}, fmt.Sprintf(
			"completed the line of record %d: it lacked its newline (an interrupted writer, or the file was cut)", rec.Seq), nil
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, nil, nil, "", err
	}
	if err = f.Truncate(size - int64(len(frag))); err != nil {
		return nil, nil, nil, "", fmt.Errorf("cutting an incomplete last line: %w", err)
	}
	skipped := max(wantSeq, skippedSeq(frag))
	return last, prev, nil, fmt.Sprintf(
		"cut an incomplete last line of %d bytes (sha256 %s) left by an interrupted writer or a truncation; its sequence number %d is skipped",
		len(frag), lineHash(frag), skipped), nil
}

// skippedSeq is the sequence number a record fragment claims ({"seq":N,... as json.Marshal
// writes a Record), 0 when it claims none.
func skippedSeq(frag []byte) int64 {
	rest, ok := bytes.CutPrefix(frag, []byte(`{"seq":`))
	if !ok {
		return 0
	}
	var n int64
	for _, c := range rest {
		if c < '0' || c > '9' || n > (1<<62)/10 {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// lineHash is the hex SHA-256 of a line's bytes without its newline: what the next record's
// Prev holds.
func lineHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// tail returns the last complete line (without newline) and, when the file does not end in a
// newline, the bytes after it.
func tail(f *os.File) (last, frag []byte, err error) {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil || size == 0 {
		return nil, nil, err
	}
	const chunk = 64 << 10
	var buf []byte
	for off := size; off > 0; {
		n := int64(chunk)
		if off < n {
			n = off
		}
		off -= n
		b := make([]byte, n)
		if _, err := f.ReadAt(b, off); err != nil {
			return nil, nil, err
		}
		buf = append(b, buf...)
		// We need the newline ending the last complete line and the one before it.
		if bytes.Count(buf, []byte{'\n'}) >= 2 || off == 0 {
			break
		}
	}
	end := bytes.LastIndexByte(buf, '\n')
	if end < 0 { // only a fragment
		return nil, buf, nil
	}
	frag = buf[end+1:]
	if len(frag) == 0 {
		frag = nil
	}
	start := bytes.LastIndexByte(buf[:end], '\n') + 1
	return buf[start:end], frag, nil
}
