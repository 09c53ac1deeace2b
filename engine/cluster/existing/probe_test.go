package existing

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	utilexec "k8s.io/client-go/util/exec"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
)

// fakeProber answers detection from fixed node files and probe results.
type fakeProber struct {
	nodeList []nodeInfo
	// files maps "node:argv" to output; a missing key fails like a missing file.
	files    map[string]string
	ran      bool
	enforced bool
	netErr   error
	rcs      []runtimeClass
	dmesg    map[string]string
	served   map[string]bool
	execs    []string
}

func (f *fakeProber) nodes(context.Context) ([]nodeInfo, error) { return f.nodeList, nil }

func (f *fakeProber) nodeExec(_ context.Context, node string, argv ...string) ([]byte, error) {
	key := node + ":" + strings.Join(argv, " ")
	f.execs = append(f.execs, key)
	out, ok := f.files[key]
	if !ok {
		return []byte("No such file or directory"), &cluster.ExitError{Code: 1}
	}
	return []byte(out), nil
}

func (f *fakeProber) netpol(context.Context) (bool, bool, string, error) {
	return f.ran, f.enforced, "detail", f.netErr
}

func (f *fakeProber) runtimeClasses(context.Context) ([]runtimeClass, error) { return f.rcs, nil }

func (f *fakeProber) runWith(_ context.Context, rc string) (string, error) {
	d, ok := f.dmesg[rc]
	if !ok {
		return "", errors.New("pod gvisor ended (Failed): no runtime handler")
	}
	return d, nil
}

func (f *fakeProber) serves(_ context.Context, gv, r string) bool { return f.served[gv+"/"+r] }

// kubeadmNode is the files and commands of control-plane node "cp" as
// kubeadm leaves it.
func kubeadmNode() map[string]string {
	const name = "cp"
	return map[string]string{
		name + ":ls -1 " + manifestsDir: "etcd.yaml\nkube-apiserver.yaml\n",
		name + ":crictl --version":      "crictl version v1.35.0\n",
		name + ":test -r " + etcdCA + " -a -r " + etcdCert + " -a -r " + etcdKey: "",
		name + ":crictl ps --name ^etcd$ -q":                                     "abc123\n",
	}
}

