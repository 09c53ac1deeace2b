package v1alpha1

import (
	"fmt"
	"net"

	"k8s.io/apimachinery/pkg/labels"
)

// Check types that judge behaviour: what a running container really does
// (podExec), which runtime handler really runs it (runtimeHandler), which
// connection really goes through (connectivity). They need pods that run
// (capability workloads); where the backend lacks what a check needs the
// check is skipped with the reason ("not judged here"), never passed.

// PodExecCheck runs a command in a container of every running pod it
// selects and judges the exit status and output of each: e.g. a write to
// / fails with "Read-only file system", /proc/1/status shows "Seccomp:\t2",
// `id -u` is not 0, `dmesg` shows gVisor. No running pod selected fails.
type PodExecCheck struct {
	// Namespace of the pods.
	Namespace string `json:"namespace"`
	// Selector is a label selector in kubectl syntax (app=web); every
	// running pod it selects must match. Set Selector or Name.
	Selector string `json:"selector,omitempty"`
	// Name of one pod, instead of Selector.
	Name string `json:"name,omitempty"`
	// Container to run in (default: the pod's first container).
	Container string `json:"container,omitempty"`
	// Command is the argv run in the container (no shell unless you ask
	// for one: [sh, -c, "..."]).
	Command []string `json:"command"`
	// ExitCode is the exit status the command must have (default 0 unless
	// ExitNonZero is set).
	ExitCode *int `json:"exitCode,omitempty" jsonschema:"minimum=0,maximum=255"`
	// ExitNonZero: the command must fail (any status but 0), e.g. a write
	// that a read-only root filesystem refuses.
	ExitNonZero bool `json:"exitNonZero,omitempty"`
	// StdoutMatches is an RE2 search the command's stdout must match.
	StdoutMatches string `json:"stdoutMatches,omitempty"`
	// StdoutNotMatches is an RE2 search stdout must not match.
	StdoutNotMatches string `json:"stdoutNotMatches,omitempty"`
	// StderrMatches is an RE2 search the command's stderr must match.
	StderrMatches string `json:"stderrMatches,omitempty"`
}

// RuntimeHandlerCheck reads, on the node of every running pod it selects,
// the runtime handler the container runtime really started the pod's
// sandbox with (crictl inspectp), e.g. runsc for gVisor.
type RuntimeHandlerCheck struct {
	// Namespace of the pods.
	Namespace string `json:"namespace"`
	// Selector is a label selector in kubectl syntax; every running pod it
	// selects must run under Handler. Set Selector or Name.
	Selector string `json:"selector,omitempty"`
	// Name of one pod, instead of Selector.
	Name string `json:"name,omitempty"`
	// Handler is the CRI runtime handler expected, e.g. runsc.
	Handler string `json:"handler"`
}

// PodSelector selects pods: every running pod of Namespace matching Selector.
type PodSelector struct {
	// Namespace of the pods.
	Namespace string `json:"namespace"`
	// Selector is a label selector in kubectl syntax, e.g. app=db; empty
	// selects every pod of the namespace.
	Selector string `json:"selector,omitempty"`
}

