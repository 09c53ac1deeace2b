package ui

import (
	"slices"
	"strings"
	"testing"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

// TestCatalogMarksWhatTheFactsSay: the "needs <backend>" badge comes from
// Options.OnlyBackend (the backends' facts), not from a table in ui.
func TestCatalogMarksWhatTheFactsSay(t *testing.T) {
	eng := &fakeEngine{cat: testCatalog()}
	if v := newCatalogPage(testCommon(), eng, eng.cat, nil).View(); strings.Contains(v, "needs ") {
		t.Fatalf("badge without facts:\n%s", v)
	}
	var asked int
	only := func(reqs []v1alpha1.Capability) string {
		asked++
		if slices.Contains(reqs, v1alpha1.CapNetpol) {
			return "kind"
		}
		return ""
	}
	v := newCatalogPage(testCommon(), eng, eng.cat, nil).markOnly(only).View()
	if asked == 0 || !strings.Contains(v, "needs kind") {
		t.Fatalf("asked %d times; view:\n%s", asked, v)
	}
}

// kindOnlyForTest stands in for backend.OnlyProvider (which ui must not
// import): kind is the only backend with these capabilities.
func kindOnlyForTest(reqs []v1alpha1.Capability) string {
	for _, c := range reqs {
		switch c {
		case v1alpha1.CapWorkloads, v1alpha1.CapNetpol, v1alpha1.CapGVisor, v1alpha1.CapAppArmor,
			v1alpha1.CapFalco, v1alpha1.CapGatekeeper, v1alpha1.CapPSP:
			return "kind"
		}
	}
	return ""
}