func TestDetectKubeadmCluster(t *testing.T) {
	p := &fakeProber{nodeList: []nodeInfo{{name: "cp", controlPlane: true}, {name: "w1"}}, files: kubeadmNode(), ran: true, enforced: true}
	f, err := detect(context.Background(), p, detectOptions{nodeAccess: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []cluster.Capability{v1alpha1.CapAPI, v1alpha1.CapWorkloads, v1alpha1.CapNetpol, v1alpha1.CapControlPlaneNode, v1alpha1.CapEtcd} {
		if !f[c].Has {
			t.Errorf("%s not detected: %s", c, f[c].Reason)
		}
	}
	for _, c := range []cluster.Capability{v1alpha1.CapGVisor, v1alpha1.CapAppArmor, v1alpha1.CapPSP, v1alpha1.CapGatekeeper, v1alpha1.CapNodeServices, v1alpha1.CapHostCommands, v1alpha1.CapFalco} {
		if f[c].Has {
			t.Errorf("%s claimed without proof: %s", c, f[c].Reason)
		}
		if f[c].Reason == "" {
			t.Errorf("%s has no reason", c)
		}
	}
}

func TestDetectNeedsProof(t *testing.T) {
	cases := []struct {
		name string
		p    *fakeProber
		o    detectOptions
		cap  cluster.Capability
		why  string
	}{
		{"no manifests through the helper", &fakeProber{nodeList: []nodeInfo{{name: "cp", controlPlane: true}}, files: map[string]string{}, ran: true},
			detectOptions{nodeAccess: true}, v1alpha1.CapControlPlaneNode, "cannot read /etc/kubernetes/manifests"},
		{"manifests without kube-apiserver", &fakeProber{nodeList: []nodeInfo{{name: "cp", controlPlane: true}}, files: map[string]string{"cp:ls -1 " + manifestsDir: "etcd.yaml\n"}, ran: true},
			detectOptions{nodeAccess: true}, v1alpha1.CapControlPlaneNode, "no kube-apiserver.yaml"},
		{"managed control plane", &fakeProber{nodeList: []nodeInfo{{name: "w1"}}, ran: true},
			detectOptions{nodeAccess: true}, v1alpha1.CapControlPlaneNode, "no node has the node-role.kubernetes.io/control-plane label"},
		{"HA control plane", &fakeProber{nodeList: []nodeInfo{{name: "cp1", controlPlane: true}, {name: "cp2", controlPlane: true}}, ran: true},
			detectOptions{nodeAccess: true}, v1alpha1.CapControlPlaneNode, "2 control-plane nodes"},
		{"no node access", &fakeProber{nodeList: []nodeInfo{{name: "cp", controlPlane: true}}, files: kubeadmNode(), ran: true},
			detectOptions{}, v1alpha1.CapControlPlaneNode, "no node access"},
		{"etcd without client certs", &fakeProber{nodeList: []nodeInfo{{name: "cp", controlPlane: true}}, files: without(kubeadmNode(), "test -r"), ran: true},
			detectOptions{nodeAccess: true}, v1alpha1.CapEtcd, "no etcd client certificate"},
		{"external etcd", &fakeProber{nodeList: []nodeInfo{{name: "cp", controlPlane: true}}, files: without(kubeadmNode(), "crictl ps"), ran: true},
			detectOptions{nodeAccess: true}, v1alpha1.CapEtcd, "no running etcd container"},
		{"netpol not enforced", &fakeProber{ran: true, enforced: false},
			detectOptions{}, v1alpha1.CapNetpol, "detail"},
		{"netpol inconclusive", &fakeProber{ran: true, enforced: true, netErr: errors.New("attempts failed to run")},
			detectOptions{}, v1alpha1.CapNetpol, "inconclusive"},
		{"no pods run", &fakeProber{ran: false, netErr: errors.New("ImagePullBackOff")},
			detectOptions{}, v1alpha1.CapWorkloads, "ImagePullBackOff"},
		{"gvisor class whose pod fails", &fakeProber{ran: true, rcs: []runtimeClass{{"gvisor", "runsc"}}},
			detectOptions{}, v1alpha1.CapGVisor, "no runtime handler"},
		{"gvisor class that runs runc", &fakeProber{ran: true, rcs: []runtimeClass{{"gvisor", "runc"}}, dmesg: map[string]string{"gvisor": "[0.0] Linux version 6.1"}},
			detectOptions{}, v1alpha1.CapGVisor, "dmesg does not show gVisor"},
		{"apparmor off on one node", &fakeProber{nodeList: []nodeInfo{{name: "a"}, {name: "b"}}, files: map[string]string{"a:cat /sys/module/apparmor/parameters/enabled": "Y\n", "b:cat /sys/module/apparmor/parameters/enabled": "N\n"}, ran: true},
			detectOptions{nodeAccess: true}, v1alpha1.CapAppArmor, "node b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := detect(context.Background(), c.p, c.o)
			if err != nil {
				t.Fatal(err)
			}
			if f[c.cap].Has {
				t.Fatalf("%s claimed: %s", c.cap, f[c.cap].Reason)
			}
			if !strings.Contains(f[c.cap].Reason, c.why) {
				t.Fatalf("%s reason %q does not say %q", c.cap, f[c.cap].Reason, c.why)
			}
		})
	}
}

func without(m map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if !strings.Contains(k, ":"+prefix) {
			out[k] = v
		}
	}
	return out
}

