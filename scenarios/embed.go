// Package scenarios embeds the built-in catalog: one directory per CKS
// domain, one directory per scenario holding scenario.yaml and its files.
package scenarios

import "embed"

// FS holds every built-in scenario.
//
//go:embed all:cluster-setup all:cluster-hardening all:system-hardening all:minimize-microservice-vulnerabilities all:supply-chain-security all:monitoring-logging-runtime-security
var FS embed.FS

// Schema is the JSON Schema of the scenario format, generated from the Go
// types by `go test ./engine/load -run TestSchemaUpToDate -update`.
//
//go:embed scenario.schema.json
var Schema []byte
