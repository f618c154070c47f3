package load

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// applyDefaults is filled in by the defaulting step.
func applyDefaults(metav1.Object) {}
