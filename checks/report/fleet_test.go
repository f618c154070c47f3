package report_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/report"
)

// TestFleetJSONIsOneDocument: the fleet's JSON, written a context at a time, is byte for
// byte the document a json.Encoder indenting by two spaces writes of every context's
// report as `vigil check --context X -o json` writes it (report.Write) and the summary,
// for fleets of 0 to 6 contexts mixing reports, errors, a missing report and hostile names.
func TestFleetJSONIsOneDocument(t *testing.T) {
	full := estateReport(t)
	cat := checks.Catalogue()[:2]
	small := report.New(cat, []checks.Finding{{Check: cat[0].ID, Status: checks.Fail, Evidence: "<b>&amp;</b> \u2028"}}, nil)
	names := []string{"local-1", "prod \"eu\"\\west\n", "<script>&", "\x1b[31mred", "é"}
	rng := rand.New(rand.NewPCG(8, 17))
	for n := range 7 {
		for range 4 {
			runs := make([]report.Run, n)
			for i := range runs {
				runs[i] = report.Run{Context: names[rng.IntN(len(names))], Duration: time.Duration(rng.IntN(3e9))}
				switch rng.IntN(4) {
				case 0:
					runs[i].Report = &full
				case 1:
					runs[i].Report = &small
				case 2:
					runs[i].Err = "dial tcp 127.0.0.1:1: connect: connection refused\n<&>"
				}
			}
			var got bytes.Buffer
			if err := report.WriteFleet(&got, "json", runs, report.Options{}); err != nil {
				t.Fatal(err)
			}
			if want := plainFleetJSON(t, runs); !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("%d contexts: the fleet's JSON differs from the one document (%d against %d bytes)\n%s", n, got.Len(), len(want), firstDiff(got.Bytes(), want))
			}
		}
	}
}

// plainFleetJSON is the fleet's document encoded whole, each context's report taken from
// the single-context JSON writer.
func plainFleetJSON(t *testing.T, runs []report.Run) []byte {
	t.Helper()
	type run struct {
		Context string          `json:"context"`
		Error   string          `json:"error,omitempty"`
		Report  json.RawMessage `json:"report"`
	}
	doc := struct {
		Contexts []run                 `json:"contexts"`
		Summary  []report.FleetSummary `json:"summary"`
	}{Contexts: []run{}, Summary: report.Summarise(runs)}
	for _, r := range runs {
		jr := run{Context: r.Context, Error: r.Err, Report: json.RawMessage("null")}
		if r.Err == "" && r.Report != nil {
			jr.Report = render(t, "json", *r.Report, report.Options{})
		}
		doc.Contexts = append(doc.Contexts, jr)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-80)
	return "got:  " + string(a[lo:min(len(a), i+80)]) + "\nwant: " + string(b[lo:min(len(b), i+80)])
}
