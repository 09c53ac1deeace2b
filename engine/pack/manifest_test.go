package pack

import (
	"strings"
	"testing"
)

func TestParseManifest(t *testing.T) {
	t.Parallel()
	const head = "apiVersion: ckslab.dev/v1alpha1\nkind: Pack\n"
	tests := []struct {
		name string
		yaml string
		want []string // problems, in order; empty means valid
	}{
		{"valid", head + "name: sample\nversion: 1.0\nauthors: [a, b]\nminCkslabVersion: v0.2.0\n", nil},
		{"every problem at once", head + "name: Bad_Name\nversion: 1\nhomepage: x\n", []string{
			"pack.yaml:3:1: name: pack name \"Bad_Name\" must be a DNS label",
			"pack.yaml:5:1: homepage: unknown field",
		}},
		{"duplicate key", head + "name: a\nversion: 1\nname: b\n", []string{"pack.yaml:5:1: invalid YAML: mapping key \"name\" already defined"}},
		{"missing fields", "apiVersion: ckslab.dev/v1alpha1\nkind: Scenario\n", []string{
			"pack.yaml:1:1: name: is required", "pack.yaml:1:1: version: is required", "pack.yaml:2:1: kind: must be Pack",
		}},
		{"wrong shapes", head + "name: [x]\nversion: 1\nauthors: me\n", []string{
			"pack.yaml:3:1: name: must be a string", "pack.yaml:5:1: authors: must be a list of strings",
		}},
		{"bad min version", head + "name: x\nversion: 1\nminCkslabVersion: soon\n", []string{
			"pack.yaml:5:1: minCkslabVersion: \"soon\" is not a version like v0.4.0",
		}},
		{"syntax error", head + "name: [x\n", []string{"pack.yaml:"}},
		{"two documents", head + "name: x\nversion: 1\n---\nname: y\n", []string{"pack.yaml:1:1: expected exactly one YAML document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, ps := ParseManifest("pack.yaml", []byte(tt.yaml))
			if len(tt.want) == 0 {
				if len(ps) > 0 || m == nil {
					t.Fatalf("problems: %v", ps)
				}
				return
			}
			if m != nil {
				t.Fatalf("got a manifest, want problems %v", tt.want)
			}
			if len(ps) != len(tt.want) {
				t.Fatalf("problems:\n%v\nwant %d", ps, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(ps[i].String(), w) {
					t.Errorf("problem %d = %q, want prefix %q", i, ps[i].String(), w)
				}
			}
		})
	}
}

func TestVersionAtLeast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		have, want string
		ok         bool
	}{
		{"v1.2.3", "v1.2.3", true}, {"v1.10.0", "v1.9.9", true}, {"v1.2.3", "1.3", false},
		{"dev", "v9.0.0", true}, {"v2.0.0-rc.1", "v2.0.0", true}, {"v0.1.0", "v0.2.0", false},
	}
	for _, tt := range tests {
		if got := versionAtLeast(tt.have, tt.want); got != tt.ok {
			t.Errorf("versionAtLeast(%q, %q) = %v, want %v", tt.have, tt.want, got, tt.ok)
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sum := "sha256:" + strings.Repeat("a", 64)
	tests := []struct {
		raw, checksum string
		kind, src     string
		err           string
	}{
		{raw: dir, kind: KindDir, src: dir},
		{raw: "file://" + dir, kind: KindDir, src: dir},
		{raw: "https://example.com/p.tar.gz", kind: KindArchive, src: "https://example.com/p.tar.gz"},
		{raw: "https://example.com/p.zip", checksum: sum, kind: KindArchive, src: "https://example.com/p.zip?checksum=sha256%3A" + strings.Repeat("a", 64)},
		{raw: "https://example.com/dl?archive=tgz", kind: KindArchive, src: "https://example.com/dl?archive=tgz"},
		{raw: "https://example.com/org/pack.git?ref=v1", kind: KindGit, src: "git::https://example.com/org/pack.git?ref=v1"},
		{raw: "git::https://example.com/org/pack", kind: KindGit, src: "git::https://example.com/org/pack"},
		{raw: "github.com/org/pack", kind: KindGit, src: "github.com/org/pack"},
		{raw: "git@github.com:org/pack.git", kind: KindGit, src: "git@github.com:org/pack.git"},
		{raw: "http://example.com/p.tar.gz", err: "plain http"},
		{raw: "http://example.com/p.tar.gz", checksum: sum, kind: KindArchive, src: "http://example.com/p.tar.gz?checksum=sha256%3A" + strings.Repeat("a", 64)},
		{raw: "git::http://example.com/p.git", err: "plain http"},
		{raw: "https://example.com/p.tar.gz?checksum=md5:abc", err: "must be sha256"},
		{raw: "https://example.com/p.tar.gz?checksum=" + sum, checksum: "sha256:" + strings.Repeat("b", 64), err: "pass only one"},
		{raw: "s3::https://s3.amazonaws.com/b/p.zip", err: "not supported"},
		{raw: "hg::https://example.com/p", err: "not supported"},
		{raw: "ftp://example.com/p.zip", err: "not supported"},
		{raw: "https://example.com/", err: "not an archive"},
		{raw: "no-such-dir", err: "cannot tell what"},
		{raw: "", err: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			s, err := classify(tt.raw, tt.checksum, DefaultLimits())
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("classify(%q) = %+v, %v; want error containing %q", tt.raw, s, err, tt.err)
				}
				return
			}
			if err != nil || s.kind != tt.kind || s.getterSrc != tt.src {
				t.Fatalf("classify(%q) = %+v, %v; want %s %s", tt.raw, s, err, tt.kind, tt.src)
			}
		})
	}
}

func TestWithShallowClone(t *testing.T) {
	t.Parallel()
	sha := strings.Repeat("c", 40)
	for in, want := range map[string]string{
		"git::file:///r":            "git::file:///r?depth=1",
		"git::file:///r?ref=main":   "git::file:///r?depth=1&ref=main",
		"git::file:///r?ref=" + sha: "git::file:///r?ref=" + sha,
		"git::file:///r?depth=5":    "git::file:///r?depth=5",
	} {
		if got := withShallowClone(in); got != want {
			t.Errorf("withShallowClone(%q) = %q, want %q", in, got, want)
		}
	}
}
