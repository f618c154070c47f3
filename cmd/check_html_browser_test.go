package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// reportScreen is the screenshot of the HTML report kept in docs/screens/ (the top of the
// page: scores, charts by group, the trend, the first checklist items), rewritten by
// TestCheckHTMLInChromium when VIGIL_UPDATE_SCREENS=1.
const reportScreen = "../docs/screens/24-report-html.png"

// pageURL is where the browser is told the report is. .invalid never resolves: only the
// test's proxy, which every request of the browser goes through, answers for it.
const pageURL = "http://report.invalid/report.html"

// TestCheckHTMLInChromium (issue 16, part 4): the HTML report of a live `vigil check` of
// local-1 (three evaluations, a change to the estate between the first two, so the trend has
// something to draw), rendered by Debian's chromium. It fails when the page logs anything to
// the console (a script error, a refused load), when the page makes any request but its own
// load, when the screenshot is blank, or when a checklist item of the JSON report of the same
// estate is not in the DOM chromium built with the same verdict; it prints the page to PDF too.
//
// Every request of the browser goes through a recording proxy (--proxy-server, loopback
// included), so nothing leaves the machine, and chromium's NetLog says which requests the
// page initiated (initiator or network isolation key of report.invalid): chromium's own
// background requests (time, account checks) reach the proxy too and are not the page's.
func TestCheckHTMLInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not on PATH (%v): this test renders the HTML report in a real browser; install Debian's chromium (apt-get install chromium; .ci/run does)", err)
	}
	lc, err := clustertest.Start(clustertest.Options{Clusters: 1, Seed: true})
	if err != nil {
		t.Fatalf("local cluster: %v", err)
	}
	t.Cleanup(lc.Stop)
	home := t.TempDir()
	env := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_STATE_HOME": filepath.Join(home, "state")}
	check := func(args ...string) string {
		t.Helper()
		out, errOut, code := runVigil(t, env, "", append([]string{"check", "--kubeconfig", lc.Kubeconfig, "--context", "local-1", "--reachability"}, args...)...)
		if code != ExitOK && code != ExitFindings {
			t.Fatalf("vigil check %v: exit %d: %s", args, code, errOut)
		}
		return out
	}

	check("-o", "json") // the first recorded evaluation
	time.Sleep(1100 * time.Millisecond)
	cs := lc.Client(t, "local-1")
	one := int32(1)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "drifter", Namespace: "fintech-staging"},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "drifter"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "drifter"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "docker.io/library/nginx:latest"}}}}}}
	if _, err = cs.AppsV1().Deployments("fintech-staging").Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Let the ReplicaSet make its pod, so the two evaluations below see the same estate.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		pods, lerr := cs.CoreV1().Pods("fintech-staging").List(context.Background(), metav1.ListOptions{LabelSelector: "app=drifter"})
		if lerr == nil && len(pods.Items) > 0 {
			break
		}
	}
	time.Sleep(1100 * time.Millisecond)
	type items struct {
		Items []struct{ Item, Verdict string } `json:"items"`
	}
	// The truth is the JSON report of the same estate just before and just after the HTML
	// one: an item must read as either says (they agree unless a controller moved between).
	var before, after items
	if err = json.Unmarshal([]byte(check("-o", "json")), &before); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	page := []byte(check("-o", "html"))
	if err = json.Unmarshal([]byte(check("-o", "json", "--no-history")), &after); err != nil {
		t.Fatal(err)
	}
	truth := before
	if len(after.Items) != len(before.Items) {
		t.Fatalf("the JSON reports before and after the HTML one have %d and %d items", len(before.Items), len(after.Items))
	}
	if err = os.WriteFile(filepath.Join(t.TempDir(), "report.html"), page, 0o600); err != nil {
		t.Fatal(err)
	}

	shot := filepath.Join(t.TempDir(), "report.png")
	run := chromiumRun(t, browser, page, "--screenshot="+shot, "--window-size=1280,2400")
	run.assertClean(t)
	img, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v\n%s", err, run.stderrTail())
	}
	assertNotBlank(t, img)

	dom := chromiumRun(t, browser, page, "--dump-dom")
	dom.assertClean(t)
	verdictWord := map[string]string{"met": "MET", "not-met": "NOT MET", "unverified": "UNVERIFIED"}
	rows := domRows(t, dom.stdout)
	for i, it := range truth.Items {
		want := []string{verdictWord[it.Verdict], verdictWord[after.Items[i].Verdict]}
		n := 0
		for _, cells := range rows {
			if len(cells) == 3 && cells[1] == it.Item && (cells[0] == want[0] || cells[0] == want[1]) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("the page chromium built has %d checklist rows %s | %s, want 1", n, strings.Join(slices.Compact(want), " or "), it.Item)
		}
	}
	if len(truth.Items) == 0 {
		t.Fatal("the JSON report has no checklist item")
	}
	for _, id := range []string{"summary", "groups", "checklist", "reachability", "history", "findings"} {
		if !strings.Contains(dom.stdout, `id="`+id+`"`) {
			t.Errorf("the page has no section %q", id)
		}
	}
	// Printing: the print stylesheet lays the page out on A4/Letter pages, no request either.
	pdf := filepath.Join(t.TempDir(), "report.pdf")
	printed := chromiumRun(t, browser, page, "--no-pdf-header-footer", "--print-to-pdf="+pdf)
	printed.assertClean(t)
	doc, err := os.ReadFile(pdf)
	if err != nil || !bytes.HasPrefix(doc, []byte("%PDF-")) {
		t.Fatalf("chromium printed no PDF (%v)\n%s", err, printed.stderrTail())
	}
	pages := bytes.Count(doc, []byte("/Type /Page")) - bytes.Count(doc, []byte("/Type /Pages"))
	if pages < 2 {
		t.Errorf("the printed report has %d pages: the findings alone fill more than one", pages)
	}
	t.Logf("printed: %d pages, %d bytes", pages, len(doc))

	if os.Getenv("VIGIL_UPDATE_SCREENS") == "1" {
		if err = os.WriteFile(reportScreen, img, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", reportScreen)
	}
	t.Logf("report %d bytes, %d checklist items, screenshot %d bytes; the proxy saw %v (none of them the page's but its load, by the NetLog)", len(page), len(truth.Items), len(img), run.proxied)
}

