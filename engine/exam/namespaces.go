package exam

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/ckslab/ckslab/engine/load"
)

// SeededNamespaces lists the namespaces a scenario's setup creates or
// applies objects to (default and kube-* aside). Exam tasks share one
// cluster: two tasks that seed the same namespace overwrite each other's
// objects, so an exam never holds both.
func SeededNamespaces(s *load.Scenario) ([]string, error) {
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
				return nil, fmt.Errorf("%s: %w", s.ID, err)
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
				return nil, fmt.Errorf("%s: %s: %w", s.ID, a.File, err)
			}
			ns := obj.Metadata.Namespace
			if obj.Kind == "Namespace" {
				ns = obj.Metadata.Name
			}
			if ns == "" && obj.Kind != "" {
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
	return out, nil
}

// namespaceGuard admits scenarios whose seeded namespaces no admitted
// scenario seeds. A scenario whose manifests cannot be read is admitted:
// its setup then fails with the reason.
type namespaceGuard map[string]bool

func (g namespaceGuard) admit(s *load.Scenario) bool {
	nss, err := SeededNamespaces(s)
	if err != nil {
		return true
	}
	for _, ns := range nss {
		if g[ns] {
			return false
		}
	}
	for _, ns := range nss {
		g[ns] = true
	}
	return true
}
