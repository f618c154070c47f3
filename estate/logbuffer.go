package estate

import (
	"sync"
	"time"
)

// LogKind tells a log line from the notes a log stream adds about its pods.
type LogKind int

// The kinds of LogLine.
const (
	// LogText is a line the container wrote.
	LogText LogKind = iota
	// LogPodAdded marks a pod that appeared while following (a rollout,
	// a replacement).
	LogPodAdded
	// LogPodGone marks a pod that went away; its lines end there.
	LogPodGone
	// LogNote is something the stream has to say about one container:
	// why it has no log (the kubelet's words), or that its stream failed.
	LogNote
)

// LogLine is one line of a service's merged log. Text, Pod and Container
// have passed termsafe.Line: they are safe to print.
type LogLine struct {
	// Time is the kubelet's timestamp of the line (for notes: when the
	// stream noticed).
	Time time.Time
	// Pod and Container say where the line comes from.
	Pod, Container string
	// Previous is true for the previous run's lines (--previous).
	Previous bool
	Kind     LogKind
	Text     string
}

// size is roughly what the line holds in memory.
func (l LogLine) size() int { return len(l.Text) + len(l.Pod) + len(l.Container) + 64 }

// LogStats describe a LogBuffer: how full it is and what a slow reader
// lost.
type LogStats struct {
	// Lines is how many lines the buffer holds, Capacity how many it may.
	Lines, Capacity int
	// Bytes is about how much memory those lines take.
	Bytes int
	// Total is how many lines were ever appended.
	Total uint64
	// Dropped is how many lines were overwritten before the reader read
	// them: the reader was slower than the cluster wrote.
	Dropped uint64
}

// LogBuffer is a ring of the last Capacity log lines with one reader
// cursor. Appending never blocks: when the ring is full the oldest line
// is overwritten, and if the reader had not read it yet it counts as
// dropped. So a flood of log lines costs bounded memory and never stalls
// the producer or the reader; the reader learns how much it missed.
type LogBuffer struct {
	mu      sync.Mutex
	lines   []LogLine
	first   uint64 // sequence number of lines[head]
	head, n int
	bytes   int
	read    uint64 // the reader's cursor: next sequence number to read
	dropped uint64
	notify  chan struct{}
}

// NewLogBuffer returns a buffer of capacity lines (at least 1).
func NewLogBuffer(capacity int) *LogBuffer {
	return &LogBuffer{lines: make([]LogLine, max(capacity, 1)), notify: make(chan struct{}, 1)}
}

// Append adds lines, overwriting the oldest when full.
func (b *LogBuffer) Append(lines ...LogLine) {
	if len(lines) == 0 {
		return
	}
	b.mu.Lock()
	for _, l := range lines {
		if b.n == len(b.lines) {
			old := b.lines[b.head]
			b.bytes -= old.size()
			if b.first >= b.read {
				b.dropped++
				b.read = b.first + 1
			}
			b.head = (b.head + 1) % len(b.lines)
			b.first++
			b.n--
		}
		b.lines[(b.head+b.n)%len(b.lines)] = l
		b.n++
		b.bytes += l.size()
	}
	b.mu.Unlock()
	select {
	case b.notify <- struct{}{}:
	default:
	}
}

// Ready is signalled (coalesced) after lines are appended.
func (b *LogBuffer) Ready() <-chan struct{} { return b.notify }

// ReadNew returns the lines the reader has not read yet (at most max, all
// when max <= 0) and moves its cursor past them.
func (b *LogBuffer) ReadNew(limit int) []LogLine {
	b.mu.Lock()
	defer b.mu.Unlock()
	end := b.first + uint64(b.n)
	count := int(end - b.read)
	if limit > 0 && count > limit {
		count = limit
	}
	out := make([]LogLine, count)
	for i := range out {
		out[i] = b.lines[(b.head+int(b.read-b.first)+i)%len(b.lines)]
	}
	b.read += uint64(count)
	return out
}

// Snapshot returns every line the buffer holds, oldest first (the
// scrollback a viewer shows); it does not move the reader's cursor.
func (b *LogBuffer) Snapshot() []LogLine {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]LogLine, b.n)
	for i := range out {
		out[i] = b.lines[(b.head+i)%len(b.lines)]
	}
	return out
}

// Stats returns the buffer's size and losses.
func (b *LogBuffer) Stats() LogStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return LogStats{Lines: b.n, Capacity: len(b.lines), Bytes: b.bytes, Total: b.first + uint64(b.n), Dropped: b.dropped}
}
