package load_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckslab/ckslab/engine/load"
)

// Each invalid fixture holds a distinct mistake; the exact message (with
// file:line:col and field path) is part of the contract with instructors.
func TestLintInvalidExactMessages(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"unknown-field.yaml", []string{`testdata/invalid/unknown-field.yaml:14:5: spec.checks[0].objectiv: unknown field "objectiv" (did you mean "objective"?)`}},
		{"wrong-type.yaml", []string{`testdata/invalid/wrong-type.yaml:10:12: spec.minutes: expected an integer, got a string "ten"`}},
		{"duplicate-check-id.yaml", []string{`testdata/invalid/duplicate-check-id.yaml:18:5: spec.checks[1].id: duplicate check id "same" (also spec.checks[0])`}},
		{"unknown-capability.yaml", []string{`testdata/invalid/unknown-capability.yaml:11:19: spec.requires[1]: unknown capability "gpu"; expected one of: api, control-plane-node, etcd, workloads, netpol, gvisor, apparmor, falco, gatekeeper, psp, host-commands`}},
		{"no-check-type.yaml", []string{`testdata/invalid/no-check-type.yaml:13:5: spec.checks[0]: has no check type; set exactly one of: assert, absent, canI, admission, nodeFile, staticPodFlag, auditLog, etcdValue, rego, dockerfile, connectivity, command, answerFile`}},
		{"two-check-types.yaml", []string{`testdata/invalid/two-check-types.yaml:13:5: spec.checks[0]: has 2 check types (assert, absent); set exactly one`}},
		{"missing-objective.yaml", []string{`testdata/invalid/missing-objective.yaml:13:5: spec.checks[0].objective: is required: the sentence the learner sees for this check`}},
		{"missing-file.yaml", []string{`testdata/invalid/missing-file.yaml:12:13: spec.setup[0].apply.file: file "manifests/nope.yaml" does not exist next to the scenario`}},
		{"bad-cel.yaml", []string{`testdata/invalid/bad-cel.yaml:17:7: spec.checks[0].assert.expr: CEL does not compile: 1:24: Syntax error: mismatched input '<EOF>'`}},
		{"bad-domain.yaml", []string{
			`testdata/invalid/bad-domain.yaml:4:3: metadata.name: "Bad_Name" must be lowercase letters, digits and '-', at most 63 characters`,
			`testdata/invalid/bad-domain.yaml:7:3: spec.domain: "networking" is not a CKS domain; expected one of: cluster-setup, cluster-hardening, system-hardening, minimize-microservice-vulnerabilities, supply-chain-security, monitoring-logging-runtime-security`,
			`testdata/invalid/bad-domain.yaml:9:3: spec.difficulty: must be easy, medium or hard, got "impossible"`,
		}},
		{"bad-regex-and-expect.yaml", []string{
			`testdata/invalid/bad-regex-and-expect.yaml:18:7: spec.checks[0].admission.expect: must be allowed or denied, got "rejected"`,
			"testdata/invalid/bad-regex-and-expect.yaml:19:7: spec.checks[0].admission.messageMatches: invalid regular expression: error parsing regexp: missing closing ): `violates (`",
		}},
		{"syntax-error.yaml", []string{`testdata/invalid/syntax-error.yaml:5:9: invalid YAML: sequence end token ']' not found`}},
		{"no-solution-and-path.yaml", []string{
			`testdata/invalid/no-solution-and-path.yaml:16:7: spec.checks[0].nodeFile.path: must be an absolute path on the node, got "etc/kubernetes/manifests/kube-apiserver.yaml"`,
			`testdata/invalid/no-solution-and-path.yaml:17:3: spec.solution: is required: CI applies it to prove the checks can pass`,
		}},
		{"duplicate-key.yaml", []string{`testdata/invalid/duplicate-key.yaml:7:3: invalid YAML: mapping key "title" already defined at [6:3]`}},
		{"guard-protects.yaml", []string{
			`testdata/invalid/guard-protects.yaml:16:5: spec.checks[0].weight: a guard awards no points: remove weight (a failed guard zeroes what it protects)`,
			`testdata/invalid/guard-protects.yaml:17:24: spec.checks[0].protects[1]: no check has id "nope"; protects names scored checks of this scenario: scored`,
			`testdata/invalid/guard-protects.yaml:17:30: spec.checks[0].protects[2]: "other-guard" is a guard, which awards no points; protects names scored checks: scored`,
			`testdata/invalid/guard-protects.yaml:29:5: spec.checks[2].protects: is only for guards: set guard: true, or remove protects`,
		}},
		{"unknown-competency.yaml", []string{`testdata/invalid/unknown-competency.yaml:8:3: spec.competency: unknown competency "rbac-everything"; the curriculum's competencies of cluster-hardening are: rbac, service-accounts, api-access, upgrade`}},
		{"competency-text.yaml", []string{`testdata/invalid/competency-text.yaml:8:3: spec.competency: name the competency by its id: "rbac" (ids are listed by ` + "`ckslab list --competencies`" + `)`}},
		{"competency-domain.yaml", []string{`testdata/invalid/competency-domain.yaml:8:3: spec.competency: competency "secrets" belongs to domain minimize-microservice-vulnerabilities, not cluster-hardening`}},
		{"operation-mixed.yaml", []string{
			`testdata/invalid/operation-mixed.yaml:18:5: spec.solution[0]: has 2 operations (apply, kubectl); set exactly one per list item`,
			`testdata/invalid/operation-mixed.yaml:21:22: spec.solution[1].node.editManifest.component: must be one of kube-apiserver, etcd, kube-controller-manager, kube-scheduler, got "kube-apiservr"`,
		}},
	}
	root := filepath.Join("..", "..")
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Chdir(root)
			_, ps := load.LintPaths([]string{filepath.Join("testdata", "invalid", tt.file)})
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d:\n got: %s\nwant: %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestEveryInvalidFixtureIsCovered(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "invalid", "*.yaml"))
	if len(files) < 10 {
		t.Fatalf("want at least 10 invalid fixtures, have %d", len(files))
	}
	for _, f := range files {
		if _, ps := load.LintPaths([]string{f}); len(ps) == 0 {
			t.Errorf("%s lints clean but is meant to be invalid", f)
		}
	}
}

func TestValidFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "valid", "*.yaml"))
	for _, f := range files {
		if _, ps := load.LintPaths([]string{f}); len(ps) > 0 {
			t.Errorf("%s: %v", f, ps)
		}
	}
}

// All problems of a file come at once, not the first only.
func TestAllProblemsReported(t *testing.T) {
	data := []byte(`apiVersion: ckslab.dev/v1
kind: Scenari
metadata: {name: x}
spec:
  title: ""
  domain: nope
  difficulty: easy
  minutes: 0
  task: t
  checks: []
  solution: []
`)
	_, ps := load.Parse("x.yaml", data, nil)
	if len(ps) < 7 {
		t.Fatalf("want every problem reported, got %d:\n%v", len(ps), ps)
	}
}

func TestParseSizeLimit(t *testing.T) {
	_, ps := load.Parse("big.yaml", make([]byte, load.MaxScenarioBytes+1), nil)
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "at most") {
		t.Fatalf("got %v", ps)
	}
}
