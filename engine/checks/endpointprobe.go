package checks

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/staticpod"
)

// endpointProbe judges the effect of a component's flags by asking the
// component itself: an HTTPS GET on its own port.
type endpointProbe struct {
	spec *v1alpha1.EndpointProbeCheck
}

// defaultSecurePorts are the kubeadm components' default --secure-port.
func defaultSecurePort(component string) string {
	switch component {
	case "kube-controller-manager":
		return "10257"
	case "kube-scheduler":
		return "10259"
	}
	return "6443"
}

func newEndpointProbe(s *v1alpha1.EndpointProbeCheck) (impl, error) {
	switch s.Component {
	case "kube-apiserver", "kube-controller-manager", "kube-scheduler":
	default:
		return nil, fmt.Errorf("endpointProbe component must be kube-apiserver, kube-controller-manager or kube-scheduler, got %q", s.Component)
	}
	if !strings.HasPrefix(s.Path, "/") {
		return nil, fmt.Errorf("endpointProbe path must start with /, got %q", s.Path)
	}
	if (len(s.ExpectStatus) == 0) == (len(s.RejectStatus) == 0) {
		return nil, fmt.Errorf("endpointProbe needs exactly one of expectStatus or rejectStatus")
	}
	return endpointProbe{s}, nil
}

func (p endpointProbe) run(ctx context.Context, env *Env) outcome {
	if env.Kube == nil || env.Cluster == nil {
		return errored("no cluster is running (ckslab start <id>)")
	}
	cfg := rest.CopyConfig(env.Kube.Config)
	base := strings.TrimSuffix(cfg.Host, "/")
	who := "the lab admin"
	if p.spec.Anonymous {
		who = "an anonymous client"
	}
	var inNode cluster.Node
	if p.spec.Component != "kube-apiserver" {
		// The controller-manager and scheduler listen on the node only:
		// when the node is this host (Facts.NodeIsHost) that is here; elsewhere (kind) the
		// request is made inside the control-plane node.
		if env.Cluster.Components == nil {
			return skipped(fmt.Sprintf("probing %s's own port needs a backend that can inspect control-plane components (it listens on the node only)", p.spec.Component))
		}
		if !env.Cluster.NodeIsHost() {
			n, err := env.Cluster.Node("")
			if err != nil {
				return skipped(fmt.Sprintf("probing %s's own port needs its control-plane node: %v", p.spec.Component, err))
			}
			inNode = n
		}
		st, err := env.Cluster.Components.Component(ctx, p.spec.Component)
		if err != nil {
			return errored("inspect %s: %v", p.spec.Component, err)
		}
		if !st.Running {
			return failed(fmt.Sprintf("%s is not running, so its endpoint cannot be judged (check its logs)", p.spec.Component))
		}
		flags := staticpod.ParseCommand(st.Args)
		port, ok := flags.Value("secure-port")
		if !ok {
			port = defaultSecurePort(p.spec.Component)
		}
		if port == "0" {
			return failed(fmt.Sprintf("%s serves nothing over HTTPS (--secure-port=0)", p.spec.Component))
		}
		host := "127.0.0.1"
		if a, ok := flags.Value("bind-address"); ok && a != "" && a != "0.0.0.0" && a != "::" {
			host = a
		}
		base = "https://" + net.JoinHostPort(host, port)
		cfg.Host = base
		// A self-signed serving certificate (kubeadm): trust it like a
		// kubelet probe does; the client credentials still apply.
		cfg.Insecure = true
		cfg.CAData, cfg.CAFile, cfg.ServerName = nil, "", ""
	}
	u, err := url.Parse(base + p.spec.Path)
	if err != nil {
		return errored("endpoint URL %s%s: %v", base, p.spec.Path, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var got int
	var status string
	var body []byte
	if inNode != nil {
		got, body, err = nodeGet(ctx, inNode, u.String(), p.spec.Anonymous)
		if err != nil {
			return errored("GET %s as %s in node %s: %s", u, who, inNode.Name(), sentence(err.Error()))
		}
		status = fmt.Sprintf("%d %s", got, http.StatusText(got))
	} else {
		if p.spec.Anonymous {
			cfg = rest.AnonymousClientConfig(cfg)
		}
		rt, err := rest.TransportFor(cfg)
		if err != nil {
			return errored("build a client for %s: %v", base, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), http.NoBody)
		if err != nil {
			return errored("request %s: %v", u, err)
		}
		resp, err := (&http.Client{Transport: rt}).Do(req)
		if err != nil {
			// No answer is not an answer: a component that is down neither
			// serves nor refuses the endpoint.
			return errored("GET %s as %s: %s", u, who, sentence(err.Error()))
		}
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 300))
		resp.Body.Close()
		got, status = resp.StatusCode, resp.Status
	}
	ev := []string{fmt.Sprintf("found: GET %s as %s -> %s", u.Path, who, status)}
	if s := strings.TrimSpace(string(body)); s != "" {
		ev = append(ev, "body: "+truncate(strings.Join(strings.Fields(s), " "), 160))
	}
	if len(p.spec.ExpectStatus) > 0 {
		ev = append(ev, "expected: status "+joinInts(p.spec.ExpectStatus))
		if containsInt(p.spec.ExpectStatus, got) {
			return passed(fmt.Sprintf("%s answers %s on %s with %d, as expected", p.spec.Component, who, p.spec.Path, got), ev...)
		}
		return failed(fmt.Sprintf("%s answers %s on %s with %s; expected %s", p.spec.Component, who, p.spec.Path, status, joinInts(p.spec.ExpectStatus)), ev...)
	}
	ev = append(ev, "expected: any status but "+joinInts(p.spec.RejectStatus))
	if containsInt(p.spec.RejectStatus, got) {
		return failed(fmt.Sprintf("%s still answers %s on %s with %s", p.spec.Component, who, p.spec.Path, status), ev...)
	}
	return passed(fmt.Sprintf("%s answers %s on %s with %d", p.spec.Component, who, p.spec.Path, got), ev...)
}

