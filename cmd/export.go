package cmd

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/vigil-k8s/vigil/actions/audit"
	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/checks/attest"
	"github.com/vigil-k8s/vigil/checks/evidence"
	"github.com/vigil-k8s/vigil/checks/history"
	"github.com/vigil-k8s/vigil/checks/report"
	"github.com/vigil-k8s/vigil/cluster"
	"github.com/vigil-k8s/vigil/cluster/readonly"
	"github.com/vigil-k8s/vigil/config"
	"github.com/vigil-k8s/vigil/internal/version"
)

// exportOptions are `vigil audit export`'s inputs.
type exportOptions struct {
	g           *globalFlags
	flags       *genericclioptions.ConfigFlags
	out, errOut io.Writer

	dir, verify string
	namespaces  []string
	auditLog    string
	failOn      string
	timeout     time.Duration
	now         func() time.Time
}

// newAuditExportCommand returns `vigil audit export`: the evidence bundle of a compliance
// review (--out DIR), or the check of one (--verify DIR). It only reads, so it runs in
// read-only mode whatever --readonly or --write say; its Kubernetes client is always built
// on the read-only transport.
func newAuditExportCommand(g *globalFlags, out, errOut io.Writer) *cobra.Command {
	o := &exportOptions{g: g, flags: g.kube, out: out, errOut: errOut, now: time.Now}
	c := &cobra.Command{
		Use:   "export --out DIR | --verify DIR",
		Short: "Write (or verify) an evidence bundle: compliance report, cluster identity, inventory, audit log, SHA-256 manifest",
		Long: `export collects, through vigil's read-only transport, the evidence of a compliance
review into a new directory:

  report.txt, report.json, report.md, report.junit.xml, report.sarif, report.html
                    the production-readiness report in every format of vigil check
                    (report.html: one self-contained page with charts and, when
                    vigil check has recorded evaluations of the context, their trend)
  identity.json     kube context, server, the user the API server authenticated
                    (SelfSubjectReview), Kubernetes version, time of collection, and
                    whether the credentials themselves could write
  inventory.json    namespaces and labels, workloads, images, Secret names (never data)
  audit-log.jsonl   a copy of vigil's local audit log of actions
  attestations/     the context's attestations that hold (vigil attest), each
                    with its evidence file (files/<sha256>); the reports show them
  MANIFEST.sha256   the SHA-256 of every file, as sha256sum prints it

--verify DIR checks a bundle against its manifest and names the first modified, missing
or extra file, then each attestation against its evidence file and the bundle's audit
log; (cd DIR && sha256sum -c MANIFEST.sha256) checks the hashes too.`,
		Example: actionExample(
			"vigil audit export --context prod-eu --out evidence-2026-q4",
			"vigil audit export --verify evidence-2026-q4"),
		Args: cobra.NoArgs, SilenceUsage: true,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.verify != "" {
				if o.dir != "" {
					return errors.New("--out and --verify: pass one")
				}
				return o.runVerify()
			}
			if o.dir == "" {
				return errors.New("--out DIR is required (or --verify DIR)")
			}
			return o.runExport(c.Context())
		},
	}
	fs := c.Flags()
	fs.StringVar(&o.dir, "out", "", "new directory to write the bundle to")
	fs.StringVar(&o.verify, "verify", "", "verify the bundle in this directory instead")
	fs.StringSliceVarP(&o.namespaces, "namespaces", "n", nil, "namespaces to inventory (default: the config's for the context)")
	fs.StringVar(&o.auditLog, "audit-log", "", "audit log file to copy (default $XDG_STATE_HOME/vigil/audit.jsonl)")
	fs.StringVar(&o.failOn, "fail-on", string(checks.Fail), "the threshold the JUnit report judges by: fail or warn")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "time limit for the collection")
	return c
}

func (o *exportOptions) runVerify() error {
	n, err := evidence.Verify(o.verify)
	if err != nil {
		return fmt.Errorf("evidence bundle %s does not verify: %w", o.verify, err)
	}
	fmt.Fprintf(o.out, "evidence bundle %s: %d files match %s; no file missing or extra\n", o.verify, n, evidence.ManifestFile)
	if k, _ := evidence.VerifyAttestations(o.verify); k > 0 {
		fmt.Fprintf(o.out, "%d attestations: each evidence file has its sha256, and the bundle's audit log chains its record\n", k)
	}
	return nil
}

// attestedFile is the stored evidence file of an attestation, read again and checked against
// its SHA-256.
func attestedFile(getenv func(string) string, a attest.Stored) ([]byte, error) {
	stateDir, err := attest.StateDir(getenv)
	if err != nil {
		return nil, err
	}
	p := attest.ForContext(stateDir, a.Context).FilePath(a.SHA256)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("attestation of %s: %w", a.Target(), err)
	}
	if attest.SumHex(b) != a.SHA256 {
		return nil, fmt.Errorf("attestation of %s: %s changed while the bundle was collected", a.Target(), p)
	}
	return b, nil
}

