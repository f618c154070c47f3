package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/internal/version"
)

// logsOptions are `vigil logs`'s inputs.
type logsOptions struct {
	g *globalFlags
	genericiooptions.IOStreams

	namespace  string
	container  string
	previous   bool
	since      time.Duration
	tail       int64
	follow     bool
	timestamps bool
	capacity   int

	service string
	// signals ends a follow on SIGINT/SIGTERM; tests turn it off.
	signals bool
}

func newLogsCommand(g *globalFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &logsOptions{g: g, IOStreams: streams, capacity: cluster.DefaultLogCapacity, tail: -1, signals: true}
	c := &cobra.Command{
		Use:   "logs SERVICE -n NAMESPACE",
		Short: "Print the logs of every pod of a service, merged in time order",
		Long: `Print the logs of all pods of a service (a Deployment, StatefulSet, DaemonSet or Service
selector), merged in time order, each line tagged [pod/container].

--previous prints each container's previous run: what a crash-looping pod said before it
died. -f follows: pods that appear during a rollout join the stream, pods that go away are
marked (on stderr). Logs are reads, so read-only mode allows them; a config with logs: false
for the context disables them. Cluster text is escaped, never sent to the terminal raw.`,
		Example: `  vigil logs api-gateway -n fintech-prod
  vigil logs notification-service -n fintech-prod --previous
  vigil logs payment-service -n fintech-prod --since 15m -f
  vigil logs api-gateway -n fintech-prod --tail 20 -f`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.service = args[0]
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(c.Context())
		},
	}
	fs := c.Flags()
	fs.StringVarP(&o.namespace, "namespace", "n", "", "namespace of the service (required)")
	fs.StringVarP(&o.container, "container", "c", "", "only this container's lines (default: every container)")
	fs.BoolVarP(&o.previous, "previous", "p", false, "the previous run of each container (a crash loop's last crash)")
	fs.DurationVar(&o.since, "since", 0, "only lines newer than this, e.g. 15m (default: all the kubelet has)")
	fs.Int64Var(&o.tail, "tail", -1, "the last so many lines of each container's log, as kubectl logs --tail (default: all the kubelet has)")
	fs.BoolVarP(&o.follow, "follow", "f", false, "keep streaming, following new pods, until interrupted")
	fs.BoolVar(&o.timestamps, "timestamps", false, "prefix each line with the kubelet's RFC 3339 timestamp")
	fs.IntVar(&o.capacity, "buffer-lines", cluster.DefaultLogCapacity, "lines held when the terminal reads slower than the pods write; beyond, lines are dropped and counted")
	return c
}

func (o *logsOptions) validate() error {
	switch {
	case o.namespace == "":
		return errors.New("-n NAMESPACE is required")
	case o.previous && o.follow:
		return errors.New("--previous and -f cannot be combined: a previous run has ended")
	case o.since < 0:
		return fmt.Errorf("--since %s: must not be negative", o.since)
	case o.tail < -1:
		return fmt.Errorf("--tail %d: must be a number of lines, or -1 for all", o.tail)
	case o.capacity < 1:
		return fmt.Errorf("--buffer-lines %d: must be at least 1", o.capacity)
	}
	return nil
}

func (o *logsOptions) run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	target, err := cluster.ResolveConnection(o.g.kube, version.UserAgent())
	if err != nil {
		return err
	}
	cfg, err := o.g.loadConfig()
	if err != nil {
		return err
	}
	if ls := cfg.LogsOf(target.Context); !ls.Enabled {
		return fmt.Errorf("logs are disabled for context %s by %s", target.Context, ls.From)
	}
	// Logs only read: the client refuses writes at the transport whatever the mode.
	kube, err := kubernetes.NewForConfig(readonly.WrapConfig(target.RESTConfig))
	if err != nil {
		return err
	}
	if o.follow && o.signals {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
		defer stop()
	}
	req := cluster.LogRequest{
		Namespace: o.namespace, Service: o.service, Container: o.container,
		Previous: o.previous, Since: o.since, Follow: o.follow, Capacity: o.capacity,
	}
	if o.tail >= 0 {
		req.TailLines = &o.tail
	}
	s, err := cluster.ServiceLogs(ctx, kube, req)
	if err != nil {
		return err
	}
	var reported uint64
	leftOutSaid := false
	flush := func() {
		if n := s.LeftOut(); n > 0 && !leftOutSaid {
			fmt.Fprintf(o.ErrOut, "vigil: the %d oldest lines left out: the pods' logs hold more than --buffer-lines %d (--tail or --since reads less)\n", n, o.capacity)
			leftOutSaid = true
		}
		for _, l := range s.Buffer.ReadNew(0) {
			o.print(l)
		}
		if d := s.Buffer.Stats().Dropped; d > reported {
			fmt.Fprintf(o.ErrOut, "vigil: %d lines dropped: the output was slower than the pods wrote (--buffer-lines %d)\n", d-reported, o.capacity)
			reported = d
		}
	}
	for {
		select {
		case <-s.Buffer.Ready():
			flush()
		case <-s.Done():
			flush()
			if err := s.Err(); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		}
	}
}

// print writes one line: log text on stdout, notes and pod changes on
// stderr. Everything in l has passed termsafe.Line (cluster.ServiceLogs).
func (o *logsOptions) print(l estate.LogLine) {
	var w io.Writer = o.Out
	prefix := ""
	if o.timestamps {
		prefix = l.Time.UTC().Format(time.RFC3339Nano) + " "
	}
	switch l.Kind {
	case estate.LogText:
		fmt.Fprintf(w, "%s[%s/%s] %s\n", prefix, l.Pod, l.Container, l.Text)
	case estate.LogNote:
		fmt.Fprintf(o.ErrOut, "vigil: [%s/%s] %s\n", l.Pod, l.Container, l.Text)
	default:
		fmt.Fprintf(o.ErrOut, "vigil: %s\n", l.Text)
	}
}
