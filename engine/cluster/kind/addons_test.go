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
			"ckslab-control-plane: sh -c " + gvisorScript(""),
			"ckslab-worker: sh -c " + gvisorScript(""),
			": sh -c " + runtimeClassScript,
			": sh -c " + gvisorProbeStartScript,
			": sh -c " + gvisorProbeCheckScript + " probe ckslab-gvisor-probe-ckslab-control-plane ckslab-gvisor-probe-ckslab-worker",
		}, stdin: map[int]string{2: runtimeClassManifest, 3: gvisorProbeManifest([]string{"ckslab-control-plane", "ckslab-worker"})}},
		{addon: AddonGVisor, in: PlanInput{Nodes: nodes, Source: AddonSourceCache}, want: []string{
			"ckslab-control-plane: sh -c " + gvisorScript(AddonSourceCache),
			"ckslab-worker: sh -c " + gvisorScript(AddonSourceCache),
			": sh -c " + runtimeClassScript,
			": sh -c " + gvisorProbeStartScript,
			": sh -c " + gvisorProbeCheckScript + " probe ckslab-gvisor-probe-ckslab-control-plane ckslab-gvisor-probe-ckslab-worker",
		}, stdin: map[int]string{2: runtimeClassManifest, 3: gvisorProbeManifest([]string{"ckslab-control-plane", "ckslab-worker"})}},
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
	s := gvisorScript(AddonSourceDownload)
	for _, want := range []string{"releases/release/" + GVisorRelease + "/", "sha512sum -c", "if ! [ -x /usr/local/bin/runsc ]", "if ! grep -q 'runtimes.runsc]'", "systemctl restart containerd"} {
		if !strings.Contains(s, want) {
			t.Errorf("gvisor script lacks %q", want)
		}
	}
}

func TestGVisorScriptCacheSourceDownloadsNothing(t *testing.T) {
	s := gvisorScript(AddonSourceCache)
	for _, bad := range []string{"curl", "https://", "sha512sum"} {
		if strings.Contains(s, bad) {
			t.Errorf("cache-source gvisor script contains %q:\n%s", bad, s)
		}
	}
	for _, want := range []string{"/usr/local/bin/$f is missing", "hack/kind-node-image.sh", gvisorRegisterScript} {
		if !strings.Contains(s, want) {
			t.Errorf("cache-source gvisor script lacks %q", want)
		}
	}
	if !strings.Contains(gvisorScript(AddonSourceDownload), gvisorRegisterScript) {
		t.Errorf("both sources must register runsc the same way")
	}
}

func TestGVisorProbe(t *testing.T) {
	m := gvisorProbeManifest([]string{"a-control-plane", "a-worker"})
	for _, want := range []string{"handler: runsc", "name: ckslab-gvisor-probe-a-worker", "nodeName: a-worker",
		"runtimeClassName: " + gvisorProbeClass, `command: ["dmesg"]`, "image: " + gvisorProbeImage} {
		if !strings.Contains(m, want) {
			t.Errorf("probe manifest lacks %q:\n%s", want, m)
		}
	}
	if strings.Count(m, "kind: Pod\n") != 2 {
		t.Errorf("want one probe pod per node:\n%s", m)
	}
	// The verdict is gVisor's own boot banner in the pod's dmesg.
	if !strings.Contains(gvisorProbeCheckScript, "grep -q 'Starting gVisor'") || !strings.Contains(gvisorProbeCheckScript, "exit $rc") {
		t.Errorf("probe check does not judge the dmesg banner:\n%s", gvisorProbeCheckScript)
	}
}

func TestPreloadedImages(t *testing.T) {
	in := "containers:\n- image: openpolicyagent/gatekeeper:v3.23.0\n  imagePullPolicy: Always\n  name: manager\n---\n        imagePullPolicy: Always\n"
	got, err := PreloadedImages([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := "containers:\n- image: openpolicyagent/gatekeeper:v3.23.0\n  imagePullPolicy: IfNotPresent\n  name: manager\n---\n        imagePullPolicy: IfNotPresent\n"
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if _, err := PreloadedImages([]byte("imagePullPolicy: IfNotPresent\n")); err == nil {
		t.Errorf("a manifest with nothing to rewrite must fail (the release changed)")
	}
}

func TestWithAddonSource(t *testing.T) {
	for _, src := range []string{"", AddonSourceDownload, AddonSourceCache} {
		b, err := New(WithAddonSource(src), WithStateDir(t.TempDir()), WithCacheDir(t.TempDir()))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		want := src
		if want == "" {
			want = AddonSourceDownload
		}
		if b.addonSource != want {
			t.Errorf("%q: source %q", src, b.addonSource)
		}
	}
	if _, err := New(WithAddonSource("registry")); err == nil || !strings.Contains(err.Error(), "use download") {
		t.Errorf("unknown source err = %v", err)
	}
}
