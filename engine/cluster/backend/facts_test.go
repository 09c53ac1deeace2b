package backend

import (
	"context"
	"reflect"
	"testing"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/cluster/kind"
	"github.com/ckslab/ckslab/engine/cluster/local"
	"github.com/ckslab/ckslab/kindconfigs"
)

// TestFactsMatchBackends: each backend's facts agree with what it does:
// the local node is the host, kind's are not; the local backend provides
// exactly Provides on any host; a kind cluster on a host with AppArmor and
// BTF, of the psp-legacy variant or the default one, provides Provides
// between them; every capability with a stated need is one Provides has.
func TestFactsMatchBackends(t *testing.T) {
	lf, kf := local.Facts(), kind.Facts()
	if !lf.NodeIsHost() || kf.NodeIsHost() {
		t.Fatalf("NodeIsHost: local %v, kind %v; want true, false", lf.NodeIsHost(), kf.NodeIsHost())
	}
	lb, err := local.New(local.WithStateDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if got := lb.Capabilities(context.Background()); !reflect.DeepEqual(got, lf.Provides) {
		t.Errorf("local Capabilities %s, facts provide %s", got, lf.Provides)
	}
	if lb.Facts().NodeIsHost() != lf.NodeIsHost() {
		t.Error("local Backend.Facts differs from local.Facts")
	}
	capable := kind.HostFacts{AppArmor: true, BTF: true}
	union := cluster.Capabilities{}
	for _, variant := range []string{kindconfigs.DefaultVariant, kind.VariantPSPLegacy} {
		for c := range kind.CapabilitiesFor(variant, capable) {
			union[c] = true
		}
	}
	if !reflect.DeepEqual(union, kf.Provides) {
		t.Errorf("kind clusters on a capable host provide %s, facts provide %s", union, kf.Provides)
	}
	bare := kind.CapabilitiesFor(kindconfigs.DefaultVariant, kind.HostFacts{})
	for _, c := range kf.Provides.List() {
		if !bare.Has(c) && kf.Needs[c] == "" {
			t.Errorf("kind lacks %s on a bare host, but its facts state no need for it", c)
		}
	}
	for name, f := range AllFacts() {
		for c := range f.Needs {
			if !f.Provides.Has(c) {
				t.Errorf("%s states a need for %s, which it never provides", name, c)
			}
		}
		for other, g := range AllFacts() {
			if lack := f.Provides.Missing(g.Provides.List()); len(lack) > 0 && f.Elsewhere == "" {
				t.Errorf("%s lacks %v that %s provides, but its facts say nothing of where to get it", name, lack, other)
			}
		}
	}
}

// TestOnlyProviderIsTheOldKindOnlyTable: the catalog's "needs kind" badge
// (once a hard-coded list in ui) marks the same capabilities now that it
// asks the facts.
func TestOnlyProviderIsTheOldKindOnlyTable(t *testing.T) {
	kindOnly := map[v1alpha1.Capability]bool{
		v1alpha1.CapWorkloads: true, v1alpha1.CapNetpol: true, v1alpha1.CapGVisor: true, v1alpha1.CapAppArmor: true,
		v1alpha1.CapFalco: true, v1alpha1.CapGatekeeper: true, v1alpha1.CapPSP: true,
		v1alpha1.CapNodeServices: true, // added with host-01 (a node's own systemd)
	}
	for _, c := range v1alpha1.AllCapabilities {
		want := ""
		if kindOnly[c] {
			want = "kind"
		}
		if got := OnlyProvider([]cluster.Capability{c}); got != want {
			t.Errorf("OnlyProvider(%s) = %q, want %q", c, got, want)
		}
	}
	if got := OnlyProvider([]cluster.Capability{v1alpha1.CapAPI, v1alpha1.CapWorkloads}); got != "kind" {
		t.Errorf("api+workloads: %q, want kind", got)
	}
	if got := Providers([]cluster.Capability{v1alpha1.CapAPI, v1alpha1.CapEtcd}); !reflect.DeepEqual(got, []string{"kind", "local"}) {
		t.Errorf("api+etcd providers %q", got)
	}
	if got := Providers([]cluster.Capability{v1alpha1.CapHostCommands}); len(got) != 0 {
		t.Errorf("host-commands providers %q, want none", got)
	}
}
