package cmd

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/internal/clustertest"
)

// TestCheckSinceReportsDrift (issue 16, part 5): two live evaluations of local-1 with a
// change in between (a Deployment of an unpinned image from a registry nobody allowed, in
// fintech-staging). The second, with --since a time between them, reports the drift.
// Differential: what it says is new, fixed and changed is computed here from the two JSON
// reports themselves (their fail findings and item verdicts), not from the history file.
func TestCheckSinceReportsDrift(t *testing.T) {
	lc, err := clustertest.Start(clustertest.Options{Clusters: 1, Seed: true})
	if err != nil {
		t.Fatalf("local cluster: %v", err)
	}
	t.Cleanup(lc.Stop)
	home := t.TempDir()
	env := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_STATE_HOME": filepath.Join(home, "state")}
	type doc struct {
		Findings []struct {
			Check    string `json:"check"`
			Status   string `json:"status"`
			Resource struct {
				Kind, Namespace, Name string
			} `json:"resource"`
		} `json:"findings"`
		Items []struct {
			Item    string `json:"item"`
			Verdict string `json:"verdict"`
		} `json:"items"`
		Drift *struct {
			Items []struct {
				Item, From, To string
			} `json:"items"`
			NewFailures []string `json:"newFailures"`
			Fixed       []string `json:"fixed"`
		} `json:"drift"`
	}
	check := func(args ...string) doc {
		t.Helper()
		out, errOut, code := runVigil(t, env, "", append([]string{"check", "--kubeconfig", lc.Kubeconfig, "--context", "local-1", "-o", "json"}, args...)...)
		if code != ExitOK && code != ExitFindings {
			t.Fatalf("vigil check %v: exit %d: %s", args, code, errOut)
		}
		var d doc
		if jerr := json.Unmarshal([]byte(out), &d); jerr != nil {
			t.Fatalf("vigil check %v: %v", args, jerr)
		}
		return d
	}
	failing := func(d doc) []string {
		var out []string
		for _, f := range d.Findings {
			if f.Status == "fail" {
				r := f.Resource.Kind + "/" + f.Resource.Name
				switch {
				case f.Resource.Name == "":
					r = f.Resource.Kind
				case f.Resource.Namespace != "":
					r = f.Resource.Kind + "/" + f.Resource.Namespace + "/" + f.Resource.Name
				}
				out = append(out, f.Check+" "+r)
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}

	if _, errOut, code := runVigil(t, env, "", "check", "--kubeconfig", lc.Kubeconfig, "--context", "local-1", "--since", "1h"); code != ExitUsage || !strings.Contains(errOut, "no evaluation recorded yet") {
		t.Errorf("--since with no history: exit %d, %q; want a usage error saying none is recorded", code, errOut)
	}
	before := check()
	time.Sleep(1100 * time.Millisecond) // RFC 3339 has seconds
	between := time.Now().UTC().Format(time.RFC3339)
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
	after := check("--since", between)
	if after.Drift == nil {
		t.Fatal("no drift in the JSON report with --since")
	}
	was, now := failing(before), failing(after)
	var wantNew, wantFixed []string
	for _, f := range now {
		if !slices.Contains(was, f) {
			wantNew = append(wantNew, f)
		}
	}
	for _, f := range was {
		if !slices.Contains(now, f) {
			wantFixed = append(wantFixed, f)
		}
	}
	if len(wantNew) == 0 || !slices.ContainsFunc(wantNew, func(s string) bool { return strings.Contains(s, "drifter") }) {
		t.Fatalf("the reports themselves show no new failure of drifter (%v): the change did not fail a check", wantNew)
	}
	got := slices.Clone(after.Drift.NewFailures)
	slices.Sort(got)
	if !slices.Equal(got, wantNew) {
		t.Errorf("drift new failures %v\nwant (from the two reports) %v", got, wantNew)
	}
	gotFixed := slices.Clone(after.Drift.Fixed)
	slices.Sort(gotFixed)
	if !slices.Equal(gotFixed, wantFixed) {
		t.Errorf("drift fixed %v, want %v", gotFixed, wantFixed)
	}
	verdicts := map[string]string{}
	for _, it := range before.Items {
		verdicts[it.Item] = it.Verdict
	}
	var wantItems []string
	for _, it := range after.Items {
		if v, ok := verdicts[it.Item]; ok && v != it.Verdict {
			wantItems = append(wantItems, it.Item+": "+v+" → "+it.Verdict)
		}
	}
	var gotItems []string
	for _, c := range after.Drift.Items {
		gotItems = append(gotItems, c.Item+": "+c.From+" → "+c.To)
	}
	slices.Sort(wantItems)
	slices.Sort(gotItems)
	if !slices.Equal(gotItems, wantItems) {
		t.Errorf("drift items %v, want %v", gotItems, wantItems)
	}
	// The table says it in words.
	out, _, _ := runVigil(t, env, "", "check", "--kubeconfig", lc.Kubeconfig, "--context", "local-1", "--since", between, "--no-history")
	if !strings.Contains(out, "\nDRIFT\n") || !strings.Contains(out, "new failure: "+wantNew[0]) {
		t.Errorf("the table's drift section lacks %q:\n%s", wantNew[0], out[max(0, len(out)-2000):])
	}
	t.Logf("drift since %s: %d new failures, %d fixed, %d items changed", between, len(wantNew), len(wantFixed), len(wantItems))

	// Another scope is not compared: -n fintech-prod reads a quarter of the namespaces, so
	// against the runs above, everything failing elsewhere would read as fixed. The scope
	// expected is written from the kubeconfig (client-go's reading of it) and the defaults.
	raw, err := clientcmd.LoadFromFile(lc.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	user := raw.Contexts["local-1"].AuthInfo
	all := slices.Clone(config.DefaultNamespaces)
	slices.Sort(all)
	_, errOut, code := runVigil(t, env, "", "check", "--kubeconfig", lc.Kubeconfig, "--context", "local-1", "-n", "fintech-prod", "--since", between, "--no-history")
	wantErr := "this run evaluates namespaces fintech-prod by " + user + "; the last one recorded then"
	if code != ExitUsage || !strings.Contains(errOut, wantErr) || !strings.Contains(errOut, "evaluated namespaces "+strings.Join(all, ", ")+" by "+user) {
		t.Errorf("-n fintech-prod --since a time of full runs only: exit %d, %q; want a usage error saying %q and the full run's scope", code, errOut, wantErr)
	}
	check("-n", "fintech-prod")
	check() // a full run after it: the latest before mid, of another scope
	time.Sleep(1100 * time.Millisecond)
	mid := time.Now().UTC().Format(time.RFC3339)
	time.Sleep(1100 * time.Millisecond)
	narrow := check("-n", "fintech-prod", "--since", mid)
	if narrow.Drift == nil || len(narrow.Drift.NewFailures)+len(narrow.Drift.Fixed)+len(narrow.Drift.Items) != 0 {
		t.Errorf("-n fintech-prod against the run of fintech-prod before it, nothing changed there: drift %+v", narrow.Drift)
	}
}
