// Package imageref reads container image references the way a container
// runtime resolves them, so checks judge the registry an image really
// comes from and whether it is pinned, instead of matching substrings.
//
//	nginx                          -> docker.io/library/nginx, no tag (latest)
//	registry.k8s.io/pause:3.10     -> registry registry.k8s.io, tag 3.10
//	localhost:5000/app@sha256:...  -> registry localhost:5000, digest
//	evil.io/registry.k8s.io/pause  -> registry evil.io (not registry.k8s.io)
package imageref

import (
	"regexp"
	"strings"
)

// Ref is a parsed image reference.
type Ref struct {
	// Registry is the host (docker.io when none is written).
	Registry string
	// Repository is the path without registry, tag or digest
	// (library/nginx for an official Docker Hub image).
	Repository string
	Tag        string
	Digest     string
}

// Name is registry/repository, the full image name without tag or digest.
func (r Ref) Name() string { return r.Registry + "/" + r.Repository }

// Parse splits an image reference. It never fails: a malformed reference
// yields the parts it has, and such an image is not Pinned.
func Parse(s string) Ref {
	s = strings.TrimSpace(s)
	var r Ref
	if i := strings.Index(s, "@"); i >= 0 {
		r.Digest = s[i+1:]
		s = s[:i]
	}
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.Contains(s[i+1:], "/") {
		r.Tag = s[i+1:]
		s = s[:i]
	}
	first, rest, found := strings.Cut(s, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		r.Registry, r.Repository = first, rest
	} else {
		r.Registry, r.Repository = "docker.io", s
	}
	if r.Registry == "index.docker.io" || r.Registry == "registry-1.docker.io" {
		r.Registry = "docker.io"
	}
	if r.Registry == "docker.io" && !strings.Contains(r.Repository, "/") {
		r.Repository = "library/" + r.Repository
	}
	return r
}

func digestRE() *regexp.Regexp { return regexp.MustCompile(`^sha256:[a-f0-9]{64}$`) }

// versionRE is a version tag: at least major.minor, with an optional
// variant suffix (1.27, 1.27.3, v1.31.0, 3.19.1-alpine, 1.23-bookworm).
func versionRE() *regexp.Regexp {
	return regexp.MustCompile(`^v?[0-9]+\.[0-9]+(\.[0-9]+)*([-_+.][A-Za-z0-9][A-Za-z0-9._-]*)?$`)
}

// HasDigest reports a well-formed sha256 digest.
func (r Ref) HasDigest() bool { return digestRE().MatchString(r.Digest) }

// VersionTag reports a tag that names a version (at least major.minor):
// not latest, not a bare major ("1"), not a floating name (alpine,
// stable, nonroot, mainline).
func (r Ref) VersionTag() bool { return versionRE().MatchString(r.Tag) }

// Pinned reports a sha256 digest, or a version tag (at least major.minor).
func (r Ref) Pinned() bool { return r.HasDigest() || (r.Digest == "" && r.VersionTag()) }

// Pinned parses s and reports whether it is pinned.
func Pinned(s string) bool { return Parse(s).Pinned() }
