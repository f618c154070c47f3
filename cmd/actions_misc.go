package cmd

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-k8s/vigil/actions"
	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/actions/spec"
	"github.com/vigil-k8s/vigil/config"
)

func (o *actionOptions) secretCommand() *cobra.Command {
	c := &cobra.Command{Use: "secret", Short: "External Secrets actions through vigil's guards"}
	var restart bool
	var wait time.Duration
	refresh := &cobra.Command{
		Use:   "refresh es/NAME | ces/NAME",
		Short: "Make the External Secrets Operator refresh an ExternalSecret now (force-sync), optionally restarting its consumers",
		Example: actionExample(
			"vigil secret refresh es/payment-service-secrets -n fintech-prod --dry-run",
			"vigil secret refresh es/payment-service-secrets -n fintech-prod --restart-consumers --reason INC-7 --confirm local-1/fintech-prod/payment-service-secrets"),
		Args: cobra.ExactArgs(1), SilenceUsage: true,
		RunE: func(c *cobra.Command, args []string) error {
			t, err := spec.ParseObject(args[0], o.ns(""), spec.KindExternalSecret)
			if err != nil {
				return err
			}
			env, err := o.env()
			if err != nil {
				return err
			}
			return o.run(c.Context(), env, actions.RefreshSecret(env, spec.SecretRefreshParams{Timeout: wait, RestartConsumers: restart}), t)
		},
	}
	o.addFlags(refresh, true)
	refresh.Flags().BoolVar(&restart, "restart-consumers", false, "restart the workloads that mount or read the target Secret after the refresh")
	refresh.Flags().DurationVar(&wait, "wait", time.Minute, "how long to wait for status.refreshTime to move")
	c.AddCommand(refresh)
	return c
}

// alertmanagerOf is the Alertmanager the silence commands talk to: --alertmanager-url, else
// $VIGIL_ALERTMANAGER_URL, else the config's for the context (what the terminal UI uses);
// and the labels that keep a shared Alertmanager's silences to the context's cluster (its
// alertLabels.match), whichever URL was given.
func alertmanagerOf(flag, env string, s config.Settings) (url string, match map[string]string) {
	return cmp.Or(flag, env, s.Alertmanager), s.AlertLabels.Match
}

func (o *actionOptions) silenceCommand() *cobra.Command {
	var amURL string
	c := &cobra.Command{Use: "silence", Short: "Alertmanager silences through vigil's guards"}
	c.PersistentFlags().StringVar(&amURL, "alertmanager-url", "", "Alertmanager base URL (default $VIGIL_ALERTMANAGER_URL, else the config's alertmanager for the context)")
	withAM := func() (*actions.Env, error) {
		env, err := o.env()
		if err != nil {
			return nil, err
		}
		// The flag, else the environment, else the config's alertmanager: for the context,
		// whose alertLabels.match keeps a shared Alertmanager's silences to its cluster.
		u, match := alertmanagerOf(amURL, o.getenv("VIGIL_ALERTMANAGER_URL"), o.settings)
		if u == "" {
			return env, nil // the action reports "no Alertmanager configured"
		}
		if env.Alertmanager, err = actions.NewAlertmanagerClient(u, o.resolved.WrapClient(&http.Client{Timeout: 15 * time.Second})); err != nil {
			return nil, err
		}
		env.Alertmanager.Match = match
		return env, nil
	}
	var dur time.Duration
	var matchers []string
	create := &cobra.Command{
		Use:     "create ALERTNAME",
		Short:   "Silence an alert: matchers from its labels, --for a duration, --reason as the comment",
		Example: actionExample("vigil silence create PaymentServiceDown -n fintech-prod --for 2h --reason INC-123 --confirm local-1/fintech-prod/PaymentServiceDown"),
		Args:    cobra.ExactArgs(1), SilenceUsage: true,
		RunE: func(c *cobra.Command, args []string) error {
			env, err := withAM()
			if err != nil {
				return err
			}
			labels := map[string]string{}
			for _, m := range matchers {
				k, v, ok := strings.Cut(m, "=")
				if !ok {
					return fmt.Errorf("--matcher %q: want label=value", m)
				}
				labels[k] = v
			}
			ns := ""
			if o.namespace != "" || (o.flags != nil && o.flags.Namespace != nil && *o.flags.Namespace != "") {
				ns = o.ns("")
			}
			if len(labels) > 0 && ns != "" {
				labels["namespace"] = ns
			}
			t := spec.Object{Kind: spec.KindAlert, Namespace: ns, Name: args[0]}
			return o.run(c.Context(), env, actions.SilenceAlert(env, spec.SilenceParams{Duration: dur, Labels: labels}), t)
		},
	}
	o.addFlags(create, true)
	create.Flags().DurationVar(&dur, "for", time.Hour, "how long the silence lasts")
	create.Flags().StringSliceVar(&matchers, "matcher", nil, "label=value matchers instead of the firing alerts' labels (repeatable)")
	expire := &cobra.Command{
		Use:   "expire SILENCE-ID",
		Short: "Expire a silence",
		Args:  cobra.ExactArgs(1), SilenceUsage: true,
		RunE: func(c *cobra.Command, args []string) error {
			env, err := withAM()
			if err != nil {
				return err
			}
			return o.run(c.Context(), env, actions.ExpireSilence(env), spec.Object{Kind: spec.KindSilence, Name: args[0]})
		},
	}
	o.addFlags(expire, false)
	c.AddCommand(create, expire)
	return c
}

