package config

import (
	"strings"
	"testing"
)

// TestLogsOf: logs are on unless a logs: false is in force, named by field, file and line; a
// context may turn them back on over the global setting, never over the system-wide layer.
func TestLogsOf(t *testing.T) {
	none := func(string) string { return "" }
	user := "logs: false\ncontexts:\n  local-1:\n    logs: true\n  audit:\n    logs: false\n"
	cfg, err := LoadWithSystem(userFile(t, user), none)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		context  string
		enabled  bool
		fromHead string
		line     string
	}{
		{"local-1", true, "", ""},
		{"staging", false, "logs (", ":1)"},
		{"audit", false, "contexts.audit.logs (", ":6)"},
	} {
		got := cfg.LogsOf(tc.context)
		if got.Enabled != tc.enabled || !strings.HasPrefix(got.From, tc.fromHead) || !strings.HasSuffix(got.From, tc.line) {
			t.Errorf("LogsOf(%s) = %+v, want enabled=%v from %q…%q", tc.context, got, tc.enabled, tc.fromHead, tc.line)
		}
	}
	if def, _ := LoadWithSystem(Path{}, none); !def.LogsOf("any").Enabled {
		t.Error("logs are off without any config")
	}

	sys, err := LoadWithSystem(userFile(t, "logs: true\n"), systemLayer(t, "contexts:\n  local-1:\n    logs: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := sys.LogsOf("local-1"); got.Enabled || !strings.Contains(got.From, "system.yaml:3") {
		t.Errorf("system-wide logs: false = %+v, want disabled, named in system.yaml:3", got)
	}
	if s := sys.For("local-1").Logs; s == nil || *s {
		t.Errorf("For(local-1).Logs = %v, want false from the system layer", s)
	}
	if !sys.LogsOf("local-2").Enabled {
		t.Error("the system layer's local-1 setting reached local-2")
	}
}
