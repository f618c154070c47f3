package cmd

import (
	"maps"
	"testing"

	"github.com/vigil-k8s/vigil/config"
)

// TestSilenceUsesTheContextsAlertmanager: vigil silence talks to --alertmanager-url, else
// $VIGIL_ALERTMANAGER_URL, else the config's alertmanager for the context (the one the
// terminal UI silences through; it was ignored, and the command said no Alertmanager was
// configured); the context's alertLabels.match scopes its silences whichever URL was given.
func TestSilenceUsesTheContextsAlertmanager(t *testing.T) {
	s := config.Default().Settings
	s.Alertmanager = "http://am.config:9093"
	s.AlertLabels.Match = map[string]string{"cluster": "prod-eu"}
	for _, tc := range []struct {
		name, flag, env, want string
		settings              config.Settings
	}{
		{"flag first", "http://am.flag:9093", "http://am.env:9093", "http://am.flag:9093", s},
		{"then the environment", "", "http://am.env:9093", "http://am.env:9093", s},
		{"then the config", "", "", "http://am.config:9093", s},
		{"none", "", "", "", config.Default().Settings},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, match := alertmanagerOf(tc.flag, tc.env, tc.settings)
			if u != tc.want || !maps.Equal(match, tc.settings.AlertLabels.Match) {
				t.Errorf("alertmanagerOf = %q, %v; want %q, %v", u, match, tc.want, tc.settings.AlertLabels.Match)
			}
		})
	}
}
