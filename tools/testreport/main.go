// Command testreport turns `go test -json` into the usual human-readable go test output and
// makes skipped tests visible.
//
// Stream mode reads one `go test -json` stream on stdin, prints what a non-verbose `go test`
// would (package ok/FAIL lines, the output of failing tests, build errors), prints each skipped
// test with its reason as it happens, appends every test result to the -record file and exits 1
// when a test or package failed:
//
//	go test -json ./... 2>&1 | testreport -record .state/test/results.jsonl
//
// Summary mode reads the record files of one or more streams, lists every skipped test with
// its reason, checks the skips against the allow-list, prints a closing line
// "tests: N passed, N failed, N skipped" and exits 1 on any failure or on a skip that is not
// allowed:
//
//	testreport -summary -allow .ci/skips-allowed.txt .state/test/results.jsonl
//
// The allow-list has one skip per line, `IMPORT/PATH TestName  # reason`; the reason is
// required, the test name may be a path.Match pattern (TestX/* for subtests) and the package may
// end in /... for every package below it. Blank lines and lines starting with # are ignored.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string // build-output, build-fail
}

// result is one line of the record file.
type result struct {
	Package string `json:"package"`
	Test    string `json:"test,omitempty"` // empty: the package itself failed (build, TestMain, timeout)
	Action  string `json:"action"`         // pass, fail, skip
	Reason  string `json:"reason,omitempty"`
}

func main() {
	record := flag.String("record", "", "stream mode: append each test result to this file (JSON lines)")
	summary := flag.Bool("summary", false, "summary mode: read the record files named as arguments")
	allow := flag.String("allow", "", "summary mode: allow-list of skips (`PKG TEST  # reason` lines)")
	flag.Parse()
	var err error
	var ok bool
	if *summary {
		ok, err = summarize(os.Stdout, *allow, flag.Args())
	} else {
		ok, err = stream(os.Stdin, os.Stdout, *record)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func stream(in io.Reader, out io.Writer, record string) (bool, error) {
	var rec *json.Encoder
	if record != "" {
		f, err := os.OpenFile(record, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return false, err
		}
		defer f.Close()
		rec = json.NewEncoder(f)
	}
	w := bufio.NewWriter(out)
	defer w.Flush()
	emit := func(r result) error {
		if rec == nil {
			return nil
		}
		return rec.Encode(r)
	}

	ok := true
	buffers := map[string][]string{} // package\x00test → output lines, until the test ends
	testFailed := map[string]bool{}  // package → a test of it failed
	var order []string               // buffer keys in start order, to flush unfinished tests
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			fmt.Fprintf(w, "%s\n", line) // not JSON: go command errors and the like
			w.Flush()
			continue
		}
		pkg := ev.Package
		if pkg == "" {
			pkg = ev.ImportPath
		}
		key := pkg + "\x00" + ev.Test
		switch {
		case ev.Action == "build-output":
			fmt.Fprint(w, ev.Output)
		case ev.Action == "build-fail":
			ok = false
		case ev.Test == "" && ev.Action == "output":
			if ev.Output != "PASS\n" {
				fmt.Fprint(w, ev.Output)
			}
		case ev.Test == "" && ev.Action == "fail":
			ok = false
			// Tests still running when the package failed (a timeout, a panic, os.Exit): show
			// what they printed.
			for _, k := range order {
				if b, found := buffers[k]; found && strings.HasPrefix(k, pkg+"\x00") {
					printLines(w, b)
					delete(buffers, k)
				}
			}
			if !testFailed[pkg] {
				if err := emit(result{Package: pkg, Action: "fail"}); err != nil {
					return false, err
				}
			}
			w.Flush()
		case ev.Test == "":
			// start, pass, skip (no test files) of a package
			if ev.Action == "pass" || ev.Action == "skip" {
				for _, k := range order {
					if strings.HasPrefix(k, pkg+"\x00") {
						delete(buffers, k)
					}
				}
				order = compact(order, buffers)
			}
			w.Flush()
		case ev.Action == "run":
			buffers[key] = nil
			order = append(order, key)
		case ev.Action == "output":
			buffers[key] = append(buffers[key], ev.Output)
		case ev.Action == "pass":
			delete(buffers, key)
			if err := emit(result{Package: pkg, Test: ev.Test, Action: "pass"}); err != nil {
				return false, err
			}
		case ev.Action == "skip":
			reason := skipReason(buffers[key])
			delete(buffers, key)
			fmt.Fprintf(w, "--- SKIP: %s %s: %s\n", pkg, ev.Test, reason)
			if err := emit(result{Package: pkg, Test: ev.Test, Action: "skip", Reason: reason}); err != nil {
				return false, err
			}
		case ev.Action == "fail":
			ok = false
			testFailed[pkg] = true
			printLines(w, buffers[key])
			delete(buffers, key)
			if err := emit(result{Package: pkg, Test: ev.Test, Action: "fail"}); err != nil {
				return false, err
			}
			w.Flush()
		}
		if len(order) > 4096 {
			order = compact(order, buffers)
		}
	}
	if err := sc.Err(); err != nil {
		return false, err
	}
	return ok, nil
}

