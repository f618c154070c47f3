// Package benchdoc carries the benchmarks' figures into the documentation.
// `make bench` gives each benchmark a directory ($VIGIL_BENCH_DOC); a
// benchmark writes there the Markdown block it measured (Block) and the
// rows it contributes to the README's "Measured" table (Row). Afterwards
// apply replaces each `<!-- bench:NAME -->` … `<!-- /bench:NAME -->`
// block of docs/performance.md and README.md with the file of that name,
// so the documents hold the figures of the last run, not figures copied
// by hand. Without $VIGIL_BENCH_DOC (a benchmark run by hand) nothing is
// written.
package benchdoc

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Env names the directory the benchmarks write their blocks into.
const Env = "VIGIL_BENCH_DOC"

// MeasuredBlock is the README block apply assembles from the rows.
const MeasuredBlock = "measured"

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Block records markdown as the block called name.
func Block(name, markdown string) error {
	return write(name, name+".md", markdown)
}

// Row records one row of the README's "Measured" table; key orders the
// rows (and a later Row of the same key replaces the earlier).
func Row(key, what, figure string) error {
	return write(key, filepath.Join("rows", key+".md"), "| "+cell(what)+" | "+cell(figure)+" |\n")
}

func write(name, file, text string) error {
	dir := os.Getenv(Env)
	if dir == "" {
		return nil
	}
	if !validName.MatchString(name) {
		return fmt.Errorf("benchdoc: block name %q: want lower-case letters, digits and dashes", name)
	}
	path := filepath.Join(dir, file)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// LoadAverage is /proc/loadavg's 1, 5 and 15 minute figures, "?" when
// unreadable: every figure is printed with the load it was taken at.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Millis lists durations as whole milliseconds: "412, 398, 430".
func Millis(ds []time.Duration) string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, strconv.Itoa(int(d.Milliseconds())))
	}
	return strings.Join(out, ", ")
}
