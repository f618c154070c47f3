package report_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/history"
	"github.com/vigil-k8s/vigil/checks/report"
)

// Hostile text as a cluster could hold it: in an object's name, a finding's evidence, a
// reachability edge, a note, the history file.
const (
	hostileScript = `<script>alert(1)</script>`
	hostileAttr   = `"><img src=x onerror=alert(2)>`
	hostileQuote  = `' onmouseover='alert(3)`
)

// hostileReport is the seed estate's report with hostile text in the first failing finding
// (name and evidence), the origin, a reachability edge and the history.
func hostileReport(t *testing.T) (report.Report, checks.Finding) {
	t.Helper()
	r := estateReport(t)
	i := -1
	for k, f := range r.Findings {
		if f.Status == checks.Fail {
			i = k
			break
		}
	}
	if i < 0 {
		t.Fatal("the seed estate has no failing finding")
	}
	r.Findings[i].Resource.Name = "pay" + hostileScript + hostileAttr
	r.Findings[i].Evidence = "image " + hostileAttr + " from " + hostileQuote + "\nsecond line " + hostileScript
	r.Origin = "context " + hostileScript
	r.Reach = &checks.Reachability{Scope: []string{"Deployment/fintech-prod/" + hostileAttr + ": label pci=true"},
		Asked: "10.20.30.40 " + hostileQuote,
		Ingress: []checks.ReachEdge{{From: "Deployment/x/" + hostileScript, To: "Deployment/fintech-prod/payment-service",
			Ports: []string{"8080/TCP"}, Via: []string{"ingress: NetworkPolicy " + hostileAttr + " spec.ingress[0]"}}},
		Egress: []checks.ReachEdge{{From: "Deployment/fintech-prod/payment-service", To: "203.0.113.7",
			Ports: []string{"443/TCP"}, Via: []string{"egress: not isolated"}}}}
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for k := range 3 {
		e := history.Summarize("local-1", t0.Add(time.Duration(k)*24*time.Hour), r.Findings, r.Items, r.Score)
		e.Verdicts[hostileScript] = checks.NotMet
		r.History = append(r.History, e)
	}
	return r, r.Findings[i]
}

// TestHTMLEscapesClusterText: hostile text in every place the cluster feeds reaches the page
// as text, never as markup. The page is parsed by golang.org/x/net/html (the HTML5 parsing
// algorithm browsers follow): it holds no script, img or iframe element, no event-handler
// attribute, no URL but the inline icon, and its text holds the hostile strings verbatim.
func TestHTMLEscapesClusterText(t *testing.T) {
	r, hostile := hostileReport(t)
	out := render(t, "html", r, report.Options{})
	for _, raw := range []string{hostileScript, hostileAttr, "<img", "onerror=alert(2)>"} {
		if bytes.Contains(out, []byte(raw)) {
			t.Errorf("the page holds %q raw", raw)
		}
	}
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	walk(doc, func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			text.WriteString(n.Data)
			text.WriteString("\n")
		case html.ElementNode:
			switch n.Data {
			case "script", "img", "iframe", "object", "embed", "base", "form", "audio", "video", "frame":
				t.Errorf("element <%s> in the page", n.Data)
			}
			for _, a := range n.Attr {
				k := strings.ToLower(a.Key)
				if strings.HasPrefix(k, "on") {
					t.Errorf("<%s %s=%q>: an event handler", n.Data, a.Key, a.Val)
				}
				if (k == "href" || k == "src" || k == "action" || k == "srcset" || k == "poster") && !strings.HasPrefix(a.Val, "data:") {
					t.Errorf("<%s %s=%q>: a URL the page would load", n.Data, a.Key, a.Val)
				}
			}
		}
	})
	for _, want := range []string{hostile.Resource.String(), hostileScript, hostileAttr, hostileQuote} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the page's text lacks %q", want)
		}
	}
	for _, line := range strings.Split(hostile.Evidence, "\n") {
		if !strings.Contains(text.String(), line) {
			t.Errorf("the page's text lacks the evidence line %q", line)
		}
	}
}

