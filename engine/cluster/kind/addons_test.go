package kind

import (
	"errors"
	"strings"
	"testing"

	"github.com/ckslab/ckslab/engine/cluster"
)

func TestPlanAddon(t *testing.T) {
	nodes := []NodeInfo{{"ckslab-worker", cluster.RoleWorker}, {"ckslab-control-plane", cluster.RoleControlPlane}}
	kc := "kubectl --kubeconfig=/etc/kubernetes/admin.conf "
	apply := kc + "apply --server-side --force-conflicts -f -"
	tests := []struct {
		addon   string
		in      PlanInput
		want    []string // "node: argv" ("" node = control plane)
		stdin   map[int]string
		refused bool
	}{
		{addon: AddonGatekeeper, in: PlanInput{Nodes: nodes, Manifest: []byte("gk-manifest")}, want: []string{
			": " + apply,
			": " + kc + "wait --for=condition=Established --timeout=120s crd/constrainttemplates.templates.gatekeeper.sh crd/configs.config.gatekeeper.sh",
			": " + kc + "-n gatekeeper-system rollout status deployment/gatekeeper-controller-manager --timeout=300s",
			": " + kc + "-n gatekeeper-system rollout status deployment/gatekeeper-audit --timeout=300s",
			": " + kc + "get validatingwebhookconfiguration gatekeeper-validating-webhook-configuration",
		}, stdin: map[int]string{0: "gk-manifest"}},
		{addon: AddonGVisor, in: PlanInput{Nodes: nodes}, want: []string{
			"ckslab-control-plane: sh -c " + gvisorScript(),
			"ckslab-worker: sh -c " + gvisorScript(),
			": " + apply,
		}, stdin: map[int]string{2: runtimeClassManifest}},
		{addon: AddonAppArmor, in: PlanInput{Nodes: nodes, Facts: HostFacts{AppArmor: true}}, want: []string{
			"ckslab-control-plane: sh -c " + appArmorScript,
			"ckslab-worker: sh -c " + appArmorScript,
		}},
		{addon: AddonAppArmor, in: PlanInput{Nodes: nodes}, refused: true},
		{addon: AddonFalco, in: PlanInput{Nodes: nodes, Facts: HostFacts{BTF: true}}, want: []string{
			"ckslab-control-plane: mkdir -p /etc/falco/rules.d",
			"ckslab-worker: mkdir -p /etc/falco/rules.d",
			": " + apply,
			": " + kc + "-n falco rollout status daemonset/falco --timeout=300s",
		}, stdin: map[int]string{2: falcoManifest()}},
		{addon: AddonFalco, in: PlanInput{Nodes: nodes, Facts: HostFacts{AppArmor: true}}, refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.addon, func(t *testing.T) {
			actions, err := PlanAddon(tt.addon, tt.in)
			var refused *RefusedError
			if tt.refused {
				if !errors.As(err, &refused) || refused.Reason == "" {
					t.Fatalf("err = %v, want RefusedError with a reason", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, a := range actions {
				got = append(got, a.Node+": "+strings.Join(a.Argv, " "))
				if string(a.Stdin) != tt.stdin[i] {
					t.Errorf("action %d stdin = %q, want %q", i, a.Stdin, tt.stdin[i])
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestPlanAddonErrors(t *testing.T) {
	if _, err := PlanAddon("istio", PlanInput{}); err == nil || !strings.Contains(err.Error(), "have: apparmor, falco, gatekeeper, gvisor") {
		t.Errorf("unknown add-on err = %v", err)
	}
	if _, err := PlanAddon(AddonGatekeeper, PlanInput{}); err == nil {
		t.Errorf("gatekeeper without manifest: want error")
	}
}

func TestGVisorScriptIsIdempotentAndVerified(t *testing.T) {
	s := gvisorScript()
	for _, want := range []string{"releases/release/" + GVisorRelease + "/", "sha512sum -c", "if ! [ -x /usr/local/bin/runsc ]", "if ! grep -q 'runtimes.runsc]'", "systemctl restart containerd"} {
		if !strings.Contains(s, want) {
			t.Errorf("gvisor script lacks %q", want)
		}
	}
}
