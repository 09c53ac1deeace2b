package main

import "runtime/debug"

// kubernetesVersion is the Kubernetes release labs target (local backend
// binaries and client-go).
const kubernetesVersion = "v1.37.2"

// buildVersion is set with -ldflags "-X main.buildVersion=...".
var buildVersion = ""

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}
