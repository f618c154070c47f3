package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
)

// ports are the loopback ports one cluster listens on. They are persisted in
// DIR/local-N/ports.json so a restart with the same DIR keeps the kubeconfig
// valid; a port that has been taken meanwhile is replaced by a fresh one.
type ports struct {
	APIServer  int `json:"apiserver"`
	EtcdClient int `json:"etcdClient"`
	EtcdPeer   int `json:"etcdPeer"`
	MetricsAPI int `json:"metricsAPI"`
}

// loadPorts reads the saved ports of a cluster; a missing file gives zeros.
func loadPorts(path string) (ports, error) {
	var p ports
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("parse %s: %w", path, err)
	}
	return p, nil
}

func (p ports) save(path string) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data, 0o600)
}

// listenLoopback listens on 127.0.0.1:want, or on a free port when want is 0
// or already taken. It returns the listener and the port actually used.
func listenLoopback(want int) (net.Listener, int, error) {
	if want > 0 {
		if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(want)); err == nil {
			return ln, want, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, fmt.Errorf("listen on loopback: %w", err)
	}
	return ln, ln.Addr().(*net.TCPAddr).Port, nil
}

// freePort returns want if it can be bound right now, else a free port. It
// is for servers (etcd) that insist on binding the port themselves.
func freePort(want int) (int, error) {
	ln, port, err := listenLoopback(want)
	if err != nil {
		return 0, err
	}
	return port, ln.Close()
}

// writeFileAtomic writes data to a temporary file next to path and renames it
// into place, so readers never see a half-written file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

// readFileIfExists reads path; a missing file is an error like any other.
func readFileIfExists(path string) ([]byte, error) { return os.ReadFile(path) }
