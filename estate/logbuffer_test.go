package estate

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestLogBufferAgainstAPlainModel: for seeded random sequences of appends and reads, the ring
// buffer returns what a plain unbounded list with a cursor returns, minus exactly the lines
// overwritten before they were read, which it counts as dropped; it never holds more than its
// capacity.
func TestLogBufferAgainstAPlainModel(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		capacity := 1 + rng.IntN(20)
		b := NewLogBuffer(capacity)
		var all []string // every line appended, in order
		cursor := 0      // the model reader's position in all
		var dropped uint64
		for range 60 {
			if rng.IntN(3) > 0 {
				n := rng.IntN(2 * capacity)
				batch := make([]LogLine, n)
				for i := range batch {
					batch[i] = LogLine{Text: strconv.Itoa(len(all))}
					all = append(all, batch[i].Text)
				}
				b.Append(batch...)
				// The model: what is no longer among the last capacity lines
				// and was not read is lost.
				if oldest := len(all) - capacity; oldest > cursor {
					dropped += uint64(oldest - cursor)
					cursor = oldest
				}
				continue
			}
			limit := rng.IntN(capacity + 2)
			got := b.ReadNew(limit)
			want := all[cursor:]
			if limit > 0 && len(want) > limit {
				want = want[:limit]
			}
			cursor += len(want)
			if len(got) != len(want) {
				t.Fatalf("seed %d: read %d lines, want %d", seed, len(got), len(want))
			}
			for i := range got {
				if got[i].Text != want[i] {
					t.Fatalf("seed %d: line %d = %s, want %s", seed, i, got[i].Text, want[i])
				}
			}
			st := b.Stats()
			if st.Dropped != dropped || st.Lines > capacity || st.Total != uint64(len(all)) {
				t.Fatalf("seed %d: stats %+v, want dropped %d, total %d, lines <= %d", seed, st, dropped, len(all), capacity)
			}
		}
		snap := b.Snapshot()
		keep := all[max(0, len(all)-capacity):]
		if len(snap) != len(keep) || (len(snap) > 0 && snap[0].Text != keep[0]) {
			t.Fatalf("seed %d: snapshot %d lines from %v, want %d from %v", seed, len(snap), snap, len(keep), keep)
		}
	}
}

// BenchmarkLogBufferFlood: one producer appending while a reader drains, as a followed flood
// does; ns/op is per line appended and read.
func BenchmarkLogBufferFlood(b *testing.B) {
	buf := NewLogBuffer(20000)
	line := LogLine{Pod: "api-gateway-78cd598dfd-5pns9", Container: "api-gateway", Text: "level=info method=GET path=/api/v1/api-gateway/810 status=200 duration_ms=214 request_id=073530fff67cca84"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range b.N {
			buf.Append(line)
		}
	}()
	read := 0
	for read < b.N-int(buf.Stats().Dropped) {
		select {
		case <-buf.Ready():
		case <-done:
		}
		read += len(buf.ReadNew(0))
	}
	<-done
	b.ReportMetric(float64(buf.Stats().Dropped), "dropped")
}
