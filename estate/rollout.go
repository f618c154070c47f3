package estate

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// changeCause is the annotation `kubectl rollout history` shows.
const changeCause = "kubernetes.io/change-cause"

// revisionsByWorkload returns each workload's rollout history, newest first:
// ReplicaSets for Deployments, ControllerRevisions for StatefulSets and
// DaemonSets.
func revisionsByWorkload(objs Objects, rsOwner map[workloadID]string) map[string][]Revision {
	out := map[string][]Revision{}
	current := map[string]int64{}
	for _, d := range objs.Deployments {
		if n, err := strconv.ParseInt(d.Annotations["deployment.kubernetes.io/revision"], 10, 64); err == nil {
			current[d.Namespace+"/"+d.Name+"/Deployment"] = n
		}
	}
	for _, rs := range objs.ReplicaSets {
		dep, ok := rsOwner[workloadID{rs.Namespace, rs.Name, "ReplicaSet"}]
		if !ok {
			continue
		}
		key := rs.Namespace + "/" + dep + "/Deployment"
		n, _ := strconv.ParseInt(rs.Annotations["deployment.kubernetes.io/revision"], 10, 64)
		out[key] = append(out[key], Revision{
			Number: n, Name: rs.Name, Images: imagesOf(rs.Spec.Template.Spec.Containers),
			ChangeCause: rs.Annotations[changeCause], Created: rs.CreationTimestamp.Time,
			Current: n > 0 && n == current[key], Replicas: rs.Status.Replicas, Ready: rs.Status.ReadyReplicas,
		})
	}
	currentRev := map[string]string{}
	for _, s := range objs.StatefulSets {
		currentRev[s.Namespace+"/"+s.Name+"/StatefulSet"] = s.Status.UpdateRevision
	}
	for _, cr := range objs.ControllerRevisions {
		ref := metav1.GetControllerOf(cr)
		if ref == nil || (ref.Kind != "StatefulSet" && ref.Kind != "DaemonSet") {
			continue
		}
		key := cr.Namespace + "/" + ref.Name + "/" + ref.Kind
		out[key] = append(out[key], Revision{
			Number: cr.Revision, Name: cr.Name, Images: controllerRevisionImages(cr),
			ChangeCause: cr.Annotations[changeCause], Created: cr.CreationTimestamp.Time,
			Current: cr.Name == currentRev[key],
		})
	}
	for k, revs := range out {
		sort.Slice(revs, func(i, j int) bool { return revs[i].Number > revs[j].Number })
		if _, ok := currentRev[k]; !ok && len(revs) > 0 && k[len(k)-len("DaemonSet"):] == "DaemonSet" {
			revs[0].Current = true
		}
	}
	return out
}

// RevisionPatch is the part of a ControllerRevision's data vigil reads: the
// container images. cluster's cache transform keeps exactly this of it.
type RevisionPatch struct {
	Spec struct {
		Template struct {
			Spec struct {
				Containers []struct {
					Image string `json:"image"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

func controllerRevisionImages(cr *appsv1.ControllerRevision) []string {
	var p RevisionPatch
	if len(cr.Data.Raw) == 0 || json.Unmarshal(cr.Data.Raw, &p) != nil {
		return nil
	}
	var out []string
	for _, c := range p.Spec.Template.Spec.Containers {
		out = append(out, c.Image)
	}
	return out
}

// countRevisionPods fills the pod counts of a StatefulSet's or DaemonSet's
// ControllerRevisions from its pods' controller-revision-hash label (a
// ReplicaSet has them in its status; a ControllerRevision has none).
func countRevisionPods(revs []Revision, pods []PodInfo) {
	for i := range revs {
		for _, p := range pods {
			// A StatefulSet's pods carry the revision's name, a DaemonSet's its hash.
			if p.Revision != "" && (p.Revision == revs[i].Name || strings.HasSuffix(revs[i].Name, "-"+p.Revision)) {
				revs[i].Replicas++
				if p.Ready {
					revs[i].Ready++
				}
			}
		}
	}
}
