package kind

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ckslab/ckslab/engine/cluster"
)

// Offline bundle: one tar holding
//
//	images.tar                 `<cli> save` of the node image and Calico images
//	manifests/<name>.yaml      the pinned Calico and Gatekeeper manifests
//
// SaveBundle writes it on a connected machine; LoadBundle restores images
// into the container engine and manifests into the cache, so Up works
// without network; LoadImagesIntoNodes does what `kind load` does for a
// running cluster.

const bundleImagesEntry = "images.tar"

// BundleImages are the images an offline bundle carries.
func (b *Backend) BundleImages() []string {
	return append([]string{b.nodeImage}, CalicoImages()...)
}

// SaveBundle pulls the images, saves them and the pinned manifests into path.
func (b *Backend) SaveBundle(ctx context.Context, path string, progress cluster.ProgressFunc) error {
	p, err := b.prov()
	if err != nil {
		return err
	}
	images := b.BundleImages()
	for _, img := range images {
		progress.Report(cluster.Step{ID: "bundle", Title: "Pull " + img})
		if _, err := b.runner.Run(ctx, nil, p.CLI(), "pull", img); err != nil {
			return fmt.Errorf("pull %s for the offline bundle: %w", img, err)
		}
	}
	tmp, err := os.MkdirTemp("", "ckslab-bundle-")
	if err != nil {
		return fmt.Errorf("create temp dir for bundle: %w", err)
	}
	defer os.RemoveAll(tmp)
	imagesTar := filepath.Join(tmp, bundleImagesEntry)
	progress.Report(cluster.Step{ID: "bundle", Title: "Save images"})
	if _, err := b.runner.Run(ctx, nil, p.CLI(), append([]string{"save", "-o", imagesTar}, images...)...); err != nil {
		return fmt.Errorf("save images into the bundle: %w", err)
	}
	manifests := map[string][]byte{}
	for _, pin := range []ManifestPin{b.calico, b.gatekeeper} {
		data, err := b.cache.Get(ctx, pin)
		if err != nil {
			return err
		}
		manifests[filepath.Base(b.cache.path(pin))] = data
	}
	if err := writeBundle(path, imagesTar, manifests); err != nil {
		return fmt.Errorf("write bundle %s: %w", path, err)
	}
	progress.Report(cluster.Step{ID: "bundle", Title: "Wrote " + path, Done: true})
	return nil
}

func writeBundle(path, imagesTar string, manifests map[string][]byte) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	tw := tar.NewWriter(f)
	img, err := os.Open(imagesTar)
	if err != nil {
		return err
	}
	defer img.Close()
	st, err := img.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: bundleImagesEntry, Mode: 0o644, Size: st.Size()}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, img); err != nil {
		return err
	}
	for name, data := range manifests {
		if err := tw.WriteHeader(&tar.Header{Name: "manifests/" + name, Mode: 0o644, Size: int64(len(data))}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// LoadBundle streams the bundle's images into the container engine
// (`<cli> load`) and stores its manifests in the cache after verifying them.
func (b *Backend) LoadBundle(ctx context.Context, path string, progress cluster.ProgressFunc) error {
	p, err := b.prov()
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open bundle: %w", err)
	}
	defer f.Close()
	pins := map[string]ManifestPin{}
	for _, pin := range []ManifestPin{b.calico, b.gatekeeper} {
		pins["manifests/"+filepath.Base(b.cache.path(pin))] = pin
	}
	tr := tar.NewReader(f)
	loaded := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read bundle %s: %w", path, err)
		}
		switch h.Name {
		case bundleImagesEntry:
			progress.Report(cluster.Step{ID: "bundle", Title: "Load images into " + p.CLI()})
			if _, err := b.runner.Run(ctx, tr, p.CLI(), "load"); err != nil {
				return fmt.Errorf("load bundle images into %s: %w", p.CLI(), err)
			}
			loaded = true
		default:
			pin, ok := pins[h.Name]
			if !ok {
				continue // a bundle from another ckslab version: its manifests are not ours
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return fmt.Errorf("read %s from bundle: %w", h.Name, err)
			}
			if err := b.cache.Put(pin, data); err != nil {
				return err
			}
		}
	}
	if !loaded {
		return fmt.Errorf("bundle %s has no %s: create it with `ckslab images save`", path, bundleImagesEntry)
	}
	progress.Report(cluster.Step{ID: "bundle", Title: "Loaded " + path, Done: true})
	return nil
}

// LoadImagesIntoNodes copies host images into every node's containerd, like
// `kind load docker-image`: one `<cli> save` then `ctr images import` per node.
func (b *Backend) LoadImagesIntoNodes(ctx context.Context, c *cluster.Cluster, images []string) error {
	p, err := b.prov()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "ckslab-images-")
	if err != nil {
		return fmt.Errorf("create temp dir for images: %w", err)
	}
	defer os.RemoveAll(tmp)
	archive := filepath.Join(tmp, "images.tar")
	if _, err := b.runner.Run(ctx, nil, p.CLI(), append([]string{"save", "-o", archive}, images...)...); err != nil {
		return fmt.Errorf("save images %v: %w", images, err)
	}
	for _, n := range c.Nodes {
		f, err := os.Open(archive)
		if err != nil {
			return err
		}
		_, err = n.Exec(ctx, f, "ctr", "--namespace=k8s.io", "images", "import", "--all-platforms", "--digests", "--snapshotter=overlayfs", "-")
		f.Close()
		if err != nil {
			return fmt.Errorf("import images into node %s: %w", n.Name(), err)
		}
	}
	return nil
}
