package actions

// ArgoServerClient talks to Argo CD's REST API.
type ArgoServerClient struct{}
