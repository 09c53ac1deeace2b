package checks

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

type connectivity struct{ spec *v1alpha1.ConnectivityCheck }

// ProbeTimeout is the connect timeout of a connectivity probe, in seconds.
const ProbeTimeout = 3

// maxProbePods bounds the source and destination pods probed per check.
const maxProbePods = 4

// probeTarget is one destination of a connectivity probe.
type probeTarget struct {
	name       string // as shown: ns/pod (ip), host:port or the name resolved
	host, port string
}

func (c connectivity) run(ctx context.Context, env *Env) outcome {
	if env.Cluster == nil || env.Kube == nil {
		return errored("no cluster is running (ckslab start <id>)")
	}
	sources, o := runningPods(ctx, env, c.spec.From.Namespace, c.spec.From.Selector, "", "")
	if o != nil {
		o.msg = "no pod to probe from: " + o.msg
		return *o
	}
	targets, o := c.targets(ctx, env)
	if o != nil {
		return *o
	}
	sources = sources[:min(len(sources), maxProbePods)]
	var wrong, ev []string
	for i := range sources {
		src := &sources[i]
		from := src.Namespace + "/" + src.Name
		for _, t := range targets {
			script := c.script(t)
			pctx, cancel := context.WithTimeout(ctx, ExecTimeout)
			res, err := kubectlExec(pctx, env, src, containerOf(src, ""), []string{"sh", "-c", script})
			cancel()
			if err != nil {
				return errored("exec into %s: %s", from, sentence(err.Error()))
			}
			if res.code == 127 {
				return errored("pod %s has no %s to probe with", from, c.tool())
			}
			if res.code >= 128 && res.code != 143 && res.code != 124 {
				return errored("the probe in pod %s crashed (exit %d): %s", from, res.code, truncate(strings.TrimSpace(res.stderr), 160))
			}
			got := "blocked"
			if res.code == 0 {
				got = "allowed"
			}
			line := fmt.Sprintf("%s -> %s: %s (probe exit %d)", from, t.name, got, res.code)
			if out := strings.TrimSpace(res.stdout + " " + res.stderr); out != "" {
				line += ": " + truncate(out, 160)
			}
			ev = append(ev, line)
			if got != c.spec.Expect {
				wrong = append(wrong, fmt.Sprintf("%s -> %s is %s", from, t.name, got))
			}
		}
	}
	ev = append(ev, "expected: "+c.spec.Expect)
	if len(wrong) > 0 {
		return failed(fmt.Sprintf("%s; expected %s", strings.Join(wrong, "; "), c.spec.Expect), ev...)
	}
	return passed(fmt.Sprintf("%s %s from %d pod(s) to %d target(s) (%s)", c.what(), c.spec.Expect, len(sources), len(targets), targets[0].name), ev...)
}

func (c connectivity) protocol() string {
	if c.spec.Protocol == "" {
		return "TCP"
	}
	return c.spec.Protocol
}

func (c connectivity) what() string {
	if c.spec.DNS != "" {
		return "name resolution"
	}
	return c.protocol() + " connection"
}

func (c connectivity) tool() string {
	if c.spec.DNS != "" {
		return "nslookup or getent"
	}
	return "nc (or wget)"
}

// targets resolves the destinations: the running pods ToPods selects (by
// pod IP), or the one host:port or name.
func (c connectivity) targets(ctx context.Context, env *Env) ([]probeTarget, *outcome) {
	switch {
	case c.spec.DNS != "":
		return []probeTarget{{name: "DNS " + c.spec.DNS, host: c.spec.DNS}}, nil
	case c.spec.ToPods != nil:
		pods, o := runningPods(ctx, env, c.spec.ToPods.Namespace, c.spec.ToPods.Selector, "", "")
		if o != nil {
			o.msg = "no pod to probe: " + o.msg
			return nil, o
		}
		var out []probeTarget
		for _, p := range pods[:min(len(pods), maxProbePods)] {
			if p.Status.PodIP == "" {
				continue
			}
			port := strconv.Itoa(c.spec.Port)
			out = append(out, probeTarget{name: fmt.Sprintf("%s/%s (%s)", p.Namespace, p.Name, net.JoinHostPort(p.Status.PodIP, port)), host: p.Status.PodIP, port: port})
		}
		if len(out) == 0 {
			o := failed(fmt.Sprintf("no pod selected by %s in %s has an IP yet", c.spec.ToPods.Selector, c.spec.ToPods.Namespace))
			return nil, &o
		}
		return out, nil
	}
	host, port, err := net.SplitHostPort(c.spec.To)
	if err != nil {
		o := errored("connectivity target %q must be host:port", c.spec.To)
		return nil, &o
	}
	return []probeTarget{{name: c.spec.To, host: host, port: port}}, nil
}

// script is the probe run in the source pod's first container: exit 0
// when the target answered, 127 when no tool can probe.
func (c connectivity) script(t probeTarget) string {
	h, p := shellQuote(t.host), shellQuote(t.port)
	switch {
	case c.spec.DNS != "":
		// The pod's own resolver (its /etc/resolv.conf, UDP 53 to the
		// cluster DNS), as the application would resolve the name.
		return fmt.Sprintf("if command -v nslookup >/dev/null 2>&1; then timeout %d nslookup %s; elif command -v getent >/dev/null 2>&1; then timeout %d getent hosts %s; else exit 127; fi", ProbeTimeout+2, h, ProbeTimeout+2, h)
	case c.protocol() == "UDP":
		// No handshake: allowed means the target answered the datagram.
		return fmt.Sprintf("%s || exit 127; r=$(echo ckslab | nc -u -w %d %s %s 2>/dev/null); [ -n \"$r\" ] && echo \"$r\" | head -c 200", ncHas("-u"), ProbeTimeout, h, p)
	}
	// nc -z tests the TCP handshake only; bash's /dev/tcp (Debian-based
	// images such as nginx) and wget are the fallbacks. A netcat without
	// -z (Debian's busybox 1.35) is not used: it exits 0 whether or not
	// anything answered.
	return fmt.Sprintf("if %[4]s; then nc -z -w %[1]d %[2]s %[3]s; "+
		"elif command -v bash >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then timeout %[1]d bash -c 'exec 3<>/dev/tcp/'%[2]s/%[3]s; "+
		"elif command -v wget >/dev/null 2>&1; then wget -q -T %[1]d -O /dev/null http://%[2]s:%[3]s/; r=$?; [ $r -eq 8 ] && exit 0; exit $r; else exit 127; fi", ProbeTimeout, h, p, ncHas("-z"))
}

// ncHas is a shell test: nc exists and its usage lists option opt.
func ncHas(opt string) string {
	return fmt.Sprintf("{ command -v nc >/dev/null 2>&1 && nc -h 2>&1 | grep -q -e '%s'; }", opt)
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
