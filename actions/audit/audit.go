// Package audit is vigil's tamper-evident record of every guarded action: an append-only JSON
// Lines file in which each record carries the SHA-256 of the line before it, so an edited,
// deleted or reordered record breaks the chain and `vigil audit verify` names the first one.
//
// Writers in several processes share the file safely: it is opened O_APPEND, each append
// holds an exclusive flock(2) while it reads the last line, writes one line in a single
// write(2) and fsyncs. A process killed mid-write leaves at worst an incomplete last line,
// which Verify tolerates and the next Append cuts off (saying so in its record).
//
// What a hash chain cannot show without an anchor outside the file: that records were cut
// from the end at a line boundary, or that the newest record was replaced wholesale. Verify
// therefore reports the head hash, for a reviewer to copy into a ticket or log shipper.
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
)

// Record is one line of the audit log.
type Record struct {
	// Seq numbers records from 1 in file order.
	Seq int64 `json:"seq"`
	// Time is when the record was written (UTC).
	Time time.Time `json:"time"`
	// Attempt ties the started and finished records of one attempt together.
	Attempt string `json:"attempt"`
	// Phase is started, finished, refused or dry-run.
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
	// Result is succeeded, failed, refused or previewed; empty on a started record.
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

// Open returns the log at path, creating its directory (0700) if needed. The file itself is
// created on first append, mode 0600.
func Open(path string) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit log directory %s: %w", filepath.Dir(path), err)
	}
	return &Log{path: path, now: time.Now}, nil
}

// Path is the file's path.
func (l *Log) Path() string { return l.path }

// Append sets r's Seq, Time and Prev from the current tail, writes it as one line and fsyncs,
// all under an exclusive flock shared with other vigil processes. It returns the record as
// written.
func (l *Log) Append(r Record) (Record, error) {
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return r, fmt.Errorf("audit log %s: %w", l.path, err)
	}
	defer f.Close()
	if err = flock(f); err != nil {
		return r, fmt.Errorf("audit log %s: lock: %w", l.path, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it anyway

	last, cut, err := tail(f)
	if err != nil {
		return r, fmt.Errorf("audit log %s: %w", l.path, err)
	}
	if cut > 0 {
		// A writer died mid-line. Drop the fragment so the chain continues from the last
		// complete record, and say so in this record.
		var size int64
		if size, err = f.Seek(0, io.SeekEnd); err != nil {
			return r, err
		}
		if err = f.Truncate(size - cut); err != nil {
			return r, fmt.Errorf("audit log %s: cutting an incomplete last line: %w", l.path, err)
		}
		r.Repaired = fmt.Sprintf("cut an incomplete last line of %d bytes left by an interrupted writer", cut)
	}
	r.Prev, r.Seq = "", 1
	if last != nil {
		sum := sha256.Sum256(last)
		r.Prev = hex.EncodeToString(sum[:])
		var prev Record
		if err = json.Unmarshal(last, &prev); err != nil {
			return r, fmt.Errorf("audit log %s: last record is not JSON (run `vigil audit verify`): %w", l.path, err)
		}
		r.Seq = prev.Seq + 1
	}
	r.Time = l.now().UTC()
	line, err := json.Marshal(r)
	if err != nil {
		return r, err
	}
	line = append(line, '\n')
	if _, err := f.Write(line); err != nil {
		return r, fmt.Errorf("audit log %s: write: %w", l.path, err)
	}
	if err := f.Sync(); err != nil {
		return r, fmt.Errorf("audit log %s: fsync: %w", l.path, err)
	}
	return r, nil
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
// newline, the length of the incomplete fragment after it.
func tail(f *os.File) (last []byte, cut int64, err error) {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil || size == 0 {
		return nil, 0, err
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
			return nil, 0, err
		}
		buf = append(b, buf...)
		// We need the newline ending the last complete line and the one before it.
		if bytes.Count(buf, []byte{'\n'}) >= 2 || off == 0 {
			break
		}
	}
	end := bytes.LastIndexByte(buf, '\n')
	if end < 0 { // only a fragment
		return nil, int64(len(buf)), nil
	}
	cut = int64(len(buf) - end - 1)
	start := bytes.LastIndexByte(buf[:end], '\n') + 1
	return buf[start:end], cut, nil
}
