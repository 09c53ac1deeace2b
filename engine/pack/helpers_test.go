package pack

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ckslab/ckslab/engine/load"
)

const fixture = "../../testdata/packs/valid"

// copyFixture copies the valid sample pack into a fresh directory.
func copyFixture(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "pack")
	if err := copyDir(context.Background(), fixture, dst, DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	return dst
}

func writeFile(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const scenarioRel = "minimize-microservice-vulnerabilities/psp-01/scenario.yaml"

// run runs a command in dir and fails the test on error.
func run(t *testing.T, dir string, argv ...string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", argv, err, out)
	}
	return strings.TrimSpace(string(out))
}

// gitRepo turns dir into a git repository with one commit and returns
// its go-getter source and the commit.
func gitRepo(t *testing.T, dir string) (string, string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	run(t, dir, "git", "init", "-q", "-b", "main")
	return "git::file://" + dir, gitCommit(t, dir, "initial")
}

func gitCommit(t *testing.T, dir, msg string) string {
	t.Helper()
	run(t, dir, "git", "add", "-A")
	run(t, dir, "git", "commit", "-q", "-m", msg)
	return run(t, dir, "git", "rev-parse", "HEAD")
}

// entry is one archive member.
type entry struct {
	name     string
	body     string
	typeflag byte
	link     string
}

// treeEntries lists a directory as archive entries.
func treeEntries(t *testing.T, root, prefix string) []entry {
	t.Helper()
	var out []entry
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, entry{name: prefix + filepath.ToSlash(rel), body: readFile(t, p)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tarGz(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg, Linkname: e.link}
		if e.typeflag != 0 {
			h.Typeflag = e.typeflag
			if e.typeflag != tar.TypeReg {
				h.Size = 0
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipBytes(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(0o644)
		body := e.body
		if e.typeflag == tar.TypeSymlink {
			h.SetMode(fs.ModeSymlink | 0o777)
			body = e.link
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// serve serves files on loopback and returns the base URL.
func serve(t *testing.T, files map[string][]byte) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// snapshot records every path under root with its type and content, so a
// refusal can be proven to have changed nothing.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out[rel] = "link:" + l
		case info.IsDir():
			out[rel] = "dir " + info.Mode().String()
		default:
			out[rel] = info.Mode().String() + " " + readFile(t, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// catalogIDs is the catalog a learner would see: a built-in-like source
// holding psp-01 (the fixture) plus every installed pack.
func catalogIDs(t *testing.T, m *Manager) []string {
	t.Helper()
	srcs, err := m.Sources()
	if err != nil {
		t.Fatal(err)
	}
	builtin := load.Source{Name: "builtin", Kind: "builtin", FS: os.DirFS(fixture), Trusted: true}
	c, ps := load.NewCatalog(append([]load.Source{builtin}, srcs...)...)
	if len(ps) > 0 {
		t.Fatalf("catalog problems: %v", ps)
	}
	var ids []string
	for _, s := range c.All() {
		if strings.HasPrefix(s.Source, "pack:") {
			ids = append(ids, s.ID+" ("+s.Source+")")
		}
	}
	sort.Strings(ids)
	return ids
}

func assertUntouched(t *testing.T, m *Manager, before map[string]string, ids []string) {
	t.Helper()
	if diff := cmp.Diff(before, snapshot(t, m.StateRoot)); diff != "" {
		t.Errorf("state changed after a refusal (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(ids, catalogIDs(t, m)); diff != "" {
		t.Errorf("catalog changed after a refusal (-before +after):\n%s", diff)
	}
}

func yes(context.Context, Summary) (string, error) { return "--yes", nil }
