package kind

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// CgroupV1Patches are the kubeadm config patches every node of a cluster
// gets when the container engine's host runs cgroup v1. kubelet 1.35+
// defaults failCgroupV1 to true and refuses to start on such hosts; kind
// never sets it. kubeadm's SystemVerification preflight rejects cgroup v1 too
// (kind already skips the preflight phase; the patch keeps kubeadm from
// failing should a phase run it).
func CgroupV1Patches() []string {
	return []string{
		"kind: KubeletConfiguration\nfailCgroupV1: false\n",
		"kind: InitConfiguration\nnodeRegistration:\n  ignorePreflightErrors: [SystemVerification]\n",
		"kind: JoinConfiguration\nnodeRegistration:\n  ignorePreflightErrors: [SystemVerification]\n",
	}
}

// CgroupV1Note is what ckslab does on a cgroup v1 host (doctor and Up say it).
const CgroupV1Note = "kind nodes get kubelet failCgroupV1: false and kubeadm's SystemVerification preflight ignored (kubelet ≥1.35 refuses cgroup v1 otherwise)"

// engineCgroupVersion asks the container engine which cgroup version its
// host runs (the engine may run in a VM: the ckslab host's own /sys says
// nothing about it). It returns 1, 2, or 0 when the engine does not say.
func engineCgroupVersion(ctx context.Context, r Runner, cli string) int {
	format := "{{.CgroupVersion}}"
	if cli == "podman" {
		format = "{{.Host.CgroupsVersion}}"
	}
	out, err := r.Run(ctx, nil, cli, "info", "--format", format)
	if err != nil {
		return 0
	}
	switch strings.TrimPrefix(strings.TrimSpace(string(out)), "v") {
	case "1":
		return 1
	case "2":
		return 2
	}
	return 0
}

// withClusterPatches appends kubeadm config patches to the cluster-wide
// kubeadmConfigPatches of a kind config, keeping the rest of the document.
func withClusterPatches(raw []byte, patches ...string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("read kind config: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("kind config is not a YAML mapping")
	}
	root := doc.Content[0]
	var seq *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "kubeadmConfigPatches" {
			seq = root.Content[i+1]
		}
	}
	if seq == nil {
		seq = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "kubeadmConfigPatches"}, seq)
	}
	if seq.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("kind config: kubeadmConfigPatches is not a list")
	}
	for _, p := range patches {
		seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.LiteralStyle, Value: p})
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("write kind config: %w", err)
	}
	return buf.Bytes(), enc.Close()
}

// PinnedByDigest reports whether image names a registry image by digest.
func PinnedByDigest(image string) bool { return strings.Contains(image, "@sha256:") }

// checkNodeImageRef accepts a registry reference pinned by digest, or a
// local image (name:tag or an image ID) that ckslab pins by its image ID.
func checkNodeImageRef(image string) error {
	if image == "" || strings.ContainsAny(image, " \t\n") {
		return fmt.Errorf("node image %q is not an image reference", image)
	}
	return nil
}

// resolveNodeImage returns what nodes are created from. A reference pinned
// by digest is used as is (kind pulls it when missing). Anything else must
// be a local image already in the container engine (built or loaded there,
// e.g. in an air-gapped room); it is pinned by its image ID so the cluster
// never runs another image that later takes the same name, and it is never
// pulled: an unpinned name from a registry could be anything.
func resolveNodeImage(ctx context.Context, r Runner, cli, image string) (id, note string, err error) {
	if PinnedByDigest(image) {
		return image, "", nil
	}
	out, err := r.Run(ctx, nil, cli, "image", "inspect", "--format", "{{.Id}}", image)
	got := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(got, "sha256:") {
		return "", "", fmt.Errorf("node image %q is not pinned by digest (name@sha256:...) and is not in %s's image store: "+
			"load it first (`%s load -i node.tar`, or build one with hack/kind-node-image.sh); ckslab never pulls an unpinned node image", image, cli, cli)
	}
	return got, fmt.Sprintf("local node image %s (%s)", image, shortID(got)), nil
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return "sha256:" + id
}
