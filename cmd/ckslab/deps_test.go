package main

import (
	"os/exec"
	"strings"
	"testing"
)

// Go runs the initialisation of every package linked into the binary before
// main, whatever the verb, so a heavy dependency costs every command
// (`ckslab version` included), not only the one that uses it. These were
// measured with GODEBUG=inittrace=1 (issue 19) and replaced; this guard keeps
// them out.
func TestBinaryDoesNotLinkHeavyInitPackages(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: cannot list the binary's packages")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := map[string]string{
		"github.com/alecthomas/chroma/v2":                             "chroma parses every lexer and style at init (~40% of start-up CPU); glamour links it",
		"github.com/charmbracelet/glamour":                            "links chroma; ui renders markdown with goldmark",
		"github.com/hashicorp/go-getter":                              "go-getter v1 links the S3 and GCS clients (AWS SDK, grpc xds, envoy); use go-getter/v2",
		"cloud.google.com/go/storage":                                 "GCS client: grpc xds and envoy inits",
		"github.com/aws/aws-sdk-go-v2/aws":                            "AWS SDK inits",
		"github.com/envoyproxy/go-control-plane/envoy/config/core/v3": "envoy protobuf registrations",
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 100 {
		t.Fatalf("go list -deps listed only %d packages: %q", len(pkgs), out)
	}
	for _, p := range pkgs {
		for f, why := range forbidden {
			if (p == f || strings.HasPrefix(p, f+"/")) && !strings.HasPrefix(p, "github.com/hashicorp/go-getter/v2") {
				t.Errorf("cmd/ckslab links %s: %s", p, why)
			}
		}
	}
}
