package checks

import (
	"testing"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

// TestStaticPodFlagJudgesEffectiveValue: issue 14 class 1. The
// first-occurrence reader passed the first two rows (a learner adding
// --profiling=false above the seeded --profiling=true, which leaves
// profiling on) and failed the next three correct fixes.
func TestStaticPodFlagJudgesEffectiveValue(t *testing.T) {
	bools := func(v string) *staticPodFlag {
		im, err := newStaticPodFlag(&v1alpha1.StaticPodFlagCheck{Component: "kube-apiserver", Flag: "profiling", Value: v})
		if err != nil {
			t.Fatal(err)
		}
		return im.(*staticPodFlag)
	}
	list := func(spec v1alpha1.StaticPodFlagCheck) *staticPodFlag {
		spec.Component, spec.Flag = "kube-apiserver", "enable-admission-plugins"
		im, err := newStaticPodFlag(&spec)
		if err != nil {
			t.Fatal(err)
		}
		return im.(*staticPodFlag)
	}
	absent := func(flag string) *staticPodFlag {
		im, _ := newStaticPodFlag(&v1alpha1.StaticPodFlagCheck{Component: "kube-apiserver", Flag: flag, Present: ptrTo(false)})
		return im.(*staticPodFlag)
	}
	tests := []struct {
		name string
		f    *staticPodFlag
		cmd  []string
		want bool
	}{
		{"false added above the seeded true: profiling stays on", bools("false"), []string{"kube-apiserver", "--profiling=false", "--profiling=true"}, false},
		{"plugin added in a second flag that a later one does not drop", list(v1alpha1.StaticPodFlagCheck{NotContains: "AlwaysAdmit"}), []string{"kube-apiserver", "--enable-admission-plugins=NodeRestriction", "--enable-admission-plugins=AlwaysAdmit"}, false},
		{"false appended below the seeded true", bools("false"), []string{"kube-apiserver", "--profiling=true", "--profiling=false"}, true},
		{"second occurrence adds the plugin", list(v1alpha1.StaticPodFlagCheck{Contains: "PodSecurity"}), []string{"kube-apiserver", "--enable-admission-plugins=NodeRestriction", "--enable-admission-plugins=PodSecurity"}, true},
		{"bool written as 0", bools("false"), []string{"kube-apiserver", "--profiling=0"}, true},
		{"bare bool is true", bools("true"), []string{"kube-apiserver", "--profiling"}, true},
		{"bool set with a space is still true", bools("false"), []string{"kube-apiserver", "--profiling", "false"}, false},
		{"absent wanted, hidden as the value of a previous flag", absent("profiling"), []string{"kube-apiserver", "--audit-log-path", "--profiling=true"}, true},
		{"absent wanted, present", absent("profiling"), []string{"kube-apiserver", "--profiling=false"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := tt.f.judge(tt.cmd)
			if got != tt.want {
				t.Fatalf("judge(%q) = %v (%s), want %v", tt.cmd, got, found, tt.want)
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }
