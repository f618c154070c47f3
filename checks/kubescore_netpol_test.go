package checks_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/load"
)

// kube-score's grades for its "Pod NetworkPolicy" test (score/networkpolicy_test.go): a pod is
// AllOK only when NetworkPolicies select it for both Ingress and Egress, Warning when for one,
// Critical when for none. net-pods-selected means the same thing: pass for AllOK, fail for both
// Warning and Critical. The fixtures are kube-score's own (testdata/kubescore/networkpolicy).
var kubeScorePodNetworkPolicy = map[string]string{
	"networkpolicy-not-matching.yaml":                      "critical",
	"networkpolicy-matching.yaml":                          "ok",
	"networkpolicy-matching-only-ingress.yaml":             "warning",
	"networkpolicy-matching-only-egress.yaml":              "warning",
	"networkpolicy-deployment-matching.yaml":               "ok",
	"networkpolicy-statefulset-matching.yaml":              "ok",
	"networkpolicy-cronjob-matching.yaml":                  "ok",
	"networkpolicy-deployment-not-matching-selector.yaml":  "critical",
	"networkpolicy-statefulset-not-matching-selector.yaml": "critical",
	"networkpolicy-cronjob-not-matching-selector.yaml":     "critical",
}

// kubeScoreDeliberate are the fixtures where vigil deliberately differs
// (docs/checks.md, "kube-score"): batch/v1beta1 CronJobs are no longer
// served (removed in Kubernetes 1.25), so vigil lists them as skipped
// inputs instead of judging them.
var kubeScoreDeliberate = map[string]string{
	"networkpolicy-cronjob-matching.yaml":              "batch/v1beta1",
	"networkpolicy-cronjob-not-matching-selector.yaml": "batch/v1beta1",
}

func TestKubeScorePodNetworkPolicyAgreement(t *testing.T) {
	c := mustCheck(t, "net-pods-selected")
	agree := 0
	for file, grade := range kubeScorePodNetworkPolicy {
		path := filepath.Join("..", "testdata", "kubescore", "networkpolicy", file)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inv, err := load.Bytes(path, data)
		if err != nil {
			t.Fatal(err)
		}
		fs := checks.Evaluate(c, inv)
		if apiVersion, ok := kubeScoreDeliberate[file]; ok {
			if worst(fs) != checks.NotApplicable || len(inv.Skipped) != 1 || inv.Skipped[0].APIVersion != apiVersion {
				t.Errorf("%s: deliberate difference no longer holds (skipped %v):\n%s", file, inv.Skipped, dump(fs))
			}
			continue
		}
		want := checks.Fail
		if grade == "ok" {
			want = checks.Pass
		}
		if got := worst(fs); got != want {
			t.Errorf("%s: kube-score grades %s, vigil says %s:\n%s", file, grade, got, dump(fs))
			continue
		}
		agree++
	}
	if judged := len(kubeScorePodNetworkPolicy) - len(kubeScoreDeliberate); agree != judged {
		t.Errorf("agreement %d of %d judged fixtures", agree, judged)
	}
	t.Logf("net-pods-selected agrees with kube-score's Pod NetworkPolicy on %d of %d fixtures (%d deliberate differences)", agree, len(kubeScorePodNetworkPolicy), len(kubeScoreDeliberate))
}
