package common

import (
	"context"
	"time"

	"github.com/vigil-k8s/vigil/estate"
)

// LogsRequest says which logs of a service a logs view reads.
type LogsRequest struct {
	Namespace, Service string
	// Container keeps one container's lines; empty reads every container.
	Container string
	// Previous reads each container's previous run.
	Previous bool
	// Since keeps lines newer than this; 0 keeps all.
	Since time.Duration
}

// LogsFeed is a service's merged log being read: Buffer fills until Done
// is closed; Err then says why it ended early.
type LogsFeed struct {
	Buffer *estate.LogBuffer
	Done   <-chan struct{}
	Err    func() error
	// LeftOut counts the oldest lines of the backlog the buffer had no room
	// for (nil: none).
	LeftOut func() uint64
}

// LogsOpener starts reading a service's logs (follow, until ctx ends). It
// blocks on the network: call it from a tea.Cmd.
type LogsOpener func(ctx context.Context, req LogsRequest) (LogsFeed, error)