// TestHTMLShowsEveryItemAndFinding: each checklist item of the report is one row with its
// verdict; both scores and the coverage are there; every finding that fails, warns or is
// unknown is a row with its resource and evidence, and its check's remediation is on the
// page; every reachability edge is there; the per-group charts and the trend are SVG.
// The expected values come from the report struct, spelled here.
func TestHTMLShowsEveryItemAndFinding(t *testing.T) {
	r, _ := hostileReport(t)
	doc, err := html.Parse(bytes.NewReader(render(t, "html", r, report.Options{})))
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string // each tr's cells' text
	var page strings.Builder
	svgs := 0
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "svg" {
			svgs++
		}
		if n.Type == html.TextNode {
			page.WriteString(n.Data + "\n")
		}
		if n.Type != html.ElementNode || n.Data != "tr" {
			return
		}
		var cells []string
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
				cells = append(cells, strings.TrimSpace(textOf(c)))
			}
		}
		rows = append(rows, cells)
	})
	verdictWord := map[checks.Verdict]string{checks.Met: "MET", checks.NotMet: "NOT MET", checks.Unverified: "UNVERIFIED"}
	for _, it := range r.Items {
		n := 0
		for _, cells := range rows {
			if len(cells) >= 3 && cells[1] == it.Item && strings.HasPrefix(cells[2], firstLine(it.Why)) {
				n++
				if cells[0] != verdictWord[it.Verdict] {
					t.Errorf("item %q reads %q, want %q", it.Item, cells[0], verdictWord[it.Verdict])
				}
			}
		}
		if n != 1 {
			t.Errorf("item %q: %d checklist rows, want 1", it.Item, n)
		}
	}
	text := page.String()
	for _, want := range []string{
		fmt.Sprintf("%.1f", *r.Score.Overall), fmt.Sprintf("%.1f", *r.Score.Proven.Overall),
		fmt.Sprintf("%d of %d checklist items decided", r.Score.Coverage.Decided, r.Score.Coverage.Items),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	remediation := map[string]string{}
	for _, c := range r.Checks {
		remediation[c.ID] = c.Remediation
	}
	shown := 0
	for _, f := range r.Findings {
		if f.Status != checks.Fail && f.Status != checks.Warn && f.Status != checks.Unknown {
			continue
		}
		shown++
		found := false
		for _, cells := range rows {
			if len(cells) == 3 && cells[0] == string(f.Status) && strings.HasPrefix(cells[1], f.Resource.String()) && strings.HasPrefix(cells[2], f.Evidence) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no row for finding %s %s %s", f.Check, f.Status, f.Resource)
		}
		if !strings.Contains(text, "Remediation: "+remediation[f.Check]) {
			t.Errorf("check %s: its remediation is not on the page", f.Check)
		}
	}
	for _, e := range append(append([]checks.ReachEdge(nil), r.Reach.Ingress...), r.Reach.Egress...) {
		found := false
		for _, cells := range rows {
			found = found || len(cells) == 4 && cells[0] == e.From && cells[1] == e.To && cells[2] == strings.Join(e.Ports, ", ")
		}
		if !found {
			t.Errorf("no row for the edge %s → %s", e.From, e.To)
		}
	}
	// Two charts by group, the score trend, one verdict strip per item the history knows.
	if want := 3 + len(r.Items) + 1; svgs != want {
		t.Errorf("%d svg elements, want %d", svgs, want)
	}
	t.Logf("%d items, %d findings shown, %d rows, %d svg", len(r.Items), shown, len(rows), svgs)
}

// TestHTMLShowsAttestations: an attestation that holds reads met with who, until and the
// sha256 on the page; the attestations table has its whole digest.
func TestHTMLShowsAttestations(t *testing.T) {
	r, line, sum := attestedReport(t, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	doc, err := html.Parse(bytes.NewReader(render(t, "html", r, report.Options{})))
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" {
			var cells []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode {
					cells = append(cells, strings.TrimSpace(textOf(c)))
				}
			}
			rows = append(rows, cells)
		}
	})
	var item, table bool
	for _, cells := range rows {
		item = item || len(cells) == 3 && cells[0] == "MET" && cells[1] == "Secrets encrypted at rest" && strings.HasPrefix(cells[2], line)
		table = table || len(cells) > 8 && strings.Contains(strings.Join(cells, "|"), "|alice|bob|") && strings.Contains(strings.Join(cells, "|"), "|"+sum+"|")
	}
	if !item {
		t.Errorf("no checklist row MET | Secrets encrypted at rest | %s", line)
	}
	if !table {
		t.Errorf("no attestation row with alice, bob and %s", sum)
	}
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
