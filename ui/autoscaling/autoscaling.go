// Package autoscaling is the Autoscaling screen: per workload, its HPA and
// VPA side by side — replicas against min/max as a bar, each metric's
// current vs target, conditions, the VPA's recommendation vs requests —
// with saturation and drift highlighted and a replicas sparkline.
package autoscaling

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vigil-k8s/vigil/checks"
	"github.com/vigil-k8s/vigil/estate"
	"github.com/vigil-k8s/vigil/ui/common"
	"github.com/vigil-k8s/vigil/ui/history"
	"github.com/vigil-k8s/vigil/ui/manifest"
	"github.com/vigil-k8s/vigil/ui/objects"
	"github.com/vigil-k8s/vigil/ui/render"
	"github.com/vigil-k8s/vigil/ui/theme"
	"github.com/vigil-k8s/vigil/ui/widgets"
)

// New returns the Autoscaling screen reading d.
func New(c common.Common, d *common.Data) *common.Page {
	p := &common.Page{Common: c, Data: d, Name: "Autoscaling"}
	p.Build = func(w int) []string { return build(c.Styles, d, w) }
	p.Help = common.PageKeys{KeyMap: c.Keys, Own: []key.Binding{keyYAML}}
	p.Keys = func(k tea.KeyPressMsg) (tea.Cmd, bool) {
		if !key.Matches(k, keyYAML) {
			return nil, false
		}
		var refs []estate.ObjectRef
		for _, h := range d.Snap.HPAs {
			refs = append(refs, estate.ObjectRef{Kind: "HorizontalPodAutoscaler", Namespace: h.Namespace, Name: h.Name})
		}
		for _, v := range d.Snap.VPAs {
			refs = append(refs, estate.ObjectRef{Kind: "VerticalPodAutoscaler", Namespace: v.Namespace, Name: v.Name})
		}
		if len(refs) > 0 {
			p.PushChild(objects.NewChooser(c, "YAML of", refs, func(ref estate.ObjectRef) common.Component {
				return manifest.New(c, d.Manifest, ref)
			}))
		}
		return nil, true
	}
	return p
}

// keyYAML (y) chooses an HPA or VPA the screen shows and shows its YAML.
var keyYAML = key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yaml"))

// workload groups the autoscalers of one target.
type workload struct {
	ns, kind, name string
	hpa            *estate.HPAInfo
	vpa            *estate.VPAInfo
	svc            *estate.Service
}

// DriftWarn is the VPA drift (|request/target - 1|) highlighted as drift.
const DriftWarn = 0.3

