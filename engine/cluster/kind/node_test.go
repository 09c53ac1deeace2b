package kind

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/ckslab/ckslab/engine/cluster"
)

func TestNodeCommands(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		do        func(n *Node) error
		want      string
		wantStdin string
	}{
		{"exec", func(n *Node) error { _, err := n.Exec(ctx, nil, "ls", "/"); return err }, "docker exec kind-worker ls /", ""},
		{"read", func(n *Node) error { _, err := n.ReadFile(ctx, "/etc/x"); return err }, "docker exec kind-worker cat -- /etc/x", ""},
		{"write", func(n *Node) error { return n.WriteFile(ctx, "/etc/k/m.yaml", []byte("data"), 0o600) },
			"docker exec -i kind-worker sh -c " + cluster.WriteFileScript + " sh /etc/k/m.yaml 0600", "data"},
		{"remove", func(n *Node) error { return n.Remove(ctx, "/etc/x") }, "docker exec kind-worker rm -f -- /etc/x", ""},
		{"stat", func(n *Node) error { _, err := n.Stat(ctx, "/etc/x"); return err }, "docker exec kind-worker stat -c %a -- /etc/x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := (&fakeRunner{}).on("stat", "640\n", 0)
			n := NewNode("kind-worker", cluster.RoleWorker, "docker", r)
			if err := tt.do(n); err != nil {
				t.Fatal(err)
			}
			if len(r.calls) != 1 || r.calls[0].argv != tt.want || r.calls[0].stdin != tt.wantStdin {
				t.Fatalf("calls = %+v, want %q with stdin %q", r.calls, tt.want, tt.wantStdin)
			}
		})
	}
}

func TestNodeStatAndMissingFiles(t *testing.T) {
	ctx := context.Background()
	r := (&fakeRunner{}).on("/etc/present", "640\n", 0).on("/etc/missing", "cat: /etc/missing: No such file or directory", 1)
	n := NewNode("n", cluster.RoleControlPlane, "podman", r)
	mode, err := n.Stat(ctx, "/etc/present")
	if err != nil || mode != 0o640 {
		t.Fatalf("Stat = %o, %v; want 0640", mode, err)
	}
	if _, err := n.ReadFile(ctx, "/etc/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadFile missing: err = %v, want fs.ErrNotExist", err)
	}
	if _, err := n.Stat(ctx, "/etc/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat missing: err = %v, want fs.ErrNotExist", err)
	}
	if !strings.HasPrefix(r.calls[0].argv, "podman exec n ") {
		t.Fatalf("cli not used: %q", r.calls[0].argv)
	}
}

func TestShellCommand(t *testing.T) {
	n := NewNode("ckslab-control-plane", cluster.RoleControlPlane, "sh", &fakeRunner{})
	c, err := n.ShellCommand(context.Background(), []string{"TERM=xterm"})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.(*execCmd).Args()[1:], " ")
	if got != "exec -it -e TERM=xterm -w /root ckslab-control-plane bash -l" {
		t.Fatalf("shell args = %q", got)
	}
}