// chromiumResult is what one headless chromium run left behind.
type chromiumResult struct {
	stdout, stderr string
	// proxied are the requests the proxy saw; fromPage those chromium's NetLog attributes to
	// the page (its load excluded); loads counts the page's loads the proxy served.
	proxied, fromPage []string
	loads             int
}

// chromiumRun opens page at pageURL in headless chromium with args, every request through a
// recording proxy that serves the page and refuses everything else.
func chromiumRun(t *testing.T, browser string, page []byte, args ...string) chromiumResult {
	t.Helper()
	var mu sync.Mutex
	var res chromiumResult
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := r.URL.String()
		if r.Method == http.MethodConnect {
			u = "CONNECT " + r.Host
		}
		mu.Lock()
		res.proxied = append(res.proxied, u)
		mu.Unlock()
		if r.Method == http.MethodGet && u == pageURL {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(page)
			return
		}
		http.Error(w, "refused by the test's proxy", http.StatusForbidden)
	}))
	defer proxy.Close()
	dir := t.TempDir()
	netlog := filepath.Join(dir, "netlog.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, append([]string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--no-first-run", "--no-default-browser-check",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--enable-logging=stderr", "--v=0", "--log-net-log=" + netlog,
		"--proxy-server=" + proxy.URL, "--proxy-bypass-list=<-loopback>"}, append(args, pageURL)...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, tail(stderr.String(), 3000))
	}
	res.stdout, res.stderr = stdout.String(), stderr.String()
	res.fromPage = pageRequests(t, netlog)
	mu.Lock()
	defer mu.Unlock()
	for _, u := range res.proxied {
		if u == pageURL {
			res.loads++
		}
	}
	return res
}

