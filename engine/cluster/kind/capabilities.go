package kind

import (
	"context"
	"strings"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/kindconfigs"
)

const (
	appArmorEnabledPath = "/sys/module/apparmor/parameters/enabled"
	btfPath             = "/sys/kernel/btf/vmlinux"
)

// HostFacts are the host kernel features kind nodes inherit.
type HostFacts struct {
	AppArmor bool
	BTF      bool
}

// ReadHostFacts reads AppArmor and BTF availability through readFile
// (os.ReadFile in production).
func ReadHostFacts(readFile func(string) ([]byte, error)) HostFacts {
	var f HostFacts
	if b, err := readFile(appArmorEnabledPath); err == nil && strings.TrimSpace(string(b)) == "Y" {
		f.AppArmor = true
	}
	if _, err := readFile(btfPath); err == nil {
		f.BTF = true
	}
	return f
}

// CapabilitiesFor is what a kind cluster of variant with Calico provides on a host with facts.
func CapabilitiesFor(variant string, f HostFacts) cluster.Capabilities {
	return CapabilitiesForCNI(variant, CNICalico, f)
}

// CapabilitiesForCNI is what a kind cluster of variant with that CNI provides:
// the plain bridge CNI enforces no NetworkPolicy, so it drops netpol.
func CapabilitiesForCNI(variant, cni string, f HostFacts) cluster.Capabilities {
	return CapabilitiesForNetwork(variant, cni, NetPolCNI, f)
}

// CapabilitiesForNetwork adds the NetworkPolicy engine: the bridge CNI
// provides netpol only with an engine that enforces it (kube-router).
func CapabilitiesForNetwork(variant, cni, netpol string, f HostFacts) cluster.Capabilities {
	caps := capabilitiesFor(variant, f)
	if cni == CNIBridge && netpol != NetPolKubeRouter {
		delete(caps, v1alpha1.CapNetpol)
	}
	return caps
}

func capabilitiesFor(variant string, f HostFacts) cluster.Capabilities {
	caps := cluster.NewCapabilities(v1alpha1.CapAPI, v1alpha1.CapControlPlaneNode, v1alpha1.CapEtcd,
		v1alpha1.CapWorkloads, v1alpha1.CapNetpol, v1alpha1.CapGVisor, v1alpha1.CapGatekeeper, v1alpha1.CapNodeServices)
	if f.AppArmor {
		caps[v1alpha1.CapAppArmor] = true
	}
	if f.BTF {
		caps[v1alpha1.CapFalco] = true
	}
	if variant == VariantPSPLegacy {
		caps[v1alpha1.CapPSP] = true
	}
	return caps
}

// Facts are the kind backend's: nodes are containers, isolated from the
// user's machine; every capability is possible given what Needs names.
func Facts() cluster.Facts {
	return cluster.Facts{
		NodeIsolated: true,
		Provides: cluster.NewCapabilities(v1alpha1.CapAPI, v1alpha1.CapControlPlaneNode, v1alpha1.CapEtcd,
			v1alpha1.CapWorkloads, v1alpha1.CapNetpol, v1alpha1.CapGVisor, v1alpha1.CapGatekeeper,
			v1alpha1.CapAppArmor, v1alpha1.CapFalco, v1alpha1.CapPSP, v1alpha1.CapNodeServices),
		Needs: map[cluster.Capability]string{
			v1alpha1.CapAppArmor: "AppArmor enabled in the host kernel (" + appArmorEnabledPath + " reads Y)",
			v1alpha1.CapFalco:    "a host kernel with BTF (" + btfPath + ")",
			v1alpha1.CapPSP:      "a cluster of the " + VariantPSPLegacy + " variant (the scenario's kindConfig)",
			v1alpha1.CapNetpol:   "a NetworkPolicy engine: the default Calico CNI (the plain bridge CNI enforces none unless CKSLAB_KIND_NETPOL=kube-router)",
		},
	}
}

// Facts implements cluster.Backend.
func (b *Backend) Facts() cluster.Facts { return Facts() }

// Capabilities reports what a default kind cluster provides here; nothing when
// no container engine answers. psp is only provided by clusters of the
// psp-legacy variant (see CapabilitiesFor and Cluster.Capabilities).
func (b *Backend) Capabilities(ctx context.Context) cluster.Capabilities {
	p, err := b.prov()
	if err != nil {
		return cluster.Capabilities{}
	}
	if _, err := b.runner.Run(ctx, nil, p.CLI(), "info"); err != nil {
		return cluster.Capabilities{}
	}
	return CapabilitiesForNetwork(kindconfigs.DefaultVariant, b.cni, b.netpol, ReadHostFacts(b.readHostFile))
}
