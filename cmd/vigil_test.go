package cmd

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// runVigil runs vigil with args as the process does (the root command, then Execute's error
// printing and exit code), with env as the whole environment and stdin as its input, and
// returns what it wrote to stdout and stderr and its exit code.
func runVigil(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	root := newCommand(streams, func(k string) string { return env[k] })
	root.SetArgs(args)
	code = execute(context.Background(), root, &errOut)
	return out.String(), errOut.String(), code
}
