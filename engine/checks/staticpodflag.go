package checks

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/staticpod"
)

type staticPodFlag struct {
	spec  *v1alpha1.StaticPodFlagCheck
	flag  string
	match *regexp.Regexp
}

func newStaticPodFlag(s *v1alpha1.StaticPodFlagCheck) (impl, error) {
	if s.Component == "" || s.Flag == "" {
		return nil, fmt.Errorf("staticPodFlag needs component and flag")
	}
	f := &staticPodFlag{spec: s, flag: "--" + strings.TrimLeft(s.Flag, "-")}
	if s.Matches != "" {
		re, err := regexp.Compile(s.Matches)
		if err != nil {
			return nil, fmt.Errorf("matches: %w", err)
		}
		f.match = re
	}
	return f, nil
}

// ManifestCommand returns the first container's command+args of a static pod manifest.
func ManifestCommand(data []byte) ([]string, error) {
	var pod struct {
		Spec struct {
			Containers []struct {
				Command []string `json:"command"`
				Args    []string `json:"args"`
			} `json:"containers"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &pod); err != nil {
		return nil, fmt.Errorf("the manifest is not valid YAML: %s", sentence(err.Error()))
	}
	if len(pod.Spec.Containers) == 0 {
		return nil, fmt.Errorf("the manifest has no containers")
	}
	c := pod.Spec.Containers[0]
	return append(append([]string(nil), c.Command...), c.Args...), nil
}

// judge says whether a command line satisfies the flag objective, judged
// on the EFFECTIVE value the component runs with (cmdflags: the last
// occurrence of a scalar, a bare bool flag is true, list flags append);
// when it does not, it says what was found.
func (f *staticPodFlag) judge(cmd []string) (bool, string) {
	p := staticpod.ParseCommand(cmd)
	name := strings.TrimPrefix(f.flag, "--")
	val, present := p.Value(name)
	shown := f.flag + " is not set"
	if present {
		shown = f.flag + "=" + val
		if n := len(p.Occurrences(name)); n > 1 {
			shown += fmt.Sprintf(" (effective value of %d occurrences)", n)
		}
	}
	if len(p.Errors) > 0 {
		// Not this check's verdict (the running process decides), but the
		// reason a fix that looks right does not take effect.
		shown += " (" + p.Program.Name + " would refuse this command line: " + p.Errors[0] + ")"
	}
	wantPresent := f.spec.Present == nil || *f.spec.Present
	if !wantPresent {
		return !present, shown
	}
	if !present {
		return false, shown
	}
	items := map[string]bool{}
	for _, it := range p.List(name) {
		items[strings.TrimSpace(it)] = true
	}
	valueOK := f.spec.Value == "" || val == f.spec.Value
	if p.Program.Kind(name) == staticpod.Bool && f.spec.Value != "" {
		want, werr := strconv.ParseBool(f.spec.Value)
		got, gerr := strconv.ParseBool(val)
		valueOK = werr == nil && gerr == nil && want == got
	}
	switch {
	case !valueOK,
		f.spec.Contains != "" && !items[f.spec.Contains],
		f.spec.NotContains != "" && items[f.spec.NotContains],
		f.match != nil && !f.match.MatchString(val):
		return false, shown
	}
	return true, shown
}

func (f *staticPodFlag) expected() string {
	if f.spec.Present != nil && !*f.spec.Present {
		return f.flag + " absent"
	}
	var parts []string
	if f.spec.Value != "" {
		parts = append(parts, f.flag+"="+f.spec.Value)
	}
	if f.spec.Contains != "" {
		parts = append(parts, f.flag+" including "+f.spec.Contains)
	}
	if f.spec.NotContains != "" {
		parts = append(parts, f.flag+" not including "+f.spec.NotContains)
	}
	if f.match != nil {
		parts = append(parts, f.flag+" matching "+f.spec.Matches)
	}
	if len(parts) == 0 {
		return f.flag + " set"
	}
	return strings.Join(parts, ", ")
}

func (f *staticPodFlag) run(ctx context.Context, env *Env) outcome {
	node, o := nodeOf(env, f.spec.Node)
	if o != nil {
		return *o
	}
	path := staticpod.ManifestsDir + "/" + f.spec.Component + ".yaml"
	data, err := node.ReadFile(ctx, path)
	if err != nil {
		return errored("read %s on %s: %v", path, node.Name(), err)
	}
	cmd, err := ManifestCommand(data)
	if err != nil {
		return settledFail(fmt.Sprintf("%s: %v", path, err))
	}
	want := f.expected()
	ok, found := f.judge(cmd)
	if !ok {
		// The manifest on disk is what the learner wrote: waiting for the
		// component to restart cannot change this answer.
		return settledFail(fmt.Sprintf("%s: %s; expected %s", path, found, want), "manifest: "+found, "expected: "+want)
	}
	if env.Cluster.Components == nil {
		return skipped(fmt.Sprintf("the manifest has %s, but this backend cannot inspect the running %s", found, f.spec.Component))
	}
	st, err := env.Cluster.Components.Component(ctx, f.spec.Component)
	if err != nil {
		return errored("inspect %s: %v", f.spec.Component, err)
	}
	if !st.Running {
		why := st.LastError
		if why == "" && len(st.LogTail) > 0 {
			why = st.LogTail[len(st.LogTail)-1]
		}
		msg := fmt.Sprintf("the manifest has %s, but %s is not running", found, f.spec.Component)
		if why != "" {
			msg += ": " + sentence(why)
		}
		return failed(msg+" (check its logs; a bad flag makes it crash)", "manifest: "+found, "running: not running")
	}
	rok, rfound := f.judge(st.Args)
	if !rok {
		return failed(fmt.Sprintf("the manifest has %s, but the running %s has %s: it has not restarted with the new manifest", found, f.spec.Component, rfound),
			"manifest: "+found, "running: "+rfound, "expected: "+want)
	}
	msg := fmt.Sprintf("%s runs with %s", f.spec.Component, rfound)
	if !st.Ready {
		msg += " (not ready yet)"
	}
	return passed(msg, "manifest: "+found, "running: "+rfound)
}
