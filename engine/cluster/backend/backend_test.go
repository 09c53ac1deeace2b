package backend

import (
	"context"
	"testing"

	"github.com/ckslab/ckslab/engine/cluster"
)

func TestResolve(t *testing.T) {
	none := func(context.Context) string { return "" }
	docker := func(context.Context) string { return "docker" }
	tests := []struct {
		name    string
		backend string
		probe   func(context.Context) string
		want    string
		wantErr bool
	}{
		{"auto without engine", "auto", none, "local", false},
		{"empty means auto", "", none, "local", false},
		{"auto with docker", "auto", docker, "kind", false},
		{"forced local", "local", docker, "local", false},
		{"forced kind with docker", "kind", docker, "kind", false},
		{"forced kind without an engine says so", "kind", none, "", true},
		{"unknown", "vagrant", none, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, why, err := Resolve(context.Background(), tt.backend, Options{StateRoot: t.TempDir(), Probe: tt.probe})
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want error, got %s", b.Name())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Name() != tt.want || why == "" {
				t.Fatalf("got %s (%q), want %s", b.Name(), why, tt.want)
			}
		})
	}
}

// With auto, every verb must talk to the cluster that runs, not to whatever
// auto would pick on this host today: with Docker answering, `ckslab ssh`
// and `cluster status` used to look for a kind cluster while a local lab ran.
func TestResolveAutoFollowsTheRunningCluster(t *testing.T) {
	docker := func(context.Context) string { return "docker" }
	none := func(context.Context) string { return "" }
	runsOn := func(backend string) func(context.Context, cluster.Backend, string) bool {
		return func(_ context.Context, b cluster.Backend, name string) bool {
			return b.Name() == backend && name == "lab"
		}
	}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"lab recorded on local, Docker answers", Options{Probe: docker, LabBackend: "local", Cluster: "lab", Running: runsOn("")}, "local"},
		{"lab recorded on kind", Options{Probe: docker, LabBackend: "kind", Cluster: "lab", Running: runsOn("")}, "kind"},
		{"no lab, local cluster runs, Docker answers", Options{Probe: docker, Cluster: "lab", Running: runsOn("local")}, "local"},
		{"no lab, kind cluster runs", Options{Probe: docker, Cluster: "lab", Running: runsOn("kind")}, "kind"},
		{"no lab, nothing runs, Docker answers", Options{Probe: docker, Cluster: "lab", Running: runsOn("")}, "kind"},
		{"no lab, nothing runs, no engine", Options{Probe: none, Cluster: "lab", Running: runsOn("")}, "local"},
		{"another cluster name runs on local", Options{Probe: docker, Cluster: "other", Running: runsOn("local")}, "kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.StateRoot = t.TempDir()
			b, why, err := Resolve(context.Background(), "auto", tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if b.Name() != tt.want {
				t.Fatalf("auto picked %s (%s), want %s", b.Name(), why, tt.want)
			}
		})
	}
	// A lab on kind with no engine answering says so instead of silently using local.
	if _, _, err := Resolve(context.Background(), "auto", Options{StateRoot: t.TempDir(), Probe: none, LabBackend: "kind"}); err == nil {
		t.Fatal("a kind lab without a container engine must be an error")
	}
	// --backend forces, whatever runs.
	if b, _, err := Resolve(context.Background(), "kind", Options{StateRoot: t.TempDir(), Probe: docker, LabBackend: "local", Running: runsOn("local"), Cluster: "lab"}); err != nil || b.Name() != "kind" {
		t.Fatalf("forced kind = %v, %v", b, err)
	}
}

func TestKindSettingsFromEnv(t *testing.T) {
	env := map[string]string{"CKSLAB_KIND_NODE_IMAGE": "ckslab.local/kind-node:v1", "CKSLAB_KIND_CNI": "bridge",
		"CKSLAB_KIND_EXTRA_IMAGES": "/c/workloads.tar:/c/other.tar"}
	k := KindSettingsFromEnv(func(k string) string { return env[k] })
	if k.NodeImage != "ckslab.local/kind-node:v1" || k.CNI != "bridge" || k.EffectiveNodeImage() != "ckslab.local/kind-node:v1" {
		t.Fatalf("settings = %+v", k)
	}
	if len(k.ExtraImages) != 2 || k.ExtraImages[0] != "/c/workloads.tar" || k.ExtraImages[1] != "/c/other.tar" {
		t.Fatalf("extra images = %q", k.ExtraImages)
	}
	if (KindSettings{}).EffectiveNodeImage() == "" {
		t.Fatal("default node image is empty")
	}
	if _, _, err := Resolve(context.Background(), "kind", Options{StateRoot: t.TempDir(), Probe: func(context.Context) string { return "docker" }, Kind: KindSettings{CNI: "weave"}}); err == nil {
		t.Fatal("an unknown CNI must be refused")
	}
}