func build(st theme.Theme, d *common.Data, width int) []string {
	snap := d.Snap
	if !d.HaveSnap {
		return []string{st.Muted.Render("loading…")}
	}
	byKey := map[string]*workload{}
	get := func(ns, kind, name string) *workload {
		k := ns + "/" + name + "/" + kind
		if w, ok := byKey[k]; ok {
			return w
		}
		w := &workload{ns: ns, kind: kind, name: name}
		byKey[k] = w
		return w
	}
	for i := range snap.HPAs {
		h := &snap.HPAs[i]
		get(h.Namespace, h.TargetKind, h.TargetName).hpa = h
	}
	for i := range snap.VPAs {
		v := &snap.VPAs[i]
		get(v.Namespace, v.TargetKind, v.TargetName).vpa = v
	}
	var without []string
	for i := range snap.Services {
		s := &snap.Services[i]
		if w, ok := byKey[s.Key()]; ok {
			w.svc = s
		} else if s.Kind != "DaemonSet" {
			without = append(without, s.Namespace+"/"+s.Name)
		}
	}
	ws := make([]*workload, 0, len(byKey))
	for _, w := range byKey {
		ws = append(ws, w)
	}
	// Saturated and drifting first, then by namespace and name.
	slices.SortFunc(ws, func(a, b *workload) int {
		return cmp.Or(cmp.Compare(level(b), level(a)), cmp.Compare(a.ns, b.ns), cmp.Compare(a.name, b.name))
	})

	var out []string
	sat, drift := 0, 0
	for _, w := range ws {
		if w.hpa != nil && (w.hpa.AtMax || w.hpa.Reason != "") {
			sat++
		}
		if w.vpa != nil && w.vpa.MaxDrift >= DriftWarn {
			drift++
		}
	}
	hpas, vpas := snap.Visibility("", checks.ResHPAs), snap.Visibility("", checks.ResVPAs)
	out = append(out, st.Muted.Render(render.Counted(len(snap.HPAs), "HPAs", hpas)+" · "+render.Counted(len(snap.VPAs), "VPAs", vpas)+" · ")+
		st.For(lvl(sat > 0, theme.LevelCrit)).Render(fmt.Sprintf("%d saturated or failing", sat))+st.Muted.Render(" · ")+
		st.For(lvl(drift > 0, theme.LevelWarn)).Render(fmt.Sprintf("%d drifting ≥%d%%", drift, int(DriftWarn*100))))
	out = append(out, render.UnseenLines(st, "HorizontalPodAutoscalers", hpas, width)...)
	out = append(out, render.UnseenLines(st, "VerticalPodAutoscalers", vpas, width)...)
	if len(ws) == 0 && hpas.Known() && vpas.Known() {
		out = append(out, "", st.Muted.Render("no HorizontalPodAutoscaler or VerticalPodAutoscaler in the watched namespaces"))
	}
	side := width >= 110
	colW := width
	if side {
		colW = (width - 3) / 2
	}
	for _, w := range ws {
		out = append(out, "", title(st, w, width))
		if w.svc != nil {
			ser := d.History.Series(w.svc.Key())
			reps := history.Values(ser, func(s history.Sample) float64 { return s.Replicas })
			use := "usage unavailable: " + snap.Usage.Why(w.svc.Namespace)
			if w.svc.Usage.Available {
				use = fmt.Sprintf("cpu %s of request · mem %s", render.Pct(w.svc.Usage.CPUOfRequest()), render.Pct(w.svc.Usage.MemoryOfRequest()))
			}
			out = append(out, widgets.Hanging(st.Muted.Render("replicas ")+st.Spark.Render(widgets.Sparkline(reps, 30))+" ",
				fmt.Sprintf("%d now · ready %d/%d · %s", w.svc.Desired, w.svc.Ready, w.svc.Desired, use), width)...)
			out = append(out, render.ErrorRateLine(st, "errors", *w.svc, ser, snap.Alerts, 30))
		}
		left := []string{none(st, "HPA", snap.Visibility(w.ns, checks.ResHPAs))}
		if w.hpa != nil {
			left = render.HPALines(st, *w.hpa, colW)
		}
		right := []string{none(st, "VPA", snap.Visibility(w.ns, checks.ResVPAs))}
		if w.vpa != nil {
			right = vpaLines(st, *w.vpa, colW)
		}
		if !side {
			out = append(out, left...)
			out = append(out, right...)
			continue
		}
		for i := 0; i < max(len(left), len(right)); i++ {
			l, r := "", ""
			if i < len(left) {
				l = left[i]
			}
			if i < len(right) {
				r = right[i]
			}
			out = append(out, padANSI(l, colW)+st.Muted.Render(" │ ")+ansi.Truncate(r, colW, "…"))
		}
	}
	if len(without) > 0 {
		what := fmt.Sprintf("%d services without an HPA or VPA: ", len(without))
		if !hpas.Known() || !vpas.Known() {
			// Whether they have one is not known: say what is known.
			what = fmt.Sprintf("%d services with no HPA or VPA seen (%s · %s): ", len(without), render.Counted(len(snap.HPAs), "HPAs", hpas), render.Counted(len(snap.VPAs), "VPAs", vpas))
		}
		// Every one named, wrapped under the list: the end of a cut list is where a team's
		// unscaled service hides.
		ls := widgets.HangingList(what, without, width)
		if rest, ok := strings.CutPrefix(ls[0], what); ok {
			ls[0] = st.Warn.Render(what) + rest
		}
		out = append(append(out, ""), ls...)
	}
	return out
}

// none is what a workload's HPA or VPA column says when it has none: "no
// HPA" when that is known, else why it is not ("HPA forbidden: …").
func none(st theme.Theme, what string, v estate.Visibility) string {
	if v.Known() {
		return st.Muted.Render("no " + what)
	}
	return st.For(render.UnseenLevel(v)).Render(what + " " + v.Access.String())
}

func vpaLines(st theme.Theme, v estate.VPAInfo, w int) []string {
	note := ""
	if v.MaxDrift >= DriftWarn {
		note = " (drift)"
	}
	return render.VPALines(st, v, w, note)
}

func padANSI(s string, w int) string {
	s = ansi.Truncate(s, w, "…")
	return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
}

func lvl(bad bool, l theme.Level) theme.Level {
	if bad {
		return l
	}
	return theme.LevelMuted
}

func level(w *workload) int {
	n := 0
	if w.hpa != nil && (w.hpa.AtMax || w.hpa.Reason != "") {
		n += 2
	}
	if w.vpa != nil && w.vpa.MaxDrift >= DriftWarn {
		n++
	}
	return n
}

func title(st theme.Theme, w *workload, width int) string {
	t := fmt.Sprintf("%s/%s %s", w.ns, w.name, strings.ToLower(w.kind))
	if w.svc == nil {
		t += " (not a watched service)"
	}
	style := st.Accent
	if w.svc != nil {
		t += "  " + w.svc.Health.Status.String()
	}
	return style.Render(widgets.Fit(t, width))
}
