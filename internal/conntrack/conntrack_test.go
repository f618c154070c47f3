package conntrack

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestCloseEndsEveryConnection: the peer of every connection dialed before
// Close reads the end of its stream, busy or idle, and a dial after Close
// fails with its connection closed at once.
func TestCloseEndsEveryConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 3)
	go func() {
		for {
			c, aerr := ln.Accept()
			if aerr != nil {
				return
			}
			accepted <- c
		}
	}()
	peer := func() net.Conn {
		t.Helper()
		select {
		case c := <-accepted:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("no connection accepted")
			return nil
		}
	}
	// ended says whether the peer's read sees the connection end.
	ended := func(c net.Conn) bool {
		t.Helper()
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, rerr := io.ReadAll(c)
		return rerr == nil // ReadAll returns nil at EOF, a deadline error otherwise
	}

	var d Dialer
	ctx := context.Background()
	if _, err = d.DialContext(ctx, "tcp", ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	idlePeer := peer()
	busy, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	busyPeer := peer()
	if _, err = busy.Write([]byte("a request")); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if !ended(idlePeer) || !ended(busyPeer) {
		t.Fatal("a connection dialed before Close is still open")
	}
	if c, err := d.DialContext(ctx, "tcp", ln.Addr().String()); !errors.Is(err, ErrClosed) || c != nil {
		t.Fatalf("dial after Close: %v, %v; want ErrClosed", c, err)
	}
	if !ended(peer()) {
		t.Fatal("a connection dialed after Close was left open")
	}
}
