package kind

import (
	"testing"

	"github.com/ckslab/ckslab/engine/cluster"
)

func TestStepLogger(t *testing.T) {
	var steps []cluster.Step
	l := newStepLogger(func(s cluster.Step) { steps = append(steps, s) }, 0)
	l.V(0).Infof(" • %s  ...\n", "Ensuring node image (kindest/node:v1.35.8) 🖼")
	l.V(0).Infof(" ✓ %s\n", "Ensuring node image (kindest/node:v1.35.8) 🖼")
	l.V(1).Info("debug line is dropped at verbosity 0")
	l.V(0).Infof(" • %s  ...\n", "Starting control-plane 🕹️")
	l.Warn("something odd")
	l.V(0).Infof(" ✗ %s\n", "Starting control-plane 🕹️")

	want := []struct {
		id, line  string
		done, err bool
	}{
		{"kind-ensuring-node-image", "", false, false},
		{"kind-ensuring-node-image", "", true, false},
		{"kind-starting-control-plane", "", false, false},
		{"kind-starting-control-plane", "warning: something odd", false, false},
		{"kind-starting-control-plane", "", true, true},
	}
	if len(steps) != len(want) {
		t.Fatalf("got %d steps: %+v", len(steps), steps)
	}
	for i, w := range want {
		s := steps[i]
		if s.ID != w.id || s.Line != w.line || s.Done != w.done || (s.Err != nil) != w.err || s.At.IsZero() {
			t.Errorf("step %d = %+v, want %+v", i, s, w)
		}
	}
	if l.V(1).Enabled() || !l.V(0).Enabled() {
		t.Errorf("verbosity gating wrong")
	}
}
