// Package history keeps, in memory, a few minutes of per-service samples
// taken from the snapshots (ready replicas, CPU, memory, 5xx error rate,
// firing alerts) so the detail and autoscaling screens can draw
// sparklines. It never asks the API for anything.
package history

import (
	"time"

	"github.com/vigil-k8s/vigil/estate"
)

// Sample is one service's figures at one time.
type Sample struct {
	At       time.Time
	Ready    float64
	Replicas float64 // HPA current, else desired
	CPU      float64 // millicores; -1 unknown
	Memory   float64 // bytes; -1 unknown
	Errors   float64 // percent of requests answered 5xx; -1 unknown
	Firing   float64 // firing alerts joined to the service
}

// Store holds up to Keep samples per service, at most one per Every.
type Store struct {
	// Keep is how many samples a series holds (default 60).
	Keep int
	// Every is the minimum spacing of samples (default 5s).
	Every  time.Duration
	series map[string][]Sample
	last   time.Time
}

// New returns a store keeping keep samples spaced at least every apart
// (60 × 5 s: the last five minutes).
func New(keep int, every time.Duration) *Store {
	return &Store{Keep: keep, Every: every, series: map[string][]Sample{}}
}

// Reset forgets everything (after a context switch).
func (s *Store) Reset() {
	s.series = map[string][]Sample{}
	s.last = time.Time{}
}

// Add records snap's services when at least Every has passed since the
// last recording; it reports whether it recorded.
func (s *Store) Add(snap estate.Snapshot) bool { return s.AddAt(snap, snap.Taken) }

// AddAt records snap's services as of at: the root samples the snapshot on
// screen every tick too, so a quiet cluster (few new snapshots) still
// draws its last minutes.
func (s *Store) AddAt(snap estate.Snapshot, at time.Time) bool {
	if !s.last.IsZero() && at.Sub(s.last) < s.Every {
		return false
	}
	s.last = at
	seen := make(map[string]bool, len(snap.Services))
	for _, svc := range snap.Services {
		k := svc.Key()
		seen[k] = true
		smp := Sample{At: at, Ready: float64(svc.Ready), Replicas: float64(svc.Desired), CPU: -1, Memory: -1, Errors: -1}
		if svc.HPA.Name != "" {
			smp.Replicas = float64(svc.HPA.Current)
		}
		if svc.Usage.Available {
			smp.CPU, smp.Memory = float64(svc.Usage.CPU), float64(svc.Usage.Memory)
		}
		if svc.ErrorRateKnown {
			smp.Errors = 100 * svc.ErrorRate
		}
		for _, a := range svc.Alerts {
			if a.State == "firing" {
				smp.Firing++
			}
		}
		ser := append(s.series[k], smp)
		if len(ser) > s.Keep {
			ser = append(ser[:0:0], ser[len(ser)-s.Keep:]...)
		}
		s.series[k] = ser
	}
	for k := range s.series {
		if !seen[k] {
			delete(s.series, k)
		}
	}
	return true
}

// Series returns the samples of the service with key k, oldest first.
func (s *Store) Series(k string) []Sample { return s.series[k] }

// Values extracts one figure from a series, skipping unknown (-1) ones.
func Values(ser []Sample, f func(Sample) float64) []float64 {
	out := make([]float64, 0, len(ser))
	for _, smp := range ser {
		if v := f(smp); v >= 0 {
			out = append(out, v)
		}
	}
	return out
}
