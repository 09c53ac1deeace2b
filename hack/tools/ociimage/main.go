// Command ociimage assembles container images from local files with
// go-containerregistry and writes them, with their names, into one
// docker-archive tarball (what `docker load` and `ctr images import` read).
// hack/kind-node-image.sh uses it to build the control-plane and workload
// images of the offline kind node image; nothing is pulled.
//
//	ociimage -spec images.json -o images.tar
//
// images.json is a list of
//
//	{"ref": "registry.k8s.io/pause:3.10.1", "entrypoint": ["/pause"], "cmd": [], "env": [],
//	 "layers": [{"tar": "rootfs.tar"} | {"dir": "tree/"} | {"files": [{"src": "...", "dst": "/pause", "mode": 493}]}]}
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type fileSpec struct {
	Src  string `json:"src"`
	Dst  string `json:"dst"`
	Mode int64  `json:"mode"`
}

type layerSpec struct {
	Tar   string     `json:"tar,omitempty"`
	Dir   string     `json:"dir,omitempty"`
	Files []fileSpec `json:"files,omitempty"`
}

type imageSpec struct {
	Ref        string      `json:"ref"`
	Entrypoint []string    `json:"entrypoint"`
	Cmd        []string    `json:"cmd"`
	Env        []string    `json:"env"`
	Layers     []layerSpec `json:"layers"`
}

func main() {
	spec := flag.String("spec", "", "JSON list of images to build")
	out := flag.String("o", "", "docker-archive tarball to write")
	flag.Parse()
	if *spec == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: ociimage -spec images.json -o images.tar")
		os.Exit(2)
	}
	if err := run(*spec, *out); err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

func run(specPath, out string) error {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var specs []imageSpec
	if err := dec.Decode(&specs); err != nil {
		return fmt.Errorf("read %s: %w", specPath, err)
	}
	refs := map[name.Reference]v1.Image{}
	for _, s := range specs {
		ref, err := name.ParseReference(s.Ref)
		if err != nil {
			return fmt.Errorf("image %q: %w", s.Ref, err)
		}
		img, err := build(s)
		if err != nil {
			return fmt.Errorf("image %s: %w", s.Ref, err)
		}
		refs[ref] = img
	}
	tmp := out + ".tmp"
	if err := tarball.MultiRefWriteToFile(tmp, refs); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return os.Rename(tmp, out)
}

func build(s imageSpec) (v1.Image, error) {
	if len(s.Layers) == 0 {
		return nil, errors.New("no layers")
	}
	img := empty.Image
	for i, l := range s.Layers {
		layer, err := buildLayer(l)
		if err != nil {
			return nil, fmt.Errorf("layers[%d]: %w", i, err)
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint, cf.Config.Cmd = s.Entrypoint, s.Cmd
	cf.Config.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, s.Env...)
	return mutate.ConfigFile(img, cf)
}

func buildLayer(l layerSpec) (v1.Layer, error) {
	opts := []tarball.LayerOption{tarball.WithCompressionLevel(gzip.BestSpeed)}
	switch {
	case l.Tar != "" && l.Dir == "" && l.Files == nil:
		return tarball.LayerFromFile(l.Tar, opts...)
	case l.Dir != "" && l.Tar == "" && l.Files == nil:
		data, err := tarDir(l.Dir)
		if err != nil {
			return nil, err
		}
		return tarball.LayerFromOpener(opener(data), opts...)
	case len(l.Files) > 0 && l.Tar == "" && l.Dir == "":
		data, err := tarFiles(l.Files)
		if err != nil {
			return nil, err
		}
		return tarball.LayerFromOpener(opener(data), opts...)
	}
	return nil, errors.New("a layer is exactly one of tar, dir or files")
}

func opener(data []byte) tarball.Opener {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
}

// epoch keeps layers reproducible: the same inputs give the same digests.
func epoch() time.Time { return time.Unix(0, 0) }

func tarFiles(files []fileSpec) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, f := range files {
		if !strings.HasPrefix(f.Dst, "/") {
			return nil, fmt.Errorf("dst %q is not absolute", f.Dst)
		}
		dst := strings.TrimPrefix(filepath.Clean(f.Dst), "/")
		if err := writeParents(tw, dst, dirs); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(f.Src)
		if err != nil {
			return nil, err
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		if err := tw.WriteHeader(&tar.Header{Name: dst, Mode: mode, Size: int64(len(data)), ModTime: epoch(), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeParents writes the directory entries of dst's parents once each.
func writeParents(tw *tar.Writer, dst string, seen map[string]bool) error {
	var parents []string
	for d := filepath.Dir(dst); d != "."; d = filepath.Dir(d) {
		parents = append([]string{d}, parents...)
	}
	for _, d := range parents {
		if seen[d+"/"] {
			continue
		}
		seen[d+"/"] = true
		if err := tw.WriteHeader(&tar.Header{Name: d + "/", Mode: 0o755, ModTime: epoch(), Typeflag: tar.TypeDir}); err != nil {
			return err
		}
	}
	return nil
}

func tarDir(root string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		h.Name, h.ModTime, h.Uid, h.Gid, h.Uname, h.Gname = filepath.ToSlash(rel), epoch(), 0, 0, "", ""
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := io.Copy(tw, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
