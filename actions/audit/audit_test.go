package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeN(t *testing.T, path string, n int) *Log {
	t.Helper()
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		_, err := l.Append(Record{Attempt: fmt.Sprint("a", i), Phase: PhaseStarted, User: "admin", Context: "local-1",
			Action: "restart", Target: "deployment/fintech-prod/payment-service", Reason: "INC-1"})
		if err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func lines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte{'\n'})
}

func TestChainVerifies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil", "audit.jsonl")
	writeN(t, path, 5)
	rep, err := VerifyFile(path)
	if err != nil || !rep.OK() || rep.Records != 5 || rep.Head == "" {
		t.Fatalf("report %+v err %v", rep, err)
	}
	recs, _ := ReadFile(path)
	if recs[0].Prev != "" || recs[4].Seq != 5 || recs[1].Prev == "" {
		t.Fatalf("records %+v", recs)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestTamperingIsDetected(t *testing.T) {
	cases := []struct {
		name     string
		mutate   func(ls [][]byte) [][]byte
		wantLine int
		want     string
	}{
		{"edited reason", func(ls [][]byte) [][]byte {
			ls[2] = bytes.Replace(ls[2], []byte("INC-1"), []byte("INC-9"), 1)
			return ls
		}, 4, "line 3 was edited"},
		{"deleted record", func(ls [][]byte) [][]byte {
			return append(ls[:2:2], ls[3:]...)
		}, 3, "deleted or reordered"},
		{"reordered records", func(ls [][]byte) [][]byte {
			ls[1], ls[2] = ls[2], ls[1]
			return ls
		}, 2, "does not match line 1"},
		{"deleted first record", func(ls [][]byte) [][]byte { return ls[1:] }, 1, "records before it were deleted"},
		{"garbage line", func(ls [][]byte) [][]byte {
			ls[1] = []byte("{not json\n")
			return ls
		}, 2, "not a JSON record"},
		{"edited sequence number", func(ls [][]byte) [][]byte {
			ls[4] = bytes.Replace(ls[4], []byte(`"seq":5`), []byte(`"seq":7`), 1)
			return ls
		}, 5, "sequence number 7 follows 4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			writeN(t, path, 6)
			ls := tc.mutate(lines(t, path))
			if err := os.WriteFile(path, bytes.Join(ls, nil), 0o600); err != nil {
				t.Fatal(err)
			}
			rep, err := VerifyFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatalf("tampering not detected: %+v", rep)
			}
			if rep.Broken.Line != tc.wantLine || !strings.Contains(rep.Broken.Reason, tc.want) {
				t.Fatalf("broken = %v, want line %d containing %q", rep.Broken, tc.wantLine, tc.want)
			}
		})
	}
}

