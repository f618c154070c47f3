package benchdoc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReplaceRewritesOnlyMeasuredBlocks(t *testing.T) {
	doc := "intro\n<!-- bench:a -->\nold a\n<!-- /bench:a -->\nmiddle\n<!-- bench:b -->\nold b\n<!-- /bench:b -->\nend\n"
	out, replaced, kept, err := Replace(doc, map[string]string{"a": "new a\n", "c": "unused"})
	if err != nil {
		t.Fatal(err)
	}
	want := "intro\n<!-- bench:a -->\nnew a\n<!-- /bench:a -->\nmiddle\n<!-- bench:b -->\nold b\n<!-- /bench:b -->\nend\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if strings.Join(replaced, ",") != "a" || strings.Join(kept, ",") != "b" {
		t.Errorf("replaced %v kept %v, want [a] [b]", replaced, kept)
	}
	again, _, _, err := Replace(out, map[string]string{"a": "new a\n"})
	if err != nil || again != out {
		t.Errorf("a second apply of the same figures changed the document (err %v)", err)
	}
}

func TestReplaceRefusesAnUnclosedBlock(t *testing.T) {
	doc := "<!-- bench:a -->\nold\n<!-- /bench:b -->\n"
	if _, _, _, err := Replace(doc, map[string]string{"a": "x"}); err == nil {
		t.Fatal("an unclosed block was rewritten")
	}
}

func TestBlocksAndRowsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(Env, dir)
	if err := Block("session-10k", "| a | b |"); err != nil {
		t.Fatal(err)
	}
	if err := Row("20-check", "vigil check", "2.1 s"); err != nil {
		t.Fatal(err)
	}
	if err := Row("10-first", "first | screen", "0.5 s"); err != nil {
		t.Fatal(err)
	}
	if err := Block("run", "Run of today."); err != nil {
		t.Fatal(err)
	}
	if err := Block("../escape", "x"); err == nil {
		t.Error("a block name with a path was accepted")
	}
	fresh, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fresh["session-10k"] != "| a | b |\n" {
		t.Errorf("block: %q", fresh["session-10k"])
	}
	want := "Run of today.\n\n| what | figure |\n|---|---|\n| first \\| screen | 0.5 s |\n| vigil check | 2.1 s |\n"
	if fresh[MeasuredBlock] != want {
		t.Errorf("measured:\n%q\nwant\n%q", fresh[MeasuredBlock], want)
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "escape.md")); err == nil {
		t.Error("a file was written outside the directory")
	}
}

func TestNothingWrittenWithoutTheDirectory(t *testing.T) {
	t.Setenv(Env, "")
	if err := Block("a", "x"); err != nil {
		t.Fatal(err)
	}
}

// TestMeasuredKeepsRowsARunDidNotMeasure: a partial run's rows replace theirs in place, the
// README's other rows stay, dated by the run they came from, a new row is added at the end,
// and applying the same run again changes nothing.
func TestMeasuredKeepsRowsARunDidNotMeasure(t *testing.T) {
	doc := "<!-- bench:measured -->\nRun of 2026-12-03 20:07 UTC on aaa (x86_64).\n\n| what | figure |\n|---|---|\n" +
		"| a | 1 |\n| b | 2 |\n| c | 3 |\n<!-- /bench:measured -->\n"
	fresh := map[string]string{MeasuredBlock: "Run of 2026-12-04 15:58 UTC on bbb (x86_64).\n\n| what | figure |\n|---|---|\n| b | 20 |\n| d | 40 |\n"}
	out, _, _, err := Replace(doc, fresh)
	if err != nil {
		t.Fatal(err)
	}
	want := "<!-- bench:measured -->\nRun of 2026-12-04 15:58 UTC on bbb (x86_64). 2 rows this run did not measure are kept from earlier runs, each dated.\n\n| what | figure |\n|---|---|\n" +
		"| a | 1 (run of 2026-12-03 20:07 UTC on aaa) |\n| b | 20 |\n| c | 3 (run of 2026-12-03 20:07 UTC on aaa) |\n| d | 40 |\n<!-- /bench:measured -->\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	again, _, _, err := Replace(out, fresh)
	if err != nil || again != out {
		t.Errorf("a second apply of the same run changed the table (err %v):\n%s", err, again)
	}
	full := map[string]string{MeasuredBlock: "Run of 2026-12-05 UTC on ccc (x86_64).\n\n| what | figure |\n|---|---|\n| a | 100 |\n| b | 200 |\n| c | 300 |\n| d | 400 |\n"}
	if out, _, _, err = Replace(out, full); err != nil || strings.Contains(out, "run of") || strings.Contains(out, "kept") {
		t.Errorf("a run measuring every row kept something (err %v):\n%s", err, out)
	}
}