func (r chromiumResult) stderrTail() string { return tail(r.stderr, 3000) }

// assertClean fails on any console message of the page and on any request the page made
// besides its own load (which must have happened, once).
func (r chromiumResult) assertClean(t *testing.T) {
	t.Helper()
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, ":CONSOLE") || strings.Contains(l, "Uncaught") {
			t.Errorf("the page logged to the console: %s", l)
		}
	}
	if r.loads != 1 {
		t.Errorf("the page was loaded %d times, want 1 (proxy saw %v)", r.loads, r.proxied)
	}
	for _, u := range r.fromPage {
		t.Errorf("the page requested %s: a self-contained report makes no request", u)
	}
	for _, u := range r.proxied {
		if strings.Contains(u, "report.invalid") && u != pageURL {
			t.Errorf("a request for %s reached the proxy", u)
		}
	}
}

// pageRequests reads chromium's NetLog: the URL requests whose initiator, or whose network
// isolation key, is the page's origin, but for the page's own load.
func pageRequests(t *testing.T, path string) (fromPage []string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("chromium's NetLog: %v", err)
	}
	var nl struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int `json:"type"`
			Params struct {
				URL        string `json:"url"`
				Initiator  string `json:"initiator"`
				Isolation  string `json:"network_isolation_key"`
				RequestTyp string `json:"request_type"`
			} `json:"params"`
		} `json:"events"`
	}
	if err = json.Unmarshal(raw, &nl); err != nil {
		t.Fatalf("chromium's NetLog %s: %v", path, err)
	}
	start, ok := nl.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	if !ok {
		t.Fatal("chromium's NetLog has no URL_REQUEST_START_JOB event type")
	}
	const origin = "http://report.invalid"
	for _, e := range nl.Events {
		if e.Type != start || e.Params.URL == "" {
			continue
		}
		if e.Params.URL == pageURL && e.Params.RequestTyp == "main frame" {
			continue
		}
		if strings.HasPrefix(e.Params.Initiator, origin) || strings.Contains(e.Params.Isolation, origin) {
			fromPage = append(fromPage, e.Params.URL)
		}
	}
	return fromPage
}

// assertNotBlank fails unless img is a PNG with a fair share of pixels that are not white.
func assertNotBlank(t *testing.T, img []byte) {
	t.Helper()
	m, err := png.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("the screenshot is no PNG: %v", err)
	}
	b := m.Bounds()
	inked, coloured := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := m.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				inked++
			}
			if max(r, g, bl)-min(r, g, bl) > 0x4000 {
				coloured++
			}
		}
	}
	total := (b.Dx() / 2) * (b.Dy() / 2)
	if inked*100 < total || coloured == 0 {
		t.Fatalf("the screenshot (%dx%d) looks blank: %d of %d sampled pixels not white, %d coloured", b.Dx(), b.Dy(), inked, total, coloured)
	}
	t.Logf("screenshot %dx%d: %.1f %% of pixels inked, %d coloured samples", b.Dx(), b.Dy(), 100*float64(inked)/float64(total), coloured)
}

// domRows are the cells' text of every table row of the DOM chromium dumped.
func domRows(t *testing.T, dom string) [][]string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatalf("parsing chromium's DOM: %v", err)
	}
	var rows [][]string
	var visit func(n *html.Node)
	text := func(n *html.Node) string {
		var b strings.Builder
		var walk func(*html.Node)
		walk = func(c *html.Node) {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			}
			for k := c.FirstChild; k != nil; k = k.NextSibling {
				walk(k)
			}
		}
		walk(n)
		return strings.TrimSpace(b.String())
	}
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" {
			var cells []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
					cells = append(cells, text(c))
				}
			}
			rows = append(rows, cells)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(doc)
	if len(rows) == 0 {
		t.Fatalf("chromium's DOM has no table row:\n%s", tail(dom, 2000))
	}
	return rows
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("…%s", s[len(s)-n:])
}