// TestIncompleteLastLineIsReportedAndRepaired: a fragment left by a writer killed mid-write
// is reported by Verify (what that record said is lost); the next append cuts it, says so,
// and skips the fragment's sequence number rather than reusing it.
func TestIncompleteLastLineIsReportedAndRepaired(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := writeN(t, path, 3)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":4,"time":"2026-11-26T18:00:00Z","attempt":"x","pha`)
	f.Close()
	rep, err := VerifyFile(path)
	if err != nil || rep.OK() || rep.Records != 3 || rep.IncompleteTail == 0 || !strings.Contains(rep.Problem(), "last line is incomplete") {
		t.Fatalf("incomplete tail: %+v %v", rep, err)
	}
	r, err := l.Append(Record{Attempt: "b", Phase: PhaseFinished, Action: "restart"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 5 || !strings.Contains(r.Repaired, "incomplete last line") || !strings.Contains(r.Repaired, "4 is skipped") {
		t.Fatalf("record after repair: %+v", r)
	}
	rep, _ = VerifyFile(path)
	if !rep.OK() || rep.Records != 4 || rep.IncompleteTail != 0 || len(rep.Repairs) != 1 || rep.Repairs[0].Seq != 5 {
		t.Fatalf("after repair: %+v", rep)
	}
}

// TestMissingNewlineIsReportedAndNoSeqReused is the report: with the final newline
// removed the log still verified, and the next append cut the last record and reused its
// sequence number. Now verify reports it, and the append keeps the record and goes on.
func TestMissingNewlineIsReportedAndNoSeqReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := writeN(t, path, 3)
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, bytes.TrimSuffix(b, []byte{'\n'}), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyFile(path)
	if err != nil || rep.OK() || rep.IncompleteTail == 0 {
		t.Fatalf("a log without its final newline verified: %+v %v", rep, err)
	}
	r, err := l.Append(Record{Attempt: "b", Phase: PhaseFinished, Action: "restart"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 4 || !strings.Contains(r.Repaired, "lacked its newline") {
		t.Fatalf("record after the cut newline: %+v", r)
	}
	recs, _ := ReadFile(path)
	seen := map[int64]bool{}
	for _, rec := range recs {
		if seen[rec.Seq] {
			t.Fatalf("sequence number %d used twice: %+v", rec.Seq, recs)
		}
		seen[rec.Seq] = true
	}
	rep, _ = VerifyFile(path)
	if !rep.OK() || rep.Records != 4 || len(recs) != 4 || recs[2].Attempt != "a2" {
		t.Fatalf("after repair: %+v, records %+v", rep, recs)
	}
}

// TestMissingLogIsReported: verifying a log that does not exist is not "valid and empty".
func TestMissingLogIsReported(t *testing.T) {
	_, err := VerifyFile(filepath.Join(t.TempDir(), "vigil", "audit.jsonl"))
	if !errors.Is(err, ErrNoLog) || !strings.Contains(err.Error(), "nothing to verify") {
		t.Fatalf("missing log: err %v, want ErrNoLog", err)
	}
}

// TestAnchoredHead: a head noted after record 3 still verifies after more appends; a log cut
// back to 2 records, or rewritten from record 2 on with a fresh, self-consistent chain (what
// an attacker with write access can do), no longer contains it.
func TestAnchoredHead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := writeN(t, path, 3)
	rep, err := VerifyFile(path)
	if err != nil || !rep.OK() || rep.HeadSeq != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	head := rep.Head
	for i := 0; i < 2; i++ {
		if _, err = l.Append(Record{Attempt: "later", Phase: PhaseStarted}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = VerifyFileAnchored(path, strings.ToUpper(head))
	if err != nil || !rep.OK() || rep.AnchorLine != 3 || rep.AnchorSeq != 3 || rep.Records != 5 {
		t.Fatalf("anchored at record 3: %+v %v", rep, err)
	}
	ls := lines(t, path)

	cut := filepath.Join(t.TempDir(), "audit.jsonl")
	if err = os.WriteFile(cut, bytes.Join(ls[:2], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	if rep, err = VerifyFileAnchored(cut, head); err != nil || rep.OK() || !strings.Contains(rep.Problem(), "anchored head") {
		t.Fatalf("a log cut before the anchor: %+v %v", rep, err)
	}
	if rep, _ = VerifyFile(cut); !rep.OK() {
		t.Fatalf("the control: the cut log verifies without an anchor: %+v", rep)
	}

	// Rewrite record 2's reason and re-chain everything after it.
	forged := filepath.Join(t.TempDir(), "audit.jsonl")
	fl, err := Open(forged)
	if err != nil {
		t.Fatal(err)
	}
	for i, raw := range ls[:5] {
		var rec Record
		if err = json.Unmarshal(raw, &rec); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			rec.Reason = "routine"
		}
		if _, err = fl.Append(rec); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err = VerifyFileAnchored(forged, head); err != nil || rep.OK() || rep.AnchorLine != 0 {
		t.Fatalf("a rewritten chain: %+v %v", rep, err)
	}
	if rep, _ = VerifyFile(forged); !rep.OK() || rep.Records != 5 {
		t.Fatalf("the control: the forged chain is self-consistent: %+v", rep)
	}
}

// TestSymlinksAreRefused: neither the state directory nor the log is followed through a
// symbolic link, for writing or for reading.
func TestSymlinksAreRefused(t *testing.T) {
	base := t.TempDir()
	elsewhere := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(elsewhere, 0o700); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(base, "state")
	if err := os.Symlink(elsewhere, state); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(state, "audit.jsonl")); !errors.Is(err, ErrSymlink) {
		t.Fatalf("Open through a symlinked directory: %v", err)
	}
	if _, err := VerifyFile(filepath.Join(state, "audit.jsonl")); !errors.Is(err, ErrSymlink) {
		t.Fatalf("VerifyFile through a symlinked directory: %v", err)
	}

	dir := filepath.Join(base, "vigil")
	writeN(t, filepath.Join(elsewhere, "real.jsonl"), 2)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "audit.jsonl")
	if err := os.Symlink(filepath.Join(elsewhere, "real.jsonl"), link); err != nil {
		t.Fatal(err)
	}
	l, err := Open(link)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = l.Append(Record{Attempt: "x"}); !errors.Is(err, ErrSymlink) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Append to a symlinked log: %v", err)
	}
	if _, err = VerifyFile(link); !errors.Is(err, ErrSymlink) {
		t.Fatalf("VerifyFile of a symlinked log: %v", err)
	}
	if _, err = ReadFile(link); !errors.Is(err, ErrSymlink) {
		t.Fatalf("ReadFile of a symlinked log: %v", err)
	}
	if recs, _ := ReadFile(filepath.Join(elsewhere, "real.jsonl")); len(recs) != 2 {
		t.Fatalf("the link's target was written: %d records", len(recs))
	}
}

// TestKillDuringBurst re-executes the test binary as writers that append records in a loop,
// SIGKILLs them mid-burst and verifies the log: every complete record must chain. Every round
// must add records from both writers (each round after the first starts on the tail the last
// kill left, so a writer that cannot continue a killed log fails here), and every writer must
// have been running when it was killed, not have exited on its own.
func TestKillDuringBurst(t *testing.T) {
	if p := os.Getenv("VIGIL_AUDIT_WRITER"); p != "" {
		l, err := Open(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for i := 0; ; i++ {
			if _, err := l.Append(Record{Attempt: fmt.Sprint(os.Getpid(), "-", i), Phase: PhaseStarted,
				Action: "scale", Target: "deployment/fintech-prod/api-gateway", Params: strings.Repeat("x", i%300)}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	// writers counts, per writer pid, the complete records in the log.
	writers := func() map[string]int {
		recs, _ := ReadFile(path)
		n := map[string]int{}
		for _, r := range recs {
			if pid, _, ok := strings.Cut(r.Attempt, "-"); ok {
				n[pid]++
			}
		}
		return n
	}
	before := 0
	for round := 0; round < 3; round++ {
		var kids []*exec.Cmd
		var stderrs []*bytes.Buffer
		for i := 0; i < 2; i++ { // two processes: the flock keeps one chain
			cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringBurst$")
			cmd.Env = append(os.Environ(), "VIGIL_AUDIT_WRITER="+path)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			kids = append(kids, cmd)
			stderrs = append(stderrs, &stderr)
		}
		// Kill mid-burst: only once both writers have appended (or the deadline passes, which
		// the checks below then report), and then after a while longer.
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			n := writers()
			if n[fmt.Sprint(kids[0].Process.Pid)] > 0 && n[fmt.Sprint(kids[1].Process.Pid)] > 0 {
				break
			}
		}
		time.Sleep(time.Duration(150+100*round) * time.Millisecond)
		for i, k := range kids {
			_ = k.Process.Signal(syscall.SIGKILL)
			err := k.Wait()
			var ee *exec.ExitError
			ws, ok := k.ProcessState.Sys().(syscall.WaitStatus)
			if !errors.As(err, &ee) || !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("round %d: writer %d ended by itself before the kill (%v), stderr: %s",
					round, i, err, stderrs[i])
			}
		}
		rep, err := VerifyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Broken != nil { // an incomplete last line is expected: Verify reports it, the next append repairs it
			t.Fatalf("round %d: chain broken after kill -9: %v", round, rep.Broken)
		}
		if rep.Records <= before {
			t.Fatalf("round %d: the writers added nothing (%d records before, %d after)", round, before, rep.Records)
		}
		n := writers()
		for i, k := range kids {
			if n[fmt.Sprint(k.Process.Pid)] == 0 {
				t.Fatalf("round %d: writer %d (pid %d) appended no record; stderr: %s", round, i, k.Process.Pid, stderrs[i])
			}
		}
		t.Logf("round %d: %d records verify (%d new), incomplete tail %d bytes", round, rep.Records, rep.Records-before, rep.IncompleteTail)
		before = rep.Records
	}
	// One more append repairs whatever the last kill left; then the whole log verifies and no
	// sequence number appears twice.
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = l.Append(Record{Attempt: "after", Phase: PhaseStarted}); err != nil {
		t.Fatal(err)
	}
	if rep, err := VerifyFile(path); err != nil || !rep.OK() {
		t.Fatalf("after the last kill and one append: %s %v", rep.Problem(), err)
	}
	recs, _ := ReadFile(path)
	seen := map[int64]bool{}
	for _, r := range recs {
		if seen[r.Seq] {
			t.Fatalf("sequence number %d used twice", r.Seq)
		}
		seen[r.Seq] = true
	}
}

func TestDefaultPath(t *testing.T) {
	env := map[string]string{"HOME": "/home/oncall"}
	p, _ := DefaultPath(func(k string) string { return env[k] })
	if p != "/home/oncall/.local/state/vigil/audit.jsonl" {
		t.Errorf("default path %s", p)
	}
	env["XDG_STATE_HOME"] = "/state"
	p, _ = DefaultPath(func(k string) string { return env[k] })
	if p != "/state/vigil/audit.jsonl" {
		t.Errorf("XDG path %s", p)
	}
}
