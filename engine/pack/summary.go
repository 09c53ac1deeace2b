package pack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/load"
)

// Action is one thing a pack's scenario does outside the Kubernetes API.
type Action struct {
	Scenario string `json:"scenario"`
	// Where is the field path, e.g. spec.setup[2].node.exec.
	Where string `json:"where"`
	// Node is the target node ("" means the control-plane node).
	Node   string `json:"node,omitempty"`
	Detail string `json:"detail"`
}

// Summary is what a pack will do to the learner's lab and machine, shown
// once before it is installed and acknowledged in the lock file.
type Summary struct {
	Pack      string   `json:"pack"`
	Version   string   `json:"version"`
	Scenarios []string `json:"scenarios"`
	// NodeExec are commands run on cluster nodes (operations and command checks).
	NodeExec []Action `json:"nodeExec"`
	// NodeWrites are files written, removed or edited on nodes.
	NodeWrites []Action `json:"nodeWrites"`
	// Addons are cluster add-ons installed on demand.
	Addons []string `json:"addons"`
	// NodeImages are non-default kind node images.
	NodeImages []string `json:"nodeImages"`
	// Capabilities is every capability the scenarios require.
	Capabilities []string `json:"capabilities"`
	// HostCommands lists scenarios that require the host-commands
	// capability: they want to run commands on the learner's own machine.
	HostCommands []string `json:"hostCommands"`
}

// summarize lists what the scenarios do beyond the lab cluster's API.
func summarize(m *Manifest, name string, scenarios []*load.Scenario) Summary {
	s := Summary{Pack: name, Version: m.Version, Scenarios: []string{}, NodeExec: []Action{}, NodeWrites: []Action{},
		Addons: []string{}, NodeImages: []string{}, Capabilities: []string{}, HostCommands: []string{}}
	addons, images, caps := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, sc := range scenarios {
		id := sc.Metadata.Name
		s.Scenarios = append(s.Scenarios, id)
		for _, c := range sc.Spec.Requires {
			caps[string(c)] = true
			if c == v1alpha1.CapHostCommands {
				s.HostCommands = append(s.HostCommands, id)
			}
		}
		if cv := sc.Spec.Cluster; cv != nil {
			for _, a := range cv.Addons {
				addons[a] = true
			}
			if cv.NodeImage != "" {
				images[cv.NodeImage] = true
			}
		}
		for _, list := range []struct {
			name string
			ops  []v1alpha1.Operation
		}{{"spec.setup", sc.Spec.Setup}, {"spec.solution", sc.Spec.Solution}, {"spec.cleanup", sc.Spec.Cleanup}} {
			for i, op := range list.ops {
				n := op.Node
				if n == nil {
					continue
				}
				where := fmt.Sprintf("%s[%d].node", list.name, i)
				switch {
				case n.Exec != nil:
					s.NodeExec = append(s.NodeExec, Action{Scenario: id, Where: where + ".exec", Node: n.Name, Detail: quoteArgv(n.Exec.Command)})
				case n.WriteFile != nil:
					d := "write " + n.WriteFile.Path
					if n.WriteFile.Mode != "" {
						d += " (mode " + n.WriteFile.Mode + ")"
					}
					s.NodeWrites = append(s.NodeWrites, Action{Scenario: id, Where: where + ".writeFile", Node: n.Name, Detail: d})
				case n.Remove != "":
					s.NodeWrites = append(s.NodeWrites, Action{Scenario: id, Where: where + ".remove", Node: n.Name, Detail: "remove " + n.Remove})
				case n.EditManifest != nil:
					d := "edit static pod manifest " + n.EditManifest.Component
					for _, v := range n.EditManifest.AddHostPathVolumes {
						d += fmt.Sprintf("; mount host path %s", v.Path)
					}
					s.NodeWrites = append(s.NodeWrites, Action{Scenario: id, Where: where + ".editManifest", Node: n.Name, Detail: d})
				}
			}
		}
		for i, c := range sc.Spec.Checks {
			if c.Command != nil {
				s.NodeExec = append(s.NodeExec, Action{Scenario: id, Where: fmt.Sprintf("spec.checks[%d].command", i), Node: c.Command.Node, Detail: quoteArgv(c.Command.Command)})
			}
		}
	}
	s.Addons, s.NodeImages, s.Capabilities = sortedKeys(addons), sortedKeys(images), sortedKeys(caps)
	return s
}

// quoteArgv shows a command the way a shell user would read it.
func quoteArgv(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`;&|<>*?()[]{}") {
			a = strconv.Quote(a)
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Digest identifies what the learner acknowledged: the actions, add-ons,
// images and capabilities, not the version or the scenario list, so an
// update that only fixes typos does not ask again.
func (s Summary) Digest() string {
	t := s
	t.Pack, t.Version, t.Scenarios = "", "", nil
	b, _ := json.Marshal(t)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Render writes the summary for a person deciding whether to install.
func (s Summary) Render(w io.Writer) {
	fmt.Fprintf(w, "Pack %s %s adds %d scenario(s): %s\n", s.Pack, s.Version, len(s.Scenarios), strings.Join(s.Scenarios, ", "))
	fmt.Fprintf(w, "Pack scenarios are untrusted: they act on the lab cluster only, never run commands on this machine.\n")
	section := func(title string, acts []Action) {
		if len(acts) == 0 {
			fmt.Fprintf(w, "%s: none\n", title)
			return
		}
		fmt.Fprintf(w, "%s (%d):\n", title, len(acts))
		for _, a := range acts {
			node := a.Node
			if node == "" {
				node = "control-plane"
			}
			fmt.Fprintf(w, "  - %s on %s: %s  [%s]\n", a.Scenario, node, a.Detail, a.Where)
		}
	}
	section("Commands run on cluster nodes", s.NodeExec)
	section("Files written or changed on cluster nodes", s.NodeWrites)
	list := func(title string, items []string) {
		if len(items) == 0 {
			fmt.Fprintf(w, "%s: none\n", title)
			return
		}
		fmt.Fprintf(w, "%s: %s\n", title, strings.Join(items, ", "))
	}
	list("Add-ons installed in the cluster", s.Addons)
	list("Custom node images", s.NodeImages)
	list("Capabilities required", s.Capabilities)
	if len(s.HostCommands) > 0 {
		fmt.Fprintf(w, "WARNING: %s require the host-commands capability (commands on this machine); ckslab will not run them for a pack.\n", strings.Join(s.HostCommands, ", "))
	} else {
		fmt.Fprintf(w, "Host commands: none\n")
	}
}
