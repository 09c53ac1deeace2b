package imageref

import "testing"

const dg = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in             string
		registry, repo string
		tag, digest    string
	}{
		{"nginx", "docker.io", "library/nginx", "", ""},
		{"nginx:1.27", "docker.io", "library/nginx", "1.27", ""},
		{"bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", ""},
		{"docker.io/nginx", "docker.io", "library/nginx", "", ""},
		{"index.docker.io/library/nginx:1", "docker.io", "library/nginx", "1", ""},
		{"registry.k8s.io/pause:3.10", "registry.k8s.io", "pause", "3.10", ""},
		{"localhost:5000/app@" + dg, "localhost:5000", "app", "", dg},
		{"localhost/app:v1.0", "localhost", "app", "v1.0", ""},
		{"gcr.io/distroless/static-debian12:nonroot", "gcr.io", "distroless/static-debian12", "nonroot", ""},
		{"evil.io/registry.k8s.io/pause:3.10", "evil.io", "registry.k8s.io/pause", "3.10", ""},
		{"registry.k8s.io.evil.io/pause", "registry.k8s.io.evil.io", "pause", "", ""},
		{"myregistry:5000/team/app:2.1.0@" + dg, "myregistry:5000", "team/app", "2.1.0", dg},
	} {
		r := Parse(tt.in)
		if r.Registry != tt.registry || r.Repository != tt.repo || r.Tag != tt.tag || r.Digest != tt.digest {
			t.Errorf("Parse(%q) = %+v, want %s %s %s %s", tt.in, r, tt.registry, tt.repo, tt.tag, tt.digest)
		}
	}
}

func TestPinned(t *testing.T) {
	for in, want := range map[string]bool{
		"nginx@" + dg:                            true,
		"nginx:1.27@" + dg:                       true,
		"nginx:1.27.3":                           true,
		"nginx:1.27":                             true,
		"golang:1.23":                            true,
		"golang:1.23-alpine":                     true,
		"alpine:3.21":                            true,
		"registry.k8s.io/kube-apiserver:v1.37.2": true,
		"python:3.12.1-slim-bookworm":            true,
		"nginx":                                  false,
		"nginx:latest":                           false,
		"nginx:1":                                false,
		"nginx:stable":                           false,
		"nginx:mainline-alpine":                  false,
		"golang:alpine":                          false,
		"gcr.io/distroless/static-debian12:nonroot": false,
		"nginx@sha256:abc":                          false,
		"nginx:latest@sha256:short":                 false,
		"localhost:5000/app":                        false,
	} {
		if got := Pinned(in); got != want {
			t.Errorf("Pinned(%q) = %v, want %v", in, got, want)
		}
	}
}
