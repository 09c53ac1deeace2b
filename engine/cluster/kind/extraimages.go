package kind

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ckslab/ckslab/engine/cluster"
)

// ExtraImagesEnv names docker-archive tarballs (separated like PATH) that
// cluster up imports into every node's containerd. CI ONLY: offline CI has
// no registry, so hack/ci-kind.sh passes the stand-ins of
// hack/ci-workload-images.sh (Debian's nginx under the names
// docker.io/library/nginx:1.27 and docker.io/nginxinc/nginx-unprivileged:1.27);
// learners pull the real images and never set it.
const ExtraImagesEnv = "CKSLAB_KIND_EXTRA_IMAGES"

// WithExtraImages imports the images of these docker-archive tarballs into
// every node at cluster up (CKSLAB_KIND_EXTRA_IMAGES; CI-only stand-ins for
// images an offline node cannot pull). Empty entries are ignored.
func WithExtraImages(tarballs []string) Option {
	return func(b *Backend) error {
		for _, t := range tarballs {
			if t = strings.TrimSpace(t); t != "" {
				b.extraImages = append(b.extraImages, t)
			}
		}
		return nil
	}
}

// archiveRefs reads every image name of a docker-archive tarball (the
// RepoTags of its manifest.json).
func archiveRefs(r io.Reader) ([]string, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no manifest.json: not a docker-archive tarball")
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimPrefix(h.Name, "./") != "manifest.json" {
			continue
		}
		var m []struct{ RepoTags []string }
		if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&m); err != nil {
			return nil, fmt.Errorf("manifest.json: %w", err)
		}
		var refs []string
		for _, e := range m {
			refs = append(refs, e.RepoTags...)
		}
		if len(refs) == 0 {
			return nil, errors.New("manifest.json names no image (no RepoTags)")
		}
		return refs, nil
	}
}

// extraImageRefs reads the image names of every extra tarball, so a
// missing or malformed file is refused before any node is created.
func (b *Backend) extraImageRefs() ([][]string, error) {
	out := make([][]string, len(b.extraImages))
	for i, path := range b.extraImages {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (CI stand-in images: build them with hack/ci-workload-images.sh)", ExtraImagesEnv, err)
		}
		refs, err := archiveRefs(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", ExtraImagesEnv, path, err)
		}
		out[i] = refs
	}
	return out, nil
}

// normalizeRef is ref as containerd names it (docker.io/library/ for
// short names), to compare with `ctr images ls -q`.
func normalizeRef(ref string) string {
	name := ref
	if i := strings.IndexByte(ref, '/'); i < 0 {
		name = "docker.io/library/" + ref
	} else if first := ref[:i]; !strings.ContainsAny(first, ".:") && first != "localhost" {
		name = "docker.io/" + ref
	}
	return name
}

// importExtraImages imports the extra tarballs into every node that lacks
// one of their images (a reused cluster that has them all costs one
// `ctr images ls` per node), all nodes at once.
func (b *Backend) importExtraImages(ctx context.Context, c *cluster.Cluster, refs [][]string, progress cluster.ProgressFunc) error {
	if len(b.extraImages) == 0 {
		return nil
	}
	var all []string
	for _, r := range refs {
		all = append(all, r...)
	}
	step := cluster.Step{ID: "extra-images", Title: "Import CI stand-in images (" + ExtraImagesEnv + ", CI only): " + strings.Join(all, ", ")}
	progress.Report(step)
	start := time.Now()
	errs := make([]error, len(c.Nodes))
	imported := make([]int, len(c.Nodes))
	var wg sync.WaitGroup
	for i, n := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := n.Exec(ctx, nil, "ctr", "--namespace=k8s.io", "images", "ls", "-q")
			if err != nil {
				errs[i] = fmt.Errorf("list images of node %s: %w", n.Name(), err)
				return
			}
			have := strings.Fields(string(out))
			for j, path := range b.extraImages {
				missing := slices.ContainsFunc(refs[j], func(r string) bool { return !slices.Contains(have, normalizeRef(r)) })
				if !missing {
					continue
				}
				f, err := os.Open(path)
				if err != nil {
					errs[i] = fmt.Errorf("%s: %w", ExtraImagesEnv, err)
					return
				}
				_, err = n.Exec(ctx, f, "ctr", "--namespace=k8s.io", "images", "import", "--no-unpack", "-")
				f.Close()
				if err != nil {
					errs[i] = fmt.Errorf("import %s into node %s: %w", path, n.Name(), err)
					return
				}
				imported[i]++
			}
		}()
	}
	wg.Wait()
	step.Done = true
	if err := errors.Join(errs...); err != nil {
		step.Err = err
		progress.Report(step)
		return err
	}
	n := 0
	for _, k := range imported {
		n += k
	}
	if n == 0 {
		step.Line = fmt.Sprintf("already on all %d nodes", len(c.Nodes))
	} else {
		step.Line = fmt.Sprintf("%d tarball import(s) into %d node(s) in %.1fs", n, len(c.Nodes), time.Since(start).Seconds())
	}
	progress.Report(step)
	return nil
}
