package cmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/attest"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/internal/version"
)

// maxEvidence bounds the evidence file an attestation copies into the state directory.
const maxEvidence = 64 << 20

// attestOptions are `vigil attest`'s inputs.
type attestOptions struct {
	g           *globalFlags
	out, errOut io.Writer

	file, expires, note string
	namespaces          []string
	timeout             time.Duration
	// now and localUser are the clock and the operating-system user (tests replace them).
	now       func() time.Time
	localUser func() string
}

// newAttestCommand returns `vigil attest ITEM --file F --expires DATE [--note TEXT]`: evidence
// for a check or checklist item the API cannot show, vouched for until a date.
func newAttestCommand(g *globalFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &attestOptions{g: g, out: streams.Out, errOut: streams.ErrOut, timeout: 30 * time.Second, now: time.Now, localUser: localUser}
	c := &cobra.Command{
		Use:   "attest CHECK-OR-ITEM --file FILE --expires DATE [--note TEXT]",
		Short: "Vouch for a check or checklist item vigil cannot decide, with an evidence file, until a date",
		Long: `attest records evidence for a check (its ID) or a checklist item (its text, or
its text in lower case with dashes) that vigil cannot decide from the API: the
EncryptionConfiguration when no apiserver pod can be read, a DR test report, the log
backend's retention setting, the on-call rota.

It lists the kube context as vigil check does (read-only), refuses unless the check
or item is unknown (a failing check stays failing; a pass needs no attestation),
then stores, in the state directory, per context:

  the file's SHA-256 and a copy of the file,
  who attested (the kube user the API server authenticates, and the local user),
  when, until when (--expires), and the note,

and chains it into the audit log with one record. From then on, every output of
vigil check, the evidence bundle and the Compliance screen show the item as
"met — attested by X on D until E (sha256 …)"; once expired, or when the stored
file no longer has its SHA-256 or the audit log no longer agrees, it is unknown
again and says why. Attesting changes nothing in the cluster, so it works in
read-only mode too; it is recorded all the same.

--expires DATE is the day the attestation stops holding (00:00 UTC), or an RFC 3339
time.`,
		Example: actionExample(
			"vigil attest secrets-encrypted-at-rest --context prod-eu --file encryption-config.yaml --expires 2027-03-31 --note CHG-4211",
			`vigil attest "Disaster recovery plan validated" --file dr-test-2026-11.pdf --expires 2027-05-31`),
		Args:          cobra.ExactArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(c *cobra.Command, args []string) error {
			return o.run(c.Context(), args[0])
		},
	}
	fs := c.Flags()
	fs.StringVar(&o.file, "file", "", "the evidence file (required): its SHA-256 and a copy are kept")
	fs.StringVar(&o.expires, "expires", "", "when the attestation stops holding (required): a date (YYYY-MM-DD, 00:00 UTC) or an RFC 3339 time")
	fs.StringVar(&o.note, "note", "", "a note: what the evidence is, a ticket")
	fs.StringSliceVarP(&o.namespaces, "namespaces", "n", nil, "namespaces to list, as vigil check (default: the config's for the context)")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "time limit for listing the cluster")
	return c
}

