package kind

import (
	"strings"
	"testing"

	"github.com/ckslab/ckslab/kindconfigs"
)

func TestEveryVariantLoadsAndValidates(t *testing.T) {
	variants := kindconfigs.Variants()
	want := []string{"audit", "default", "psa-admission", "psp-legacy", "runsc", "seccomp"}
	if strings.Join(variants, ",") != strings.Join(want, ",") {
		t.Fatalf("variants = %v, want %v", variants, want)
	}
	for _, v := range variants {
		t.Run(v, func(t *testing.T) {
			raw, cfg, err := LoadVariant(v, "/state/kind/ckslab/node-files")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), kindconfigs.HostDirToken) {
				t.Errorf("host dir token left in rendered config")
			}
			if !cfg.Networking.DisableDefaultCNI || cfg.Networking.PodSubnet != "192.168.0.0/16" {
				t.Errorf("networking = %+v, want Calico-ready (no default CNI, 192.168.0.0/16)", cfg.Networking)
			}
			if len(cfg.Nodes) != 2 || cfg.Nodes[0].Role != "control-plane" || cfg.Nodes[1].Role != "worker" {
				t.Errorf("nodes = %+v, want one control-plane and one worker", cfg.Nodes)
			}
			mounts := map[string]string{}
			for _, m := range cfg.Nodes[0].ExtraMounts {
				mounts[m.ContainerPath] = m.HostPath
			}
			for _, p := range []string{"/etc/kubernetes/audit", "/etc/kubernetes/enc"} {
				if !strings.HasPrefix(mounts[p], "/state/kind/ckslab/node-files/") {
					t.Errorf("control-plane mount %s = %q, want under the host dir", p, mounts[p])
				}
			}
		})
	}
}

func TestVariantSpecifics(t *testing.T) {
	tests := []struct {
		variant string
		want    []string
	}{
		{"audit", []string{"audit-policy-file: /etc/kubernetes/audit/policy.yaml", "audit-log-path: /var/log/kubernetes/audit/audit.log", "mountPath: /var/log/kubernetes/audit"}},
		{"psa-admission", []string{"admission-control-config-file: /etc/kubernetes/psa/admission.yaml"}},
		{"seccomp", []string{"containerPath: /var/lib/kubelet/seccomp"}},
		{"runsc", []string{`containerd.runtimes.runsc]`, `runtime_type = "io.containerd.runsc.v1"`}},
		{"psp-legacy", []string{"enable-admission-plugins: NodeRestriction,PodSecurityPolicy", LegacyPSPNodeImage}},
	}
	for _, tt := range tests {
		t.Run(tt.variant, func(t *testing.T) {
			raw, _, err := LoadVariant(tt.variant, "/h")
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(raw), w) {
					t.Errorf("missing %q", w)
				}
			}
		})
	}
}

func TestConfigRejects(t *testing.T) {
	const head = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n"
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"unknown field", head + "nodes:\n- role: control-plane\n  bogus: 1\n", "field bogus not found"},
		{"versioned patch", head + "nodes:\n- role: control-plane\n  kubeadmConfigPatches:\n  - |\n    apiVersion: kubeadm.k8s.io/v1beta3\n    kind: ClusterConfiguration\n", "must not set apiVersion"},
		{"bad role", head + "nodes:\n- role: master\n", "not control-plane or worker"},
		{"no control plane", head + "nodes:\n- role: worker\n", "at least one control-plane"},
		{"bad subnet", head + "networking:\n  podSubnet: 192.168.0.0\nnodes:\n- role: control-plane\n", "not a CIDR"},
		{"relative mount", head + "nodes:\n- role: control-plane\n  extraMounts:\n  - hostPath: rel\n    containerPath: /x\n", "not absolute"},
		{"tag-only image", head + "nodes:\n- role: control-plane\n  image: kindest/node:v1.35.8\n", "not pinned by digest"},
		{"wrong apiVersion", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\n", "must be kind.x-k8s.io/v1alpha4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(tt.yaml))
			if err == nil {
				err = ValidateConfig(cfg)
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestUnknownVariant(t *testing.T) {
	_, _, err := LoadVariant("nope", "/h")
	if err == nil || !strings.Contains(err.Error(), "have: audit, default") {
		t.Fatalf("err = %v", err)
	}
}
