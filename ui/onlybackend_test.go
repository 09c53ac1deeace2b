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
