// Package exams embeds the curated mock exams (ckslab exam --mock N): one
// YAML file per exam, mock-<N>.yaml, read by engine/exam.
package exams

import "embed"

// FS holds mock-*.yaml.
//
//go:embed *.yaml
var FS embed.FS
