package services

import (
	"context"
	"errors"

	"charm.land/bubbles/v2/key"

	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/logs"
)

// keyLogs opens the logs of a service: the Logs binding of the list's and
// the detail view's key maps.
var keyLogs = key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "logs"))

// logsView is the logs view of ns/name; where logs are off (logs: false) it
// opens to say so, naming the setting.
func logsView(c common.Common, d *common.Data, ns, name string, previous bool) *logs.Model {
	open := d.Logs
	if open == nil {
		why := d.LogsOff
		if why == "" {
			why = "logs are not available for this context"
		}
		open = func(context.Context, common.LogsRequest) (common.LogsFeed, error) {
			return common.LogsFeed{}, errors.New(why)
		}
	}
	return logs.New(c, open, ns, name, previous)
}

func (m *Model) openLogs(ns, name string, previous bool) {
	m.PushChild(logsView(m.common, m.data, ns, name, previous))
}

func (m *Detail) openLogs(ns, name string, previous bool) {
	m.PushChild(logsView(m.common, m.data, ns, name, previous))
}

// crashLooping reports whether a pod of s is in CrashLoopBackOff: its logs
// open on the previous run, the one that crashed.
func crashLooping(s estate.Service) bool {
	for _, p := range s.Pods {
		if p.Status == "CrashLoopBackOff" {
			return true
		}
	}
	return false
}
