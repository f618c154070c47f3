package benchdoc

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

var blockStart = regexp.MustCompile(`<!-- bench:([a-z0-9-]+) -->`)

// Replace returns doc with every block whose name has an entry in fresh
// replaced by it, and the names replaced and kept (no fresh figures). A
// block opened and not closed is an error, so a broken document is not
// half rewritten.
func Replace(doc string, fresh map[string]string) (out string, replaced, kept []string, err error) {
	var b strings.Builder
	rest := doc
	for {
		loc := blockStart.FindStringSubmatchIndex(rest)
		if loc == nil {
			b.WriteString(rest)
			return b.String(), replaced, kept, nil
		}
		name := rest[loc[2]:loc[3]]
		end := "<!-- /bench:" + name + " -->"
		closeAt := strings.Index(rest[loc[1]:], end)
		if closeAt < 0 {
			return "", nil, nil, fmt.Errorf("block %q is not closed by %s", name, end)
		}
		b.WriteString(rest[:loc[1]])
		body := rest[loc[1] : loc[1]+closeAt]
		if text, ok := fresh[name]; ok {
			if name == MeasuredBlock {
				text = mergeMeasured(body, text)
			}
			b.WriteString("\n" + strings.TrimRight(text, "\n") + "\n")
			replaced = append(replaced, name)
		} else {
			b.WriteString(body)
			kept = append(kept, name)
		}
		b.WriteString(end)
		rest = rest[loc[1]+closeAt+len(end):]
	}
}

// Load reads the blocks a benchmark run wrote into dir, the "Measured"
// table assembled from its rows (under a header, sorted by key) among them.
func Load(dir string) (map[string]string, error) {
	fresh := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".md")
		if e.IsDir() || !ok {
			continue
		}
		text, readErr := os.ReadFile(filepath.Join(dir, e.Name()))
		if readErr != nil {
			return nil, readErr
		}
		fresh[name] = string(text)
	}
	rows, err := filepath.Glob(filepath.Join(dir, "rows", "*.md"))
	if err != nil {
		return nil, err
	}
	slices.Sort(rows)
	if len(rows) > 0 {
		table := "| what | figure |\n|---|---|\n"
		for _, r := range rows {
			text, readErr := os.ReadFile(r)
			if readErr != nil {
				return nil, readErr
			}
			table += string(text)
		}
		if run, ok := fresh["run"]; ok {
			table = strings.TrimRight(run, "\n") + "\n\n" + table
		}
		fresh[MeasuredBlock] = table
	}
	return fresh, nil
}

// mergeMeasured is the README's "Measured" table after a run: the run's rows, each in the
// place of the row of the same "what" if there was one, and the rows the run did not measure
// (a partial run: one benchmark, or a running cluster) kept, each dated by the run it came
// from, and counted in the header. Without it a partial run dropped them.
func mergeMeasured(old, fresh string) string {
	split := func(s string) (header []string, rows []string) {
		for _, line := range strings.Split(strings.Trim(s, "\n"), "\n") {
			switch {
			case strings.HasPrefix(line, "| what |"), strings.HasPrefix(line, "|---"):
			case strings.HasPrefix(line, "| "):
				rows = append(rows, line)
			case strings.TrimSpace(line) != "":
				header = append(header, line)
			}
		}
		return header, rows
	}
	key := func(row string) string { k, _, _ := strings.Cut(row, " | "); return k }
	oldHeader, oldRows := split(old)
	freshHeader, freshRows := split(fresh)
	// "Run of 2026-12-03 20:07 UTC on 2e70229 (x86_64, ...)." → "2026-12-03 20:07 UTC on 2e70229"
	oldRun := ""
	if len(oldHeader) > 0 {
		oldRun, _, _ = strings.Cut(strings.TrimPrefix(oldHeader[0], "Run of "), " (")
		oldRun = strings.TrimSuffix(oldRun, ".")
	}
	byKey := map[string]string{}
	for _, r := range freshRows {
		byKey[key(r)] = r
	}
	var rows []string
	kept := 0
	for _, r := range oldRows {
		if f, ok := byKey[key(r)]; ok {
			rows = append(rows, f)
			delete(byKey, key(r))
			continue
		}
		if oldRun != "" && !strings.Contains(r, " (run of ") {
			r = strings.TrimSuffix(r, " |") + " (run of " + oldRun + ") |"
		}
		rows = append(rows, r)
		kept++
	}
	for _, r := range freshRows {
		if _, ok := byKey[key(r)]; ok {
			rows = append(rows, r)
		}
	}
	header := strings.Join(freshHeader, "\n")
	if kept > 0 {
		header += fmt.Sprintf(" %d rows this run did not measure are kept from earlier runs, each dated.", kept)
	}
	return strings.TrimLeft(header+"\n\n| what | figure |\n|---|---|\n"+strings.Join(rows, "\n")+"\n", "\n")
}
