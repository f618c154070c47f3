// Command apply writes a benchmark run's figures into the documents:
//
//	go run ./internal/benchdoc/apply DIR FILE...
//
// Each `<!-- bench:NAME -->` block of each FILE is replaced by DIR/NAME.md
// when the run wrote it (the README's "measured" block by the table of
// DIR/rows, with the rows the run did not measure kept and dated); the others
// are kept and listed, so a partial run says what it left as it was.
package main

import (
	"fmt"
	"os"

	"github.com/vigil-k8s/vigil/internal/benchdoc"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: apply DIR FILE...")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "apply:", err)
		os.Exit(1)
	}
}

func run(dir string, files []string) error {
	fresh, err := benchdoc.Load(dir)
	if err != nil {
		return err
	}
	for _, file := range files {
		doc, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		out, replaced, kept, err := benchdoc.Replace(string(doc), fresh)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %d blocks with this run's figures %v; %d kept as they were (not measured in this run) %v\n", file, len(replaced), replaced, len(kept), kept)
	}
	return nil
}
