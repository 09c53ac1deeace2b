package exam_test

import (
	"bytes"
	"errors"
	"io"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/ckslab/ckslab/engine/exam"
	"github.com/ckslab/ckslab/engine/load"
	"github.com/ckslab/ckslab/scenarios/exams"
)

// seededNamespaces lists the namespaces a scenario's setup applies objects
// to or creates (built-in namespaces aside).
func seededNamespaces(t *testing.T, s *load.Scenario) []string {
	t.Helper()
	set := map[string]bool{}
	for _, op := range s.Spec.Setup {
		a := op.Apply
		if a == nil {
			continue
		}
		data := []byte(a.Manifest)
		if a.File != "" {
			b, err := s.ReadFile(a.File)
			if err != nil {
				t.Fatalf("%s: %v", s.ID, err)
			}
			data = b
		}
		dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var obj struct {
				Kind     string
				Metadata struct{ Name, Namespace string }
			}
			if err := dec.Decode(&obj); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatalf("%s: %s: %v", s.ID, a.File, err)
			}
			ns := obj.Metadata.Namespace
			if obj.Kind == "Namespace" {
				ns = obj.Metadata.Name
			}
			if ns == "" && a.Namespace != "" && obj.Kind != "" {
				ns = a.Namespace
			}
			if ns != "" && ns != "default" && !strings.HasPrefix(ns, "kube-") {
				set[ns] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// A mock exam's tasks share one cluster: two tasks that seed the same
// namespace overwrite each other (metadata-01 relabelled secctx-01's
// payments namespace, so secctx-01's guard broke in an untouched mock 2).
func TestMockTasksShareNoNamespace(t *testing.T) {
	mocks, err := exam.LoadMocks(exams.FS)
	if err != nil {
		t.Fatal(err)
	}
	cat := builtin(t)
	for _, m := range mocks {
		owner := map[string]string{}
		for _, task := range m.Tasks {
			s, err := cat.Get(task.Scenario)
			if err != nil {
				continue // a planned slot
			}
			for _, ns := range seededNamespaces(t, s) {
				if other, ok := owner[ns]; ok {
					t.Errorf("%s: %s and %s both seed namespace %s", m.Name, other, s.ID, ns)
					continue
				}
				owner[ns] = s.ID
			}
		}
		if len(owner) == 0 {
			t.Errorf("%s: no namespace found in any task's setup: the test reads nothing", m.Name)
		}
	}
}
