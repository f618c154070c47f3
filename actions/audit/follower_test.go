package audit

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestFollowerEqualsWholeVerification (optimised == plain): after every step of a random
// history of appends (single and several at once), interrupted writes (a fragment at the
// tail, repaired by the next append) and reads, the follower's incremental report and records
// equal VerifyFile and ReadFile of the whole file.
func TestFollowerEqualsWholeVerification(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 9))
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		l, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		fl := NewFollower(path)
		incremental := 0
		for step := range 40 {
			switch rng.IntN(5) {
			case 0: // an interrupted write: half a line at the tail
				f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
				_, _ = f.WriteString(`{"seq":99,"time":"2026-12`)
				_ = f.Close()
			default:
				for range 1 + rng.IntN(3) {
					if _, err := l.Append(Record{Time: time.Date(2026, 12, 2, 8, 0, step, 0, time.UTC), Phase: PhaseStarted, Action: "restart", Target: fmt.Sprint("deployment/ns/x", step)}); err != nil {
						t.Fatal(err)
					}
				}
			}
			rep, recs, inc, err := fl.Read(false)
			if err != nil {
				t.Fatal(err)
			}
			if inc {
				incremental++
			}
			want, err := VerifyFile(path)
			if err != nil {
				t.Fatal(err)
			}
			wantRecs, _ := ReadFile(path)
			if !reflect.DeepEqual(rep, want) {
				t.Fatalf("seed %d step %d: follower %+v, whole file %+v", seed, step, rep, want)
			}
			if len(recs) != len(wantRecs) || (len(recs) > 0 && !reflect.DeepEqual(recs, wantRecs)) {
				t.Fatalf("seed %d step %d: %d records followed, %d in the file", seed, step, len(recs), len(wantRecs))
			}
		}
		if incremental < 30 {
			t.Errorf("seed %d: only %d of 40 reads were incremental", seed, incremental)
		}
	}
}

// TestFollowerSeesTheFileChange: an edit of the last verified record, a cut, and a file
// replaced by another are each seen by the next incremental Read (which verifies the whole
// file again); an edit further back is seen by a full Read.
func TestFollowerSeesTheFileChange(t *testing.T) {
	setup := func(t *testing.T) (string, *Follower) {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		l, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, err := l.Append(Record{Phase: PhaseStarted, Action: "scale", Target: fmt.Sprint("deployment/ns/d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		fl := NewFollower(path)
		if rep, _, _, err := fl.Read(false); err != nil || !rep.OK() || rep.Records != 5 {
			t.Fatalf("first read: %+v %v", rep, err)
		}
		return path, fl
	}
	rewrite := func(t *testing.T, path string, edit func([]byte) []byte) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, edit(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("last record edited", func(t *testing.T) {
		path, fl := setup(t)
		rewrite(t, path, func(b []byte) []byte {
			return bytes.Replace(b, []byte("deployment/ns/d4"), []byte("deployment/ns/XX"), 1)
		})
		rep, _, inc, _ := fl.Read(false)
		// The last line's hash is the head: nothing after it says it changed, but the
		// follower no longer finds its head, verifies all, and reports the new head.
		if inc || rep.Records != 5 || rep.Head == "" {
			t.Fatalf("incremental=%v %+v; want a whole verification", inc, rep)
		}
	})
	t.Run("cut", func(t *testing.T) {
		path, fl := setup(t)
		rewrite(t, path, func(b []byte) []byte { return b[:bytes.LastIndexByte(b[:len(b)-1], '\n')+1] })
		rep, _, inc, _ := fl.Read(false)
		if inc || rep.Records != 4 {
			t.Fatalf("incremental=%v records=%d; want 4 from a whole verification", inc, rep.Records)
		}
	})
	t.Run("replaced", func(t *testing.T) {
		path, fl := setup(t)
		other := filepath.Join(filepath.Dir(path), "other.jsonl")
		b, _ := os.ReadFile(path)
		_ = os.WriteFile(other, b, 0o600)
		if err := os.Rename(other, path); err != nil {
			t.Fatal(err)
		}
		if _, _, inc, _ := fl.Read(false); inc {
			t.Fatal("a replaced file was read incrementally")
		}
	})
	t.Run("earlier record edited", func(t *testing.T) {
		path, fl := setup(t)
		rewrite(t, path, func(b []byte) []byte {
			return bytes.Replace(b, []byte("deployment/ns/d1"), []byte("deployment/ns/XX"), 1)
		})
		if rep, _, _, _ := fl.Read(true); rep.Broken == nil || rep.Broken.Line != 3 {
			t.Fatalf("full read after an edit of line 2: %+v; want broken at line 3", rep)
		}
	})
}