// validateBehaviourCheck validates the check types of this file.
func validateBehaviourCheck(e *errs, p string, c *Check) {
	switch {
	case c.PodExec != nil:
		x := c.PodExec
		validatePodChoice(e, p, x.Namespace, x.Selector, x.Name)
		if len(x.Command) == 0 {
			e.add(p+".command", "is required: the argv to run in the container")
		}
		if x.ExitCode != nil && x.ExitNonZero {
			e.add(p, "set exitCode or exitNonZero, not both")
		}
		if x.ExitCode != nil && (*x.ExitCode < 0 || *x.ExitCode > 255) {
			e.add(p+".exitCode", "must be 0-255, got %d", *x.ExitCode)
		}
		validateRegexp(e, p+".stdoutMatches", x.StdoutMatches)
		validateRegexp(e, p+".stdoutNotMatches", x.StdoutNotMatches)
		validateRegexp(e, p+".stderrMatches", x.StderrMatches)
	case c.RuntimeHandler != nil:
		x := c.RuntimeHandler
		validatePodChoice(e, p, x.Namespace, x.Selector, x.Name)
		if x.Handler == "" {
			e.add(p+".handler", "is required, e.g. runsc")
		}
	case c.Connectivity != nil:
		cc := c.Connectivity
		if cc.From.Namespace == "" || cc.From.Selector == "" {
			e.add(p+".from", "namespace and selector are required")
		} else if _, err := labels.Parse(cc.From.Selector); err != nil {
			e.add(p+".from.selector", "is not a label selector: %v", err)
		}
		targets := 0
		for _, t := range []bool{cc.To != "", cc.ToPods != nil, cc.DNS != ""} {
			if t {
				targets++
			}
		}
		if targets != 1 {
			e.add(p, "set exactly one of to (host:port), toPods (with port) or dns (a name to resolve)")
		}
		switch {
		case cc.To != "":
			if _, port, err := net.SplitHostPort(cc.To); err != nil || !validPort(port) {
				e.add(p+".to", "must be host:port, got %q", cc.To)
			}
			if cc.Port != 0 {
				e.add(p+".port", "goes with toPods; to carries its own port")
			}
		case cc.ToPods != nil:
			if cc.ToPods.Namespace == "" {
				e.add(p+".toPods.namespace", "is required")
			}
			if _, err := labels.Parse(cc.ToPods.Selector); err != nil {
				e.add(p+".toPods.selector", "is not a label selector: %v", err)
			}
			if cc.Port < 1 || cc.Port > 65535 {
				e.add(p+".port", "is required with toPods (1-65535)")
			}
		case cc.DNS != "":
			if cc.Port != 0 || cc.Protocol != "" {
				e.add(p, "dns resolves through the pod's resolver (UDP 53): set no port or protocol")
			}
		}
		validateExpect(e, p+".protocol", cc.Protocol, "", "TCP", "UDP")
		validateExpect(e, p+".expect", cc.Expect, "allowed", "blocked")
	}
}

func validPort(s string) bool {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || fmt.Sprint(n) != s {
		return false
	}
	return n >= 1 && n <= 65535
}

func validatePodChoice(e *errs, p, ns, selector, name string) {
	if ns == "" {
		e.add(p+".namespace", "is required")
	}
	switch {
	case selector == "" && name == "":
		e.add(p, "set selector or name: the pods to judge")
	case selector != "" && name != "":
		e.add(p, "set selector or name, not both")
	case selector != "":
		if _, err := labels.Parse(selector); err != nil {
			e.add(p+".selector", "is not a label selector: %v", err)
		}
	}
}

// validateCheckRequires validates a check's own capability requirements.
func validateCheckRequires(e *errs, p string, c *Check) {
	for i, r := range c.Requires {
		if !validCapability(r) {
			e.add(fmt.Sprintf("%s.requires[%d]", p, i), "unknown capability %q; expected one of %s", r, capabilityList())
		}
	}
	if c.Guard && needsWorkloads(c) {
		e.add(p+".guard", "a behaviour check cannot be a guard: where the backend cannot judge it, it would break the guard and cancel every point it protects")
	}
}

func needsWorkloads(c *Check) bool {
	return c.PodExec != nil || c.RuntimeHandler != nil || c.Connectivity != nil || len(c.Requires) > 0
}

// ImpliedRequires is what a check needs from the backend because of its
// type, besides Requires.
func (c *Check) ImpliedRequires() []Capability {
	switch {
	case c.PodExec != nil, c.RuntimeHandler != nil:
		return []Capability{CapWorkloads}
	case c.Connectivity != nil:
		return []Capability{CapWorkloads, CapNetpol}
	}
	return nil
}
