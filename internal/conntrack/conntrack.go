// Package conntrack dials connections and closes them all at once, busy or
// idle: for a client whose work has a definite end, such as one fleet pass,
// which would otherwise leave connections open until the transport's idle
// timeout. Closing a transport's idle connections is not enough with
// HTTP/2: a stream is forgotten a moment after its response has been read,
// and a canceled one keeps its connection busy until the server answers a
// PING.
package conntrack

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// ErrClosed is what Dial returns once Close has been called.
var ErrClosed = errors.New("the connections' owner has ended")

// Dialer dials through Dial (a net.Dialer's with client-go's timeouts when
// nil) and remembers what it dialed. The zero value is ready.
type Dialer struct {
	Dial func(ctx context.Context, network, address string) (net.Conn, error)

	mu     sync.Mutex
	conns  []net.Conn
	closed bool
}

// DialContext dials and records the connection; after Close it closes the
// new connection at once (a canceled request's dial completing late) and
// returns ErrClosed.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	dial := d.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	c, err := dial(ctx, network, address)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		c.Close()
		return nil, ErrClosed
	}
	d.conns = append(d.conns, c)
	return c, nil
}

// Close closes every connection dialed so far and any dialed later.
func (d *Dialer) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	for _, c := range d.conns {
		c.Close()
	}
	d.conns = nil
}
