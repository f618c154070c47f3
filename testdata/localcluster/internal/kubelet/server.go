package kubelet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	_ "k8s.io/kubernetes/pkg/apis/core/install" // PodLogOptions from query parameters, as the kubelet decodes them
)

// ClientName is the common name of the only client the kubelets answer:
// the apiserver's --kubelet-client-certificate.
const ClientName = "kube-apiserver-kubelet-client"

// followPoll is how often a followed log looks for new lines and for the
// end of its run.
const followPoll = 200 * time.Millisecond

// Server answers the apiserver's container log requests for every node of
// one cluster.
type Server struct {
	pods corelisters.PodLister
}

// Serve answers on ln, over TLS with tlsConfig (which must require and
// verify client certificates), until ctx ends. Pods come from the shared
// pod lister the simulator keeps.
func Serve(ctx context.Context, ln net.Listener, tlsConfig *tls.Config, pods corelisters.PodLister, logf func(string, ...any)) {
	srv := &http.Server{
		Handler:           &Server{pods: pods},
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          nil,
	}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(tls.NewListener(ln, tlsConfig)); err != nil && !errors.Is(err, http.ErrServerClosed) && ctx.Err() == nil {
			logf("kubelet log server: %v", err)
		}
	}()
}

// ServeHTTP implements GET /containerLogs/{namespace}/{pod}/{container}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != ClientName {
		user := "system:anonymous"
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			user = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		http.Error(w, fmt.Sprintf("Forbidden (user=%s, verb=get, resource=nodes, subresource=log)", user), http.StatusForbidden)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
	if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/containerLogs/") || len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		http.NotFound(w, r)
		return
	}
	ns, name, container := parts[0], parts[1], parts[2]
	opts := &corev1.PodLogOptions{}
	if err := legacyscheme.ParameterCodec.DecodeParameters(r.URL.Query(), corev1.SchemeGroupVersion, opts); err != nil {
		http.Error(w, `{"message": "Unable to decode query."}`, http.StatusBadRequest)
		return
	}
	if err := validate(opts); err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	pod, err := s.pods.Pods(ns).Get(name)
	if err != nil {
		http.Error(w, fmt.Sprintf("pod %q does not exist", name), http.StatusNotFound)
		return
	}
	if !hasContainer(pod, container) {
		http.Error(w, fmt.Sprintf("container %q not found in pod %q", container, name), http.StatusNotFound)
		return
	}
	run, err := Which(pod, container, opts.Previous)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	var from time.Time
	switch {
	case opts.SinceSeconds != nil:
		from = now.Add(-time.Duration(*opts.SinceSeconds) * time.Second)
	case opts.SinceTime != nil:
		from = opts.SinceTime.Time
	}
	stream := corev1.LogStreamAll
	if opts.Stream != nil {
		stream = *opts.Stream
	}
	lines := filterStream(Lines(run, from, now), stream)
	if opts.TailLines != nil && int64(len(lines)) > *opts.TailLines {
		lines = lines[int64(len(lines))-*opts.TailLines:]
	}
	w.Header().Set("Content-Type", "text/plain")
	flusher, _ := w.(http.Flusher)
	out := io.Writer(w)
	if opts.LimitBytes != nil {
		out = &limitWriter{w: w, left: *opts.LimitBytes}
	}
	write := func(lines []Line) bool {
		var b strings.Builder
		for _, l := range lines {
			if opts.Timestamps {
				b.WriteString(l.Time.UTC().Format(time.RFC3339Nano))
				b.WriteByte(' ')
			}
			b.WriteString(l.Text)
			b.WriteByte('\n')
		}
		_, werr := io.WriteString(out, b.String())
		if flusher != nil {
			flusher.Flush()
		}
		return werr == nil
	}
	if !write(lines) || !opts.Follow || run.Finished {
		return
	}
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	for prev := now; ; {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
		now = time.Now()
		current, err := s.pods.Pods(ns).Get(name)
		if err != nil && !apierrors.IsNotFound(err) {
			return
		}
		if err != nil {
			current = nil
		}
		ended, done := Ended(current, run, now)
		more := Lines(ended, prev, now)
		if done && ended.End.Before(prev) {
			// The end became known after its moment: its exit line is
			// still owed.
			more = append(more, Lines(ended, ended.End, ended.End)...)
		}
		if !write(filterStream(more, stream)) || done {
			return
		}
		prev = now
	}
}

func filterStream(lines []Line, stream string) []Line {
	if stream == corev1.LogStreamAll || stream == "" {
		return lines
	}
	out := lines[:0:0]
	for _, l := range lines {
		if l.Stderr == (stream == corev1.LogStreamStderr) {
			out = append(out, l)
		}
	}
	return out
}

// validate applies ValidatePodLogOptions' rules.
func validate(o *corev1.PodLogOptions) error {
	switch {
	case o.TailLines != nil && *o.TailLines < 0:
		return errors.New("tailLines: must be greater than or equal to 0")
	case o.LimitBytes != nil && *o.LimitBytes < 1:
		return errors.New("limitBytes: must be greater than 0")
	case o.SinceSeconds != nil && *o.SinceSeconds < 1:
		return errors.New("sinceSeconds: must be greater than 0")
	case o.SinceSeconds != nil && o.SinceTime != nil:
		return errors.New("sinceSeconds and sinceTime: at most one of them may be set")
	case o.Stream != nil && *o.Stream != corev1.LogStreamAll && *o.Stream != corev1.LogStreamStdout && *o.Stream != corev1.LogStreamStderr:
		return fmt.Errorf("stream: unsupported value %q", *o.Stream)
	}
	return nil
}

func hasContainer(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// limitWriter stops after left bytes, as the kubelet's limitBytes does
// (possibly in the middle of a line).
type limitWriter struct {
	w    io.Writer
	left int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.w.Write(p)
	l.left -= int64(n)
	if err == nil && l.left <= 0 {
		err = io.EOF
	}
	return n, err
}
