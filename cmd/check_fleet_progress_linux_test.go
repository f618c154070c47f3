package cmd

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// TestFleetProgressFindsTheTerminal: --all-contexts draws its progress on the terminal its
// stderr is, found past the escaping writer stderr goes through (vigil's Execute), and on
// nothing when stderr is a file.
func TestFleetProgressFindsTheTerminal(t *testing.T) {
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	if err = unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, c := range []struct {
		name   string
		stderr io.Writer
		want   *os.File // nil: drawn nowhere
	}{
		{"a terminal behind the escaping writer", termsafe.NewWriter(tty), tty},
		{"a terminal", tty, tty},
		{"a file behind the escaping writer", termsafe.NewWriter(file), nil},
	} {
		o := &CheckOptions{ErrOut: c.stderr}
		got := o.fleetProgressTo()
		if c.want == nil && got != nil || c.want != nil && got != io.Writer(c.want) {
			t.Errorf("%s: progress drawn on %v, want %v", c.name, got, c.want)
		}
	}
}
