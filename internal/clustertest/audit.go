package clustertest

import "encoding/json"

// AuditEvent is the part of an apiserver audit record (audit.k8s.io/v1 Event) tests look at.
type AuditEvent struct {
	Stage     string `json:"stage"`
	Verb      string `json:"verb"`
	UserAgent string `json:"userAgent"`
	User      struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		Subresource string `json:"subresource"`
		APIGroup    string `json:"apiGroup"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

func parseAuditLine(b []byte) (AuditEvent, error) {
	var ev AuditEvent
	err := json.Unmarshal(b, &ev)
	return ev, err
}
