package config

// LogsSetting says whether container logs may be read in a context, and
// which field of which file said so.
type LogsSetting struct {
	// Enabled is false when a logs: false is in force.
	Enabled bool
	// From names the field that disabled them, with file and line:
	// "contexts.audit.logs (/home/u/.config/vigil/config.yaml:7)"; empty
	// when enabled.
	From string
}

// LogsOf returns whether logs may be read in context: yes unless the
// context's logs, else the global one, is false, or a system-wide layer
// (WithSystem) says false, which the user's file cannot lift.
func (c Config) LogsOf(context string) LogsSetting {
	if s := c.own(context); s.Logs != nil && !*s.Logs {
		return LogsSetting{From: c.where(context, "logs")}
	}
	for _, sys := range c.system {
		if s := sys.own(context); s.Logs != nil && !*s.Logs {
			return LogsSetting{From: sys.where(context, "logs")}
		}
	}
	return LogsSetting{Enabled: true}
}

// fewerLogs is For's rule for logs: a false in a system-wide layer wins.
func fewerLogs(user, system *bool) *bool {
	if system != nil && !*system {
		return system
	}
	return user
}