func (o *actionOptions) auditCommand() *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "Read and verify vigil's tamper-evident audit log"}
	c.PersistentFlags().StringVar(&o.auditLog, "audit-log", "", "audit log file (default $XDG_STATE_HOME/vigil/audit.jsonl)")
	var head string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain and report the first broken record",
		Long: "Check the audit log's hash chain: every record's prev hash, counting sequence numbers, a complete last line.\n" +
			"It prints the head hash; note it somewhere vigil cannot write (a ticket, a log shipper) and later\n" +
			"`vigil audit verify --head HASH` proves the log still holds that record and nothing up to it changed.\n" +
			"A missing log, an incomplete last line or a head no longer in the log exit non-zero.",
		Args: cobra.NoArgs, SilenceUsage: true,
		RunE: func(*cobra.Command, []string) error {
			if head != "" && (len(head) != 64 || strings.Trim(strings.ToLower(head), "0123456789abcdef") != "") {
				return fmt.Errorf("--head %q: want the 64 hex digits of a head sha256 that `vigil audit verify` printed", head)
			}
			path, err := o.auditPath()
			if err != nil {
				return err
			}
			rep, err := audit.VerifyFileAnchored(path, head)
			if errors.Is(err, audit.ErrNoLog) {
				return err
			}
			if err != nil {
				return fmt.Errorf("audit log %s: %w", path, err)
			}
			if !rep.OK() {
				return fmt.Errorf("audit log %s: %s", path, rep.Problem())
			}
			fmt.Fprintf(o.out, "audit log %s: %d records verify; head sha256 %s (seq %d)\n", path, rep.Records, rep.Head, rep.HeadSeq)
			for _, r := range rep.Repairs {
				fmt.Fprintf(o.out, "note: record %d (line %d) repaired an interrupted write: %s\n", r.Seq, r.Line, r.Reason)
			}
			if head != "" {
				fmt.Fprintf(o.out, "anchored head %s is record %d (line %d): nothing up to it changed\n", rep.Anchor, rep.AnchorSeq, rep.AnchorLine)
			}
			return nil
		},
	}
	verify.Flags().StringVar(&head, "head", "", "a head sha256 noted earlier: verify that the log still contains that record and that nothing before it changed")
	var asJSON bool
	logCmd := &cobra.Command{
		Use:   "log",
		Short: "Print the audit log",
		Args:  cobra.NoArgs, SilenceUsage: true,
		RunE: func(*cobra.Command, []string) error {
			path, err := o.auditPath()
			if err != nil {
				return err
			}
			if asJSON {
				var b []byte
				if b, err = audit.ReadRaw(path); err != nil {
					return err
				}
				_, err = o.out.Write(b)
				return err
			}
			recs, err := audit.ReadFile(path)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(o.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SEQ\tTIME\tPHASE\tUSER\tCONTEXT\tACTION\tTARGET\tRESULT\tREASON\tERROR")
			for _, r := range recs {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.Time.Format(time.RFC3339), r.Phase, r.User,
					r.Context, r.Action, r.Target, r.Result, r.Reason, r.Error)
			}
			return w.Flush()
		},
	}
	logCmd.Flags().BoolVar(&asJSON, "json", false, "print the raw JSON Lines")
	c.AddCommand(verify, logCmd, newAuditExportCommand(o.g, o.out, o.errOut))
	return c
}
