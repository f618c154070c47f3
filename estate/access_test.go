package estate

import (
	"slices"
	"testing"
)

// Visibility against every case by hand: a kind is unseen where any of its
// resources is refused or failing (refusals first), partly when some of it
// is read; not installed only when none of it is served.
func TestVisibility(t *testing.T) {
	const es, ces = "externalsecrets.external-secrets.io", "clusterexternalsecrets.external-secrets.io"
	denied := func(res string, ns ...string) ResourceStatus {
		return ResourceStatus{Resource: res, Access: AccessDenied, Namespaces: ns, Reason: "refused"}
	}
	failing := ResourceStatus{Resource: ces, Access: AccessFailing, Reason: "503"}
	missing := func(res string) ResourceStatus { return ResourceStatus{Resource: res, Access: AccessNotInstalled} }
	for _, tc := range []struct {
		name      string
		resources []ResourceStatus
		installed map[string]bool
		ns        string
		want      Visibility
	}{
		{"all watched", []ResourceStatus{{Resource: es}, {Resource: ces}}, nil, "", Visibility{}},
		{"not reported", nil, nil, "", Visibility{}},
		{"refused everywhere", []ResourceStatus{denied(es), denied(ces)}, nil, "", Visibility{Access: AccessDenied, Resource: es, Reason: "refused"}},
		{"one of two refused", []ResourceStatus{{Resource: es}, denied(ces)}, nil, "", Visibility{Access: AccessDenied, Resource: ces, Reason: "refused", Partial: true}},
		{"refused in a namespace", []ResourceStatus{denied(es, "fintech-prod"), {Resource: ces}}, nil, "",
			Visibility{Access: AccessDenied, Resource: es, Namespaces: []string{"fintech-prod"}, Reason: "refused", Partial: true}},
		{"refused in that namespace", []ResourceStatus{denied(es, "fintech-prod")}, nil, "fintech-prod",
			Visibility{Access: AccessDenied, Resource: es, Reason: "refused", Partial: true}},
		{"refused in another namespace", []ResourceStatus{denied(es, "fintech-prod")}, nil, "fintech-staging", Visibility{}},
		{"refused in every watched namespace", []ResourceStatus{denied(es, "fintech-prod", "fintech-staging"), denied(ces)}, nil, "",
			Visibility{Access: AccessDenied, Resource: es, Namespaces: []string{"fintech-prod", "fintech-staging"}, Reason: "refused"}},
		{"refusal before failure", []ResourceStatus{failing, denied(es)}, nil, "", Visibility{Access: AccessDenied, Resource: es, Reason: "refused"}},
		{"failing", []ResourceStatus{{Resource: es}, failing}, nil, "", Visibility{Access: AccessFailing, Resource: ces, Reason: "503", Partial: true}},
		{"none installed", []ResourceStatus{missing(es), missing(ces)}, nil, "", Visibility{Access: AccessNotInstalled, Resource: es}},
		{"one installed", []ResourceStatus{{Resource: es}, missing(ces)}, nil, "", Visibility{}},
		{"group not installed", nil, map[string]bool{"external-secrets.io": false}, "", Visibility{Access: AccessNotInstalled, Resource: es}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Snapshot{Resources: tc.resources, Installed: tc.installed,
				Namespaces: []NamespaceStatus{{Name: "fintech-prod"}, {Name: "fintech-staging"}, {Name: "fintech-dr", Missing: true}}}
			got := s.Visibility(tc.ns, es, ces)
			if got.Access != tc.want.Access || got.Resource != tc.want.Resource || got.Reason != tc.want.Reason ||
				got.Partial != tc.want.Partial || !slices.Equal(got.Namespaces, tc.want.Namespaces) {
				t.Errorf("Visibility = %+v, want %+v", got, tc.want)
			}
		})
	}
}
