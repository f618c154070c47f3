package checks

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// MissingNamespaces returns the namespaces inv.Config.Namespaces asks for that the cluster's
// Namespace list lacks; none when that list is unknown (forbidden, failing). An empty list is
// known: none of the asked namespaces exists.
func MissingNamespaces(inv *Inventory) []string {
	_, forbidden := inv.Forbidden[ResNamespaces]
	_, failing := inv.Failing[ResNamespaces]
	if forbidden || failing {
		return nil
	}
	var missing []string
	for _, want := range inv.Config.Namespaces {
		if want != "" && !slices.ContainsFunc(inv.Namespaces, func(n *corev1.Namespace) bool { return n.Name == want }) {
			missing = append(missing, want)
		}
	}
	return missing
}

// Readable splits the asked namespaces (those that exist) by what the API let the identity
// list in them (inv.RefusedIn): kinds are those refused in some of them and not in others
// (sorted), refused the namespaces refusing any of those kinds, readable the others. A
// refused kind makes every check needing it unknown in every namespace (a verdict on part of
// the namespaces would read as one on all); evaluating the readable namespaces alone decides
// those checks there. Nothing when the refusals are the same in every namespace, or no
// namespace allows every such kind.
func Readable(inv *Inventory) (kinds, refused, readable []string) {
	if len(inv.RefusedIn) == 0 {
		return nil, nil, nil
	}
	missing := MissingNamespaces(inv)
	var asked []string
	for _, ns := range inv.Config.Namespaces {
		if !slices.Contains(missing, ns) {
			asked = append(asked, ns)
		}
	}
	count := map[string]int{}
	for _, ns := range asked {
		for _, k := range inv.RefusedIn[ns] {
			count[k]++
		}
	}
	for k, n := range count {
		if n < len(asked) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return nil, nil, nil
	}
	slices.Sort(kinds)
	for _, ns := range asked {
		if slices.ContainsFunc(kinds, func(k string) bool { return slices.Contains(inv.RefusedIn[ns], k) }) {
			refused = append(refused, ns)
		} else {
			readable = append(readable, ns)
		}
	}
	if len(readable) == 0 {
		return nil, nil, nil
	}
	return kinds, refused, readable
}

// ReadableHint says Readable's split in words; flag is how the namespaces are chosen ("-n",
// or "vigil -n" where no command line is at hand).
func ReadableHint(kinds, refused, readable []string, flag string) string {
	shown := strings.Join(kinds[:min(3, len(kinds))], ", ")
	if len(kinds) > 3 {
		shown += fmt.Sprintf(" and %d more", len(kinds)-3)
	}
	// The way out first: a narrow terminal cuts the end of the line.
	return fmt.Sprintf("%s %s evaluates what this identity can read: the API refuses it %s in %s (not in %s), so the checks needing them are unknown in every namespace",
		flag, strings.Join(readable, ","), shown, strings.Join(refused, ", "), strings.Join(readable, ", "))
}