func compact(order []string, buffers map[string][]string) []string {
	kept := order[:0]
	for _, k := range order {
		if _, found := buffers[k]; found {
			kept = append(kept, k)
		}
	}
	return kept
}

// printLines prints a test's output as non-verbose go test would: without the === lines.
func printLines(w io.Writer, lines []string) {
	for _, l := range lines {
		if strings.HasPrefix(l, "=== ") {
			continue
		}
		fmt.Fprint(w, l)
	}
}

// skipReason is what the skipped test printed (its t.Skip message), on one line.
func skipReason(lines []string) string {
	var parts []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " / ")
}

type allowed struct {
	pkg, test, reason string
	line              int
	used              bool
}

func readAllowList(file string) ([]*allowed, error) {
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var list []*allowed
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		spec, reason, found := strings.Cut(l, "#")
		fields := strings.Fields(spec)
		reason = strings.TrimSpace(reason)
		if !found || reason == "" || len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want `IMPORT/PATH TestName  # reason`, got %q", file, i+1, l)
		}
		if _, err := path.Match(fields[1], ""); err != nil {
			return nil, fmt.Errorf("%s:%d: bad test pattern %q: %w", file, i+1, fields[1], err)
		}
		list = append(list, &allowed{pkg: fields[0], test: fields[1], reason: reason, line: i + 1})
	}
	return list, nil
}

func (a *allowed) matches(pkg, test string) bool {
	if base, ok := strings.CutSuffix(a.pkg, "/..."); ok {
		if pkg != base && !strings.HasPrefix(pkg, base+"/") {
			return false
		}
	} else if pkg != a.pkg {
		return false
	}
	m, _ := path.Match(a.test, test)
	return m
}

func summarize(out io.Writer, allowFile string, files []string) (bool, error) {
	list, err := readAllowList(allowFile)
	if err != nil {
		return false, err
	}
	if len(files) == 0 {
		return false, errors.New("summary mode needs the record files as arguments")
	}
	var passed, failed, skipped int
	var failures, skips []result
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return false, err
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		for {
			var r result
			if err := dec.Decode(&r); err == io.EOF {
				break
			} else if err != nil {
				return false, fmt.Errorf("%s: %w", f, err)
			}
			switch r.Action {
			case "pass":
				passed++
			case "fail":
				failed++
				failures = append(failures, r)
			case "skip":
				skipped++
				skips = append(skips, r)
			}
		}
	}
	sort.Slice(skips, func(i, j int) bool {
		if skips[i].Package != skips[j].Package {
			return skips[i].Package < skips[j].Package
		}
		return skips[i].Test < skips[j].Test
	})
	ok := failed == 0
	fmt.Fprintf(out, "\nskipped tests (%d):\n", len(skips))
	if len(skips) == 0 {
		fmt.Fprintln(out, "  none")
	}
	unexplained := 0
	for _, s := range skips {
		var by *allowed
		for _, a := range list {
			if a.matches(s.Package, s.Test) {
				by = a
				break
			}
		}
		if by != nil {
			by.used = true
			fmt.Fprintf(out, "  %s %s: %s\n      allowed (%s:%d: %s)\n", s.Package, s.Test, s.Reason, allowFile, by.line, by.reason)
		} else {
			unexplained++
			fmt.Fprintf(out, "  %s %s: %s\n      NOT ALLOWED: fix the skip, or add `%s %s  # why` to %s\n", s.Package, s.Test, s.Reason, s.Package, s.Test, orDefault(allowFile, "an allow-list"))
		}
	}
	if unexplained > 0 {
		ok = false
		fmt.Fprintf(out, "%d skipped test(s) not in the allow-list\n", unexplained)
	}
	if len(failures) > 0 {
		fmt.Fprintf(out, "failed (%d):\n", len(failures))
		for _, f := range failures {
			if f.Test == "" {
				fmt.Fprintf(out, "  %s (the package: build, TestMain, panic or timeout)\n", f.Package)
			} else {
				fmt.Fprintf(out, "  %s %s\n", f.Package, f.Test)
			}
		}
	}
	fmt.Fprintf(out, "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
	return ok, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
