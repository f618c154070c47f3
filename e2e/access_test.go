package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestWhoCanAndReachOnScreen (issue 16, parts 2 and 3, in the cockpit): on local-1,
// `:who-can get secrets payment-secrets -n fintech-prod` lists subjects, and the API server
// allows each one the request when asked by SubjectAccessReview; the count is what
// `vigil who-can -o json` answers. `:reach` heads the PCI matrix with the counts of
// `vigil check --reachability -o json` (whose matrix the brute-force tests hold).
func TestWhoCanAndReachOnScreen(t *testing.T) {
	e := newAttestEnv(t)
	term, err := StartTerminal(fmt.Sprintf("vigil-access-%d", time.Now().UnixNano()), 220, 200, e.env, vigil, "--context", "local-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(term.Close)
	waitSynced(t, term, "fintech-prod", "payment-service")

	t.Run("who-can", func(t *testing.T) {
		out, errOut, code := e.vigil("who-can", "--context", "local-1", "get", "secrets", "payment-secrets", "-n", "fintech-prod", "-o", "json")
		if code != 0 {
			t.Fatalf("vigil who-can: exit %d: %s", code, errOut)
		}
		var ans struct {
			Subjects []struct{ Kind, Name, Namespace string }
		}
		if err := json.Unmarshal([]byte(out), &ans); err != nil {
			t.Fatal(err)
		}
		command(t, term, "who-can get secrets payment-secrets -n fintech-prod")
		head := fmt.Sprintf("who can get secrets payment-secrets -n fintech-prod (in namespace fintech-prod, context local-1): %d subjects", len(ans.Subjects))
		screen := waitLine(t, term, "the who-can answer", 30*time.Second, head)
		subject := regexp.MustCompile(`^(User|Group|ServiceAccount) (\S+)\s*$`)
		cs := lc.Client(t, "local-1")
		shown := 0
		for _, l := range strings.Split(screen, "\n") {
			m := subject.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			shown++
			spec := authzv1.SubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
				Namespace: "fintech-prod", Verb: "get", Resource: "secrets", Name: "payment-secrets"}}
			switch m[1] {
			case "User":
				spec.User = m[2]
			case "Group":
				spec.User, spec.Groups = "someone-only-in-the-group", []string{m[2]}
			case "ServiceAccount":
				ns, name, _ := strings.Cut(m[2], "/")
				spec.User = "system:serviceaccount:" + ns + ":" + name
				spec.Groups = []string{"system:serviceaccounts", "system:serviceaccounts:" + ns}
			}
			sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authzv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !sar.Status.Allowed {
				t.Errorf("%s %s is listed, but the API server denies it: %s", m[1], m[2], sar.Status.Reason)
			}
		}
		if shown != len(ans.Subjects) || shown == 0 {
			t.Errorf("%d subjects on screen, vigil who-can answers %d:\n%s", shown, len(ans.Subjects), screen)
		}
		capture(t, screen, "26-who-can.txt")
		_ = term.Send("Escape")
	})

	t.Run("reach", func(t *testing.T) {
		out, errOut, code := e.vigil("check", "--context", "local-1", "--reachability", "--no-history", "-o", "json")
		if code > 1 {
			t.Fatalf("vigil check --reachability: exit %d: %s", code, errOut)
		}
		var rep struct {
			Reachability struct {
				Scope           []string
				Ingress, Egress []struct{ From, To string }
			}
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		r := rep.Reachability
		if len(r.Scope) == 0 {
			t.Fatal("precondition: no PCI scope in the report")
		}
		command(t, term, "reach")
		screen := waitLine(t, term, "the reachability header", 30*time.Second,
			fmt.Sprintf("%d workloads, %d connections in, %d out", len(r.Scope), len(r.Ingress), len(r.Egress)))
		capture(t, screen, "27-reach.txt")
		for _, e := range append(r.Ingress, r.Egress...) {
			if LineWith(screen, e.From+" → "+e.To) == "" {
				t.Errorf("no row %s → %s:\n%s", e.From, e.To, screen)
				break
			}
		}
	})
}