// parseExpiry reads --expires: a date is its 00:00 UTC, else an RFC 3339 time; it must be
// after now.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("--expires is required: the date the attestation stops holding (YYYY-MM-DD) or an RFC 3339 time")
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			return time.Time{}, fmt.Errorf("--expires %q: want a date (YYYY-MM-DD) or an RFC 3339 time such as 2027-03-31T12:00:00Z", s)
		}
	}
	t = t.UTC()
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("--expires %s is not in the future (now %s): an attestation needs a date to hold until", checks.FormatUntil(t), now.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// readEvidence reads the evidence file: a regular file, not empty, at most maxEvidence.
func readEvidence(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("--file is required: the evidence to attest with")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	switch {
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("--file %s is not a regular file", path)
	case fi.Size() == 0:
		return nil, fmt.Errorf("--file %s is empty: an empty file is no evidence", path)
	case fi.Size() > maxEvidence:
		return nil, fmt.Errorf("--file %s is %d bytes, more than the %d vigil keeps a copy of: attest with a smaller file (a summary, the report's signature page)", path, fi.Size(), maxEvidence)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	return b, nil
}

// localUser is the operating-system user running vigil.
func localUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return cmp.Or(os.Getenv("USER"), fmt.Sprintf("uid %d", os.Getuid()))
}

func (o *attestOptions) run(ctx context.Context, name string) error {
	now := o.now().UTC()
	until, err := parseExpiry(o.expires, now)
	if err != nil {
		return err
	}
	content, err := readEvidence(o.file)
	if err != nil {
		return err
	}
	stateDir, err := attest.StateDir(o.g.getenv)
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	t, err := cluster.ResolveConnection(o.g.kube, version.UserAgent())
	if err != nil {
		return err
	}
	// Attesting reads the cluster only: its client refuses writes whatever the mode.
	id, err := cluster.ReviewIdentityOf(ctx, readonly.WrapConfig(t.RESTConfig))
	if err != nil {
		return fmt.Errorf("context %s (%s): %w", t.Context, t.Server, err)
	}
	cat, findings, err := o.evaluate(ctx)
	if err != nil {
		return err
	}
	target, err := attest.Resolve(cat, name)
	if err != nil {
		return err
	}
	auditPath, err := audit.DefaultPath(o.g.getenv)
	if err != nil {
		return err
	}
	log, err := audit.Open(auditPath)
	if err != nil {
		return err
	}
	a := attest.Attestation{Context: t.Context, Server: t.Server, Check: target.Check, Group: target.Group, Item: target.Item,
		Size: int64(len(content)), File: filepath.Base(o.file), KubeUser: id.Acting(), LocalUser: o.localUser(), Expires: until, Note: o.note}
	a.SHA256 = attest.SumHex(content)
	if refusal := attest.Attestable(cat, findings, target); refusal != nil {
		// A refused attestation is recorded too: someone tried to vouch for it.
		rec := a.Record()
		rec.Phase, rec.Result, rec.Stage, rec.Error = audit.PhaseRefused, "refused", "precondition", refusal.Error()
		if _, aerr := log.Append(rec); aerr != nil {
			return errors.Join(refusal, aerr)
		}
		return refusal
	}
	store := attest.ForContext(stateDir, t.Context)
	if _, err = store.SaveFile(content); err != nil {
		return err
	}
	rec, err := log.Append(a.Record())
	if err != nil {
		return err
	}
	a.At, a.AuditSeq = rec.Time, rec.Seq
	if err = store.SaveRecord(a); err != nil {
		return fmt.Errorf("%w (audit record %d says it was attested; attest again)", err, rec.Seq)
	}

	fmt.Fprintf(o.out, "attested %s on context %s: %s, sha256 %s, until %s (audit record %d)\n",
		target, t.Context, a.File, a.SHA256, checks.FormatUntil(until), rec.Seq)
	fmt.Fprintf(o.out, "evidence kept as %s\n", store.FilePath(a.SHA256))
	overlaid := overlayAttestations(o.g.getenv, t.Context, cat, findings, o.now(), o.errOut)
	for _, v := range checks.Verdicts(cat, overlaid) {
		if (target.Check != "" && slices.Contains(v.Checks, target.Check)) || (v.Group == target.Group && v.Item == target.Item) {
			fmt.Fprintf(o.out, "%s: %s — %s\n", v.Item, verdictWord(v.Verdict), v.Why)
		}
	}
	return nil
}

// evaluate lists the context as vigil check does and runs the catalogue.
func (o *attestOptions) evaluate(ctx context.Context) ([]checks.Check, []checks.Finding, error) {
	co := &CheckOptions{ConfigFlags: o.g.kube, Namespaces: o.namespaces, loadConfig: o.g.loadConfig,
		AllowedRegistries: slices.Clone(checks.DefaultAllowedRegistries), contextName: func() string { return kubeContextName(o.g.kube) }}
	if err := co.complete(func(flag string) bool { return flag == "namespaces" && len(o.namespaces) > 0 }); err != nil {
		return nil, nil, err
	}
	inv, err := listLive(ctx, co)
	if err != nil {
		return nil, nil, err
	}
	inv.Config.AllowedRegistries = co.AllowedRegistries
	cat := checks.Catalogue()
	return cat, checks.Run(cat, inv), nil
}

func verdictWord(v checks.Verdict) string { return strings.ReplaceAll(string(v), "-", " ") }

// overlayAttestations lays the attestations of kubeContext (in the state directory getenv
// finds) over findings at now; unreadable records are warned about on errOut. Without a state
// directory or attestations the findings are returned as they are.
func overlayAttestations(getenv func(string) string, kubeContext string, cat []checks.Check, findings []checks.Finding, now time.Time, errOut io.Writer) []checks.Finding {
	atts, chain, problems := loadAttestations(getenv, kubeContext)
	for _, p := range problems {
		fmt.Fprintf(errOut, "warning: %s\n", p)
	}
	if len(atts) == 0 {
		return findings
	}
	return attest.Apply(cat, findings, atts, kubeContext, chain, now)
}

// loadAttestations reads kubeContext's attestations and the audit log that chains them.
func loadAttestations(getenv func(string) string, kubeContext string) ([]attest.Stored, attest.Chain, []string) {
	stateDir, err := attest.StateDir(getenv)
	if err != nil || kubeContext == "" {
		return nil, attest.Chain{}, nil
	}
	atts, problems, err := attest.ForContext(stateDir, kubeContext).Load()
	if err != nil {
		return nil, attest.Chain{}, []string{err.Error()}
	}
	if len(atts) == 0 {
		return nil, attest.Chain{}, problems
	}
	auditPath, err := audit.DefaultPath(getenv)
	if err != nil {
		return nil, attest.Chain{}, append(problems, err.Error())
	}
	raw, err := audit.ReadRaw(auditPath)
	if err != nil {
		problems = append(problems, "audit log: "+err.Error())
	}
	return atts, attest.ChainOf(raw), problems
}

// attestContext is the context name attestations are kept under for the check's kube
// context: the one vigil attest records (cluster.ResolveConnection's), "" when it cannot be
// resolved.
func (o *CheckOptions) attestContext() string {
	if o.ConfigFlags == nil && o.connect == nil {
		return ""
	}
	t, err := o.connection()
	if err != nil {
		return ""
	}
	return t.Context
}

// attestOverlay is the Compliance screen's overlay: the attestations of a context laid over
// its findings, the store read again at most every few seconds (the clock still decides
// expiry at every call).
type attestOverlay struct {
	getenv func(string) string
	mu     sync.Mutex
	cached map[string]attestLoad
}

type attestLoad struct {
	at    time.Time
	atts  []attest.Stored
	chain attest.Chain
}

// attestReload is how long the screen's overlay keeps what it read of the store.
const attestReload = 3 * time.Second

// Apply implements ui.Options.Attest.
func (o *attestOverlay) Apply(kubeContext string, cat []checks.Check, findings []checks.Finding, now time.Time) []checks.Finding {
	o.mu.Lock()
	l, ok := o.cached[kubeContext]
	if !ok || time.Since(l.at) > attestReload {
		l.atts, l.chain, _ = loadAttestations(o.getenv, kubeContext)
		l.at = time.Now()
		if o.cached == nil {
			o.cached = map[string]attestLoad{}
		}
		o.cached[kubeContext] = l
	}
	o.mu.Unlock()
	if len(l.atts) == 0 {
		return findings
	}
	return attest.Apply(cat, findings, l.atts, kubeContext, l.chain, now)
}
