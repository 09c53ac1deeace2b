package checks

import (
	"testing"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

// TestDockerfilePinnedBase: issue 14 class 5. "pinned" used to accept any
// tag but latest, so the floating tags below passed.
func TestDockerfilePinnedBase(t *testing.T) {
	im, err := newDockerfile(&v1alpha1.DockerfileCheck{Path: "/Dockerfile", Rules: []string{"pinnedBase"}})
	if err != nil {
		t.Fatal(err)
	}
	d := im.(*dockerfile)
	for df, want := range map[string]Status{
		"FROM golang:1.23 AS build\nRUN true\nFROM alpine:3.21\nCOPY --from=build /a /a\n":                         Pass,
		"FROM golang:1.23.4-alpine AS build\nFROM gcr.io/distroless/static-debian12@sha256:" + sixtyFourHex + "\n": Pass,
		"FROM golang:1.23 AS build\nFROM build\n":                                                                  Pass, // a stage is not an external image
		"FROM golang:alpine AS build\nFROM alpine:3.21\n":                                                          Fail,
		"FROM golang:1.23 AS build\nFROM gcr.io/distroless/static-debian12:nonroot\n":                              Fail,
		"FROM nginx:stable\n": Fail,
		"FROM nginx:1\n":      Fail,
		"FROM nginx\n":        Fail,
		"FROM nginx:latest\n": Fail,
	} {
		if got := d.evaluate([]byte(df)); got.status != want {
			t.Errorf("%q: %s (%s), want %s", df, got.status, got.msg, want)
		}
	}
}

const sixtyFourHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
