package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/internal/termsafe"
)

// FleetFormats are the output formats of a run over many kube contexts.
var FleetFormats = []string{"table", "json", Prometheus}

// FleetSummary is one context's line of the fleet summary.
type FleetSummary struct {
	Context string `json:"context"`
	// Error says why the context could not be evaluated; "" when it was.
	Error string `json:"error,omitempty"`
	// Observed and Proven are the overall scores; Coverage the checklist's percent decided
	// (nil when not evaluated or nothing scored).
	Observed *float64 `json:"observed"`
	Proven   *float64 `json:"proven"`
	Coverage *float64 `json:"coverage"`
	// Fail, Warn and Unknown count the context's findings with that status.
	Fail    int `json:"fail"`
	Warn    int `json:"warn"`
	Unknown int `json:"unknown"`
	// DurationSeconds is how long the context took, listing included.
	DurationSeconds float64 `json:"durationSeconds"`
}

// Summarise is the fleet summary of runs, in their order.
func Summarise(runs []Run) []FleetSummary {
	out := make([]FleetSummary, 0, len(runs))
	for _, run := range runs {
		s := FleetSummary{Context: run.Context, Error: run.Err, DurationSeconds: run.Duration.Seconds()}
		if run.Err == "" && run.Report != nil {
			sc := run.Report.Score
			s.Observed, s.Proven, s.Coverage = sc.Overall, sc.Proven.Overall, sc.Coverage.Percent
			s.Fail, s.Warn, s.Unknown = sc.Counts[checks.Fail], sc.Counts[checks.Warn], sc.Counts[checks.Unknown]
		}
		out = append(out, s)
	}
	return out
}

// jsonFleetRun is one context in the fleet JSON: its report exactly as `vigil check
// --context X -o json` writes it, or its error.
type jsonFleetRun struct {
	Context string      `json:"context"`
	Error   string      `json:"error,omitempty"`
	Report  *jsonReport `json:"report"`
}

// WriteFleet renders runs (one per kube context, in order) in format: table (each
// context's report under a heading, then the fleet summary), json
// ({"contexts":[{"context","error","report"}],"summary":[...]}) or prometheus (one
// exposition, told apart by the cluster label).
func WriteFleet(w io.Writer, format string, runs []Run, o Options) error {
	switch format {
	case Prometheus:
		return WritePrometheus(w, runs)
	case "json":
		return writeFleetJSON(w, runs)
	case "table", "":
		for _, run := range runs {
			if _, err := fmt.Fprintf(w, "=== context %s ===\n", termsafe.Line(run.Context)); err != nil {
				return err
			}
			if run.Err != "" || run.Report == nil {
				if _, err := fmt.Fprintf(w, "error: %s\n\n", termsafe.Line(run.Err)); err != nil {
					return err
				}
				continue
			}
			if err := writeTable(w, *run.Report, o); err != nil {
				return err
			}
			fmt.Fprintln(w)
		}
		return writeFleetSummary(w, runs)
	}
	return fmt.Errorf("output format %q is not available for many contexts (want one of %s)", format, strings.Join(FleetFormats, ", "))
}

// writeFleetJSON writes {"contexts": [...], "summary": [...]} byte for byte as a
// json.Encoder indenting by two spaces writes it, one context at a time: the whole
// document marshalled at once was 2.7 MB at 16 seeded contexts, grown in one buffer and
// indented into another, about a tenth of `--all-contexts`' CPU.
func writeFleetJSON(w io.Writer, runs []Run) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var ind bytes.Buffer
	put := func(v any, prefix string) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		ind.Reset()
		if err = json.Indent(&ind, b, prefix, "  "); err != nil {
			return err
		}
		_, err = bw.Write(ind.Bytes())
		return err
	}
	bw.WriteString("{\n  \"contexts\": [")
	for i, run := range runs {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		jr := jsonFleetRun{Context: run.Context, Error: run.Err}
		if run.Err == "" && run.Report != nil {
			rep := newJSONReport(*run.Report)
			jr.Report = &rep
		}
		if err := put(jr, "    "); err != nil {
			return err
		}
	}
	if len(runs) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("],\n  \"summary\": ")
	if err := put(Summarise(runs), "  "); err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// writeFleetSummary is the table's closing summary: one line per context.
func writeFleetSummary(w io.Writer, runs []Run) error {
	sums := Summarise(runs)
	failed := 0
	for _, s := range sums {
		if s.Error != "" {
			failed++
		}
	}
	fmt.Fprintf(w, "fleet: %d contexts, %d evaluated, %d could not be\n", len(sums), len(sums)-failed, failed)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTEXT\tOBSERVED\tPROVEN\tCOVERAGE\tFAIL\tWARN\tUNKNOWN\tTIME")
	for _, s := range sums {
		if s.Error != "" {
			fmt.Fprintf(tw, "%s\terror: %s\n", termsafe.Line(s.Context), termsafe.Line(s.Error))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s %%\t%d\t%d\t%d\t%.1fs\n", termsafe.Line(s.Context), fmtScore(s.Observed), fmtScore(s.Proven), fmtScore(s.Coverage),
			s.Fail, s.Warn, s.Unknown, s.DurationSeconds)
	}
	return tw.Flush()
}