// nodeGetScript runs in the control-plane node: GET $2 with curl (the
// serving certificate is kubeadm's self-signed one), as the lab admin of
// /etc/kubernetes/admin.conf unless $1 is "anonymous"; prints the status
// code on the first line, then up to 300 bytes of the body.
const nodeGetScript = `set -eu
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
if [ "$1" = admin ]; then
  kc=/etc/kubernetes/admin.conf
  kubectl --kubeconfig=$kc config view --raw --minify -o 'jsonpath={.users[0].user.client-certificate-data}' | base64 -d >"$d/crt"
  kubectl --kubeconfig=$kc config view --raw --minify -o 'jsonpath={.users[0].user.client-key-data}' | base64 -d >"$d/key"
  [ -s "$d/crt" ] && [ -s "$d/key" ] || { echo "no client certificate in $kc"; exit 3; }
  code=$(curl -sk --max-time 10 --cert "$d/crt" --key "$d/key" -o "$d/body" -w '%{http_code}' "$2") || { echo "curl $2 failed (exit $?)"; exit 4; }
else
  code=$(curl -sk --max-time 10 -o "$d/body" -w '%{http_code}' "$2") || { echo "curl $2 failed (exit $?)"; exit 4; }
fi
echo "$code"; head -c 300 "$d/body"`

// nodeGet makes the request inside node n and returns the HTTP status and
// the start of the body; no answer (refused, timed out) is an error.
func nodeGet(ctx context.Context, n cluster.Node, u string, anonymous bool) (int, []byte, error) {
	who := "admin"
	if anonymous {
		who = "anonymous"
	}
	out, err := n.Exec(ctx, nil, "sh", "-c", nodeGetScript, "sh", who, u)
	if err != nil {
		return 0, nil, err
	}
	first, rest, _ := strings.Cut(string(out), "\n")
	code, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || code < 100 || code > 599 {
		return 0, nil, fmt.Errorf("no HTTP status from curl in the node: %q", truncate(string(out), 160))
	}
	return code, []byte(rest), nil
}

func containsInt(l []int, v int) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

func joinInts(l []int) string {
	s := make([]string, len(l))
	for i, v := range l {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, " or ")
}
