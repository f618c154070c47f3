package cmd

import (
	"errors"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/vigil-k8s/vigil/checks/history"
	"github.com/vigil-k8s/vigil/ui/common"
)

// screenRecordEvery is how often the Compliance screen records a context's live
// evaluation in its history: at most once an hour, counting what vigil check recorded.
const screenRecordEvery = time.Hour

// historyStore is the Compliance screen's view of the history (common.Evaluations):
// it re-reads a context's file only when the file changed, and records the screen's own
// evaluations, each remembered as recorded here.
type historyStore struct {
	getenv func(string) string
	now    func() time.Time
	mu     sync.Mutex
	files  map[string]*historyFile
}

type historyFile struct {
	size    int64
	mod     time.Time
	entries []history.Entry
	here    map[time.Time]bool // entries this process recorded
	last    time.Time          // the last record attempted here
}

var _ common.Evaluations = (*historyStore)(nil)

// file is kubeContext's history as last read, read again if it changed; nil when
// there is no state directory.
func (s *historyStore) file(kubeContext string) (*historyFile, string) {
	path, err := historyPath(s.getenv, kubeContext)
	if err != nil {
		return nil, ""
	}
	if s.files == nil {
		s.files = map[string]*historyFile{}
	}
	hf := s.files[kubeContext]
	if hf == nil {
		hf = &historyFile{here: map[time.Time]bool{}}
		s.files[kubeContext] = hf
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		hf.size, hf.mod, hf.entries = 0, time.Time{}, nil
	case err != nil:
		// Unreadable: keep what was read before.
	case st.Size() != hf.size || !st.ModTime().Equal(hf.mod):
		if f, err := os.Open(path); err == nil {
			entries, _, rerr := history.Read(f)
			_ = f.Close()
			if rerr == nil {
				hf.size, hf.mod, hf.entries = st.Size(), st.ModTime(), entries
			}
		}
	}
	return hf, path
}

// Recorded implements common.Evaluations.
func (s *historyStore) Recorded(kubeContext string) []common.Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	hf, _ := s.file(kubeContext)
	if hf == nil {
		return nil
	}
	runs := make([]common.Run, 0, len(hf.entries))
	for _, e := range hf.entries {
		runs = append(runs, common.Run{Entry: e, Here: hf.here[e.Time]})
	}
	return runs
}

// Offer implements common.Evaluations: e is appended unless the context has an entry of
// e's scope less than screenRecordEvery old (or one was attempted here that recently).
func (s *historyStore) Offer(e history.Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hf, path := s.file(e.Context)
	if hf == nil {
		return
	}
	now := s.now()
	latest := hf.last
	for _, r := range hf.entries {
		// Another scope's evaluation (another -n, another identity) is no record of this one.
		if history.Comparable(r, e) && r.Time.After(latest) {
			latest = r.Time
		}
	}
	if !latest.IsZero() && now.Sub(latest) < screenRecordEvery {
		return
	}
	hf.last = now
	if appendHistory(path, e) == nil {
		hf.here[e.Time] = true
	}
}
