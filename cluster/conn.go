package cluster

import (
	"sync"
	"time"

	"github.com/vigil-k8s/vigil/estate"
)

// connTracker remembers the last successful contact with the API server and
// why the connection last failed. Informer events call ok often, so it is
// cheap when nothing changes.
type connTracker struct {
	mu          sync.Mutex
	lastContact time.Time
	failed      bool
	reason      string
	// doubt is set by a failure and taken by the health probe's next
	// success: the watches open across the failure may have stalled.
	doubt bool
}

// ok records a success at t and reports whether the session was disconnected.
func (c *connTracker) ok(t time.Time) (reconnected bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.lastContact) {
		c.lastContact = t
	}
	reconnected = c.failed
	c.failed, c.reason = false, ""
	return reconnected
}

// fail records a failure and reports whether it is news (state or reason changed).
func (c *connTracker) fail(reason string) (changed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	changed = !c.failed || c.reason != reason
	c.failed, c.reason, c.doubt = true, reason, true
	return changed
}

// takeDoubt reports whether a failure was recorded since the last call.
func (c *connTracker) takeDoubt() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.doubt
	c.doubt = false
	return d
}

func (c *connTracker) state() estate.ConnState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return estate.ConnState{Connected: !c.failed && !c.lastContact.IsZero(), LastContact: c.lastContact, Reason: c.reason}
}