func TestDetectGVisorAndAPIs(t *testing.T) {
	p := &fakeProber{ran: true, rcs: []runtimeClass{{"kata", "kata"}, {"sandboxed", "runsc"}},
		dmesg:  map[string]string{"sandboxed": "[   0.000000] Starting gVisor..."},
		served: map[string]bool{"policy/v1beta1/podsecuritypolicies": true, "templates.gatekeeper.sh/v1/constrainttemplates": true}}
	f, err := detect(context.Background(), p, detectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []cluster.Capability{v1alpha1.CapGVisor, v1alpha1.CapPSP, v1alpha1.CapGatekeeper} {
		if !f[c].Has {
			t.Errorf("%s not detected: %s", c, f[c].Reason)
		}
	}
	if !strings.Contains(f[v1alpha1.CapGVisor].Reason, "sandboxed") {
		t.Errorf("gvisor reason names no class: %s", f[v1alpha1.CapGVisor].Reason)
	}
}

func TestOptInGatesControlPlane(t *testing.T) {
	b := &Backend{}
	rec := &record{Detected: Findings{v1alpha1.CapControlPlaneNode: {Has: true, Reason: "manifests on cp"}, v1alpha1.CapAPI: {Has: true}}}
	if b.gated(rec).Capabilities().Has(v1alpha1.CapControlPlaneNode) {
		t.Fatal("control-plane-node without the opt-in")
	}
	if r := b.gated(rec)[v1alpha1.CapControlPlaneNode].Reason; !strings.Contains(r, "--allow-control-plane") {
		t.Fatalf("reason does not say how to opt in: %s", r)
	}
	rec.AllowControlPlane = true
	if !b.gated(rec).Capabilities().Has(v1alpha1.CapControlPlaneNode) {
		t.Fatal("opted in but not provided")
	}
	if !rec.Detected[v1alpha1.CapControlPlaneNode].Has {
		t.Fatal("gated changed the record")
	}
}

// scripted is a netpolSteps over a fixed sequence of attempts.
func scripted(seq []reach) (*netpolSteps, *[]string) {
	var log []string
	i := 0
	s := &netpolSteps{
		try: func() reach {
			if i >= len(seq) {
				return seq[len(seq)-1]
			}
			r := seq[i]
			i++
			return r
		},
		deny:  func() error { log = append(log, "deny"); return nil },
		allow: func() error { log = append(log, "allow"); return nil },
		wait:  50 * time.Millisecond,
		poll:  time.Millisecond,
		sleep: func(d time.Duration) bool { time.Sleep(d); return true },
	}
	return s, &log
}

func TestNetpolProbe(t *testing.T) {
	o, c, e := reachOpen, reachClosed, reachError
	cases := []struct {
		name     string
		seq      []reach
		enforced bool
		err      string
	}{
		{"enforced", []reach{o, c, c, c, o}, true, ""},
		{"enforced after a delay", []reach{o, o, o, c, c, c, o}, true, ""},
		{"one blocked attempt is not proof", []reach{o, c, o, o}, false, ""},
		{"exec errors are never blocked", []reach{o, e, e, e, e}, false, "inconclusive"},
		{"blocked forever is the network", []reach{o, c, c, c, c}, false, "still blocked after it was deleted"},
		{"never open", []reach{c}, false, "never reached"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, log := scripted(tc.seq)
			enforced, detail, err := s.run("10.0.0.1:8080")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if enforced != tc.enforced {
				t.Fatalf("enforced = %v (%s), want %v", enforced, detail, tc.enforced)
			}
			if enforced && strings.Join(*log, ",") != "deny,allow" {
				t.Fatalf("policy steps %v", *log)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	if classify("HTTP/1.1 200 OK\r\n\r\nckslab-probe\n", nil) != reachOpen {
		t.Error("answer not open")
	}
	if classify("", nil) != reachClosed {
		t.Error("no answer (exit 0, busybox nc) not closed")
	}
	if classify("", errors.New("error dialing backend: EOF")) != reachError {
		t.Error("a failed exec counted as a network verdict")
	}
}

func TestClassifyExitStatus(t *testing.T) {
	if classify("", utilexec.CodeExitError{Err: errors.New("exit 1"), Code: 1}) != reachClosed {
		t.Error("nc's non-zero exit not closed")
	}
	if classify("", context.Canceled) != reachError {
		t.Error("an interrupted attempt counted as closed")
	}
}
