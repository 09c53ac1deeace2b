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

// SeededFlags lists the control-plane flags a scenario's setup sets or
// removes, as component/flag (kube-apiserver/audit-policy-file): two exam
// tasks that both seed a flag undo each other's misconfiguration.
func SeededFlags(s *load.Scenario) []string {
	set := map[string]bool{}
	for _, op := range s.Spec.Setup {
		if op.Node == nil || op.Node.EditManifest == nil {
			continue
		}
		em := op.Node.EditManifest
		for f := range em.SetFlags {
			set[em.Component+"/"+f] = true
		}
		for _, f := range em.RemoveFlags {
			set[em.Component+"/"+f] = true
		}
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// seedGuard admits scenarios that seed no namespace and no control-plane
// flag an admitted scenario seeds. A scenario whose manifests cannot be
// read is admitted: its setup then fails with the reason.
type seedGuard map[string]bool

func (g seedGuard) admit(s *load.Scenario) bool {
	nss, err := SeededNamespaces(s)
	if err != nil {
		return true
	}
	keys := make([]string, 0, len(nss))
	for _, ns := range nss {
		keys = append(keys, "namespace "+ns)
	}
	for _, f := range SeededFlags(s) {
		keys = append(keys, "flag "+f)
	}
	for _, k := range keys {
		if g[k] {
			return false
		}
	}
	for _, k := range keys {
		g[k] = true
	}
	return true
}