func (o *exportOptions) runExport(ctx context.Context) error {
	if o.flags == nil {
		return errors.New("no kube connection flags")
	}
	if o.failOn != string(checks.Fail) && o.failOn != string(checks.Warn) {
		return fmt.Errorf("--fail-on %q: want fail or warn", o.failOn)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	collected := o.now().UTC()

	cfg, err := o.g.loadConfig()
	if err != nil {
		return err
	}
	t, err := cluster.ResolveConnection(o.flags, version.UserAgent())
	if err != nil {
		return err
	}
	settings := cfg.For(t.Context)
	if err = checkNamespaceFlag(o.namespaces); err != nil {
		return err
	}
	ns := o.namespaces
	if len(ns) == 0 {
		ns = settings.Namespaces
	}
	if len(ns) == 0 {
		ns = config.DefaultNamespaces
	}
	// The export only reads: its client refuses writes whatever the mode.
	rc := readonly.WrapConfig(t.RESTConfig)
	id, err := cluster.ReviewIdentityOf(ctx, rc)
	if err != nil {
		return fmt.Errorf("context %s (%s): %w", t.Context, t.Server, err)
	}
	// What the credentials could write is what they could write themselves: impersonating
	// (--as) a user who cannot write, they still can (impersonation is theirs).
	if own := cluster.Unimpersonated(rc); own != nil {
		rc = own
	}
	kube, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("context %s: %w", t.Context, err)
	}
	writes := cluster.CheckWrites(ctx, kube, ns)

	inv, err := listLive(ctx, &CheckOptions{ConfigFlags: o.flags, Namespaces: ns})
	if err != nil {
		return fmt.Errorf("inventory of %s: %w", t.Context, err)
	}
	if len(settings.AllowedRegistries) > 0 {
		inv.Config.AllowedRegistries = settings.AllowedRegistries
	}
	cat := checks.Catalogue()
	findings := checks.Run(cat, inv)
	// The context's attestations stand in for what the API cannot show, in the report as in
	// vigil check; those that hold travel in the bundle with their evidence files.
	atts, chain, problems := loadAttestations(o.g.getenv, t.Context)
	for _, p := range problems {
		fmt.Fprintf(o.errOut, "warning: %s\n", p)
	}
	findings = attest.Apply(cat, findings, atts, t.Context, chain, collected)
	var bundled []evidence.Attestation
	for _, a := range atts {
		if !attest.State(a, t.Context, chain, collected).Holds {
			continue
		}
		content, rerr := attestedFile(o.g.getenv, a)
		if rerr != nil {
			return rerr
		}
		bundled = append(bundled, evidence.Attestation{Record: a.Attestation, Content: content})
	}
	rep := report.New(cat, findings, inv)
	rep.Version = version.String()
	// The evaluations vigil check recorded for the context of this collection's scope (its
	// namespaces, its identity), for report.html's trend: read, never written (the export is
	// no evaluation of record).
	if path, perr := historyPath(o.g.getenv, t.Context); perr == nil {
		past, herr := readHistory(path)
		if herr != nil {
			fmt.Fprintf(o.errOut, "warning: history not drawn: %v\n", herr)
		}
		rep.History = history.Like(past, history.Entry{Scope: history.NewScope(inv.Config.Namespaces, history.Identity(t.User, t.As, t.Anonymous))})
	}

	logPath := o.auditLog
	if logPath == "" {
		if logPath, err = audit.DefaultPath(o.g.getenv); err != nil {
			return err
		}
	}
	logData, err := evidence.ReadAuditLog(logPath)
	if err != nil {
		return err
	}
	info := evidence.AuditLogInfo{Source: logPath, Present: logData != nil}
	if logData == nil {
		info.Problem = "no audit log at " + logPath + ": no guarded action was recorded by this user on this machine"
	} else {
		// Verify the bytes copied into the bundle, not the file, which may have grown since.
		if r, verr := audit.Verify(bytes.NewReader(logData)); verr != nil {
			info.Problem = verr.Error()
		} else {
			info.Records, info.ChainVerified, info.Head = r.Records, r.OK(), r.Head
			info.Problem = r.Problem()
		}
	}

	identity := evidence.Identity{
		CollectedAt: collected, VigilVersion: version.String(),
		Context: t.Context, Server: t.Server, KubeconfigUser: t.User,
		User: id.User, UID: id.UID, Groups: id.Groups, ImpersonatedBy: id.Behind, KubernetesVersion: id.KubernetesVersion,
		Namespaces: ns, AuditLog: info,
		Mode: "read-only: every request of this collection went through vigil's read-only transport (only GET and self-reviews leave the process)",
	}
	identity.Logs = "enabled"
	if ls := cfg.LogsOf(t.Context); !ls.Enabled {
		identity.Logs = "disabled by " + ls.From
	}
	verdict, why := writes.Verdict()
	identity.CredentialsWrites, identity.WriteEvidence = string(verdict), why
	if verdict != cluster.CannotTell {
		can := verdict == cluster.CanWrite
		identity.CredentialsAllowWrites = &can
	}
	files, err := evidence.Write(o.dir, evidence.Bundle{Identity: identity, Estate: evidence.EstateOf(inv),
		Report: rep, ReportOptions: report.Options{FailOn: checks.Status(o.failOn), ShowPassed: true}, AuditLog: logData,
		Attestations: bundled})
	if err != nil {
		return err
	}
	fmt.Fprintf(o.out, "evidence bundle %s (context %s, user %s, %s):\n", o.dir, t.Context, id.Acting(), collected.Format(time.RFC3339))
	for _, f := range files {
		fmt.Fprintf(o.out, "  %s\n", f)
	}
	fmt.Fprintf(o.out, "verify with: vigil audit export --verify %s   or   (cd %s && sha256sum -c %s)\n", o.dir, o.dir, evidence.ManifestFile)
	fmt.Fprintf(o.out, "credentials of %s: %s (%s)\n", cmp.Or(id.Behind, id.User), verdict, why)
	return nil
}
