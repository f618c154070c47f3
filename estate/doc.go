// Package estate is what vigil knows about a kube context's estate, as
// values: the immutable Snapshot a session publishes (services with their
// health and its reason, pods, usage, HPAs and VPAs, alerts, Argo CD apps,
// secrets' metadata, events, findings, the fleet summary) and the pure
// derivations that build it from API objects (health, autoscaling, gitops,
// rollout history, the alert and error-rate joins, fleet health).
//
// It reads k8s.io/api and k8s.io/apimachinery value types and never imports
// k8s.io/client-go: cluster/ runs the informers and polls and calls
// Assemble; ui/ and the headless commands read the values. The same input
// gives the same snapshot, so the derivations are tested without a cluster.
package estate
