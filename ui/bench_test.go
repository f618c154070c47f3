package ui

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/estate"
)

// bigSnapshot is 2,000 services of 5 pods each: 10,000 pods, with usage,
// revisions and an alert on some, as a large estate would look.
func bigSnapshot(gen uint64) estate.Snapshot {
	s := seedEstate(gen)
	s.Services = nil
	for i := range 2000 {
		v := svc(fmt.Sprintf("team-%02d", i%40), fmt.Sprintf("bulk-%04d", i), estate.StatusOK, "", 5, 5)
		if i%97 == 0 {
			v.Health = estate.Health{Status: estate.StatusDegraded, Reason: "4/5 ready; CrashLoopBackOff"}
		}
		v.Usage = estate.Usage{Available: true, CPU: 120, CPURequest: 500, Memory: 200 << 20, MemoryRequest: 512 << 20}
		for p := range 5 {
			v.Pods = append(v.Pods, estate.PodInfo{Name: fmt.Sprintf("bulk-%04d-%d", i, p), Phase: "Running", Ready: true, Status: "Running", Created: testNow.Add(-time.Hour)})
		}
		v.PodCount = 5
		v.Revisions = []estate.Revision{{Number: 1, Current: true, Created: testNow.Add(-time.Hour)}}
		s.Services = append(s.Services, v)
	}
	return s
}

// BenchmarkView10k is one full frame (header, table, footer) of the
// Services screen over 10,000 pods: only visible rows are drawn.
func BenchmarkView10k(b *testing.B) {
	m := newTestModel(b, 200, 60)
	run(m, SnapshotMsg{Snapshot: bigSnapshot(2)})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
	reportMs(b)
}

// BenchmarkKeypress10k is a key press and the frame it produces: cursor
// down, then View, over 10,000 pods.
func BenchmarkKeypress10k(b *testing.B) {
	m := newTestModel(b, 200, 60)
	run(m, SnapshotMsg{Snapshot: bigSnapshot(2)})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.Update(press("j"))
		_ = m.View()
	}
	reportMs(b)
}

// BenchmarkFilterKeypress10k is typing one filter character (re-filtering
// every row) and the frame it produces.
func BenchmarkFilterKeypress10k(b *testing.B) {
	m := newTestModel(b, 200, 60)
	run(m, SnapshotMsg{Snapshot: bigSnapshot(2)})
	run(m, press("/"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			m.Update(press("7"))
		} else {
			m.Update(press("backspace"))
		}
		_ = m.View()
	}
	reportMs(b)
}

// BenchmarkSnapshot10k is taking a new 10,000-pod snapshot (rows, history).
func BenchmarkSnapshot10k(b *testing.B) {
	m := newTestModel(b, 200, 60)
	snap := bigSnapshot(2)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		snap.Taken = testNow.Add(time.Duration(i) * 10 * time.Second)
		m.Update(SnapshotMsg{Snapshot: snap})
	}
	reportMs(b)
}

// BenchmarkDetailView10k is a frame of a service's detail in a 10k estate.
func BenchmarkDetailView10k(b *testing.B) {
	m := newTestModel(b, 200, 60)
	run(m, SnapshotMsg{Snapshot: bigSnapshot(2)})
	run(m, press("enter"))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = m.View()
	}
	reportMs(b)
}

func reportMs(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
}
