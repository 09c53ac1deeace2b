// Package backend chooses the cluster backend for a command: kind where a
// container engine answers, the local control plane otherwise.
package backend

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/cluster/kind"
	"github.com/ckslab/ckslab/engine/cluster/local"
)

// Options carry what every backend needs from the application.
type Options struct {
	// StateRoot is ckslab's state directory; each backend keeps its
	// clusters under <StateRoot>/clusters/<backend>.
	StateRoot string
	// Probe reports whether a container engine daemon answers (nil: run
	// `docker info` / `podman info`). Tests inject it.
	Probe func(ctx context.Context) (engine string, ok bool, reason string)
}

// Names are the accepted --backend values.
var Names = []string{"auto", "kind", "local"}

// Resolve returns the backend called name; "auto" picks kind when a
// container engine answers and local otherwise. The second value explains
// the choice for the user ("auto: no Docker daemon (...), using local").
func Resolve(ctx context.Context, name string, o Options) (cluster.Backend, string, error) {
	probe := o.Probe
	if probe == nil {
		probe = ProbeContainerEngine
	}
	switch name {
	case "", "auto":
		if engine, ok, reason := probe(ctx); ok {
			b, err := newKind(o, engine)
			return b, fmt.Sprintf("auto: %s answers, using kind", engine), err
		} else {
			b, err := newLocal(o)
			return b, fmt.Sprintf("auto: %s, using the local backend", reason), err
		}
	case "kind":
		engine, ok, reason := probe(ctx)
		if !ok {
			return nil, "", fmt.Errorf("the kind backend needs a container engine: %s; start Docker or use --backend local", reason)
		}
		b, err := newKind(o, engine)
		return b, "kind (forced)", err
	case "local":
		b, err := newLocal(o)
		return b, "local (forced)", err
	}
	return nil, "", fmt.Errorf("unknown backend %q; use one of: %s", name, strings.Join(Names, ", "))
}

func newKind(o Options, engine string) (cluster.Backend, error) {
	var opts []kind.Option
	if o.StateRoot != "" {
		opts = append(opts, kind.WithStateDir(filepath.Join(o.StateRoot, "clusters")))
	}
	if engine != "" {
		opts = append(opts, kind.WithContainerEngine(engine))
	}
	return kind.New(opts...)
}

func newLocal(o Options) (cluster.Backend, error) {
	var opts []local.Option
	if o.StateRoot != "" {
		opts = append(opts, local.WithStateDir(filepath.Join(o.StateRoot, "clusters", "local")))
	}
	return local.New(opts...)
}

// ProbeContainerEngine asks docker, then podman, whether a daemon answers.
func ProbeContainerEngine(ctx context.Context) (string, bool, string) {
	var reasons []string
	for _, engine := range []string{"docker", "podman"} {
		path, err := exec.LookPath(engine)
		if err != nil {
			reasons = append(reasons, engine+" not installed")
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		out, err := exec.CommandContext(cctx, path, "info", "--format", "{{.ServerVersion}}").CombinedOutput()
		cancel()
		if err == nil {
			return engine, true, ""
		}
		msg := strings.TrimSpace(string(out))
		if i := strings.IndexByte(msg, '\n'); i > 0 {
			msg = msg[:i]
		}
		if msg == "" {
			msg = err.Error()
		}
		reasons = append(reasons, fmt.Sprintf("no %s daemon (%s info: %s)", engine, engine, msg))
	}
	return "", false, strings.Join(reasons, "; ")
}
