package kind

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/cluster"
)

// The NetworkPolicy engines a kind cluster can run beside its CNI.
const (
	// NetPolCNI (the default) leaves NetworkPolicy to the CNI: Calico
	// enforces it, the bridge CNI does not.
	NetPolCNI = ""
	// NetPolKubeRouter runs kube-router in firewall-only mode
	// (--run-firewall=true --run-router=false --run-service-proxy=false) as a
	// DaemonSet on a bridge-CNI cluster, from an image tarball built offline
	// by hack/kube-router-image.sh and imported into every node's containerd.
	// CI ONLY: security flaws are reported for kube-router v2.1.0, the
	// version the module proxy serves; learners keep Calico.
	NetPolKubeRouter = "kube-router"
)

// netpolProbeNamespace holds the two pods of the enforcement probe at cluster up.
const netpolProbeNamespace = "ckslab-netpol-probe"

// WithNetPol adds a NetworkPolicy engine to the bridge CNI: NetPolCNI ("")
// or NetPolKubeRouter with imageTar, a docker-archive tarball holding one
// tagged image (hack/kube-router-image.sh prints its path).
func WithNetPol(engine, imageTar string) Option {
	return func(b *Backend) error {
		switch engine {
		case NetPolCNI:
			if imageTar != "" {
				return fmt.Errorf("a NetworkPolicy engine image (%s) needs a NetworkPolicy engine: set CKSLAB_KIND_NETPOL=%s", imageTar, NetPolKubeRouter)
			}
		case NetPolKubeRouter:
			if imageTar == "" {
				return fmt.Errorf("NetworkPolicy engine %s needs its image tarball (CKSLAB_KIND_NETPOL_IMAGE; build it with hack/kube-router-image.sh)", engine)
			}
		default:
			return fmt.Errorf("unknown kind NetworkPolicy engine %q: use %s (CI only, with CKSLAB_KIND_CNI=%s) or leave it empty", engine, NetPolKubeRouter, CNIBridge)
		}
		b.netpol, b.netpolImage = engine, imageTar
		return nil
	}
}

// checkNetwork refuses CNI/engine pairs that make no sense (run after all options).
func (b *Backend) checkNetwork() error {
	if b.netpol == NetPolKubeRouter && b.cni != CNIBridge {
		return fmt.Errorf("NetworkPolicy engine %s runs only beside the bridge CNI (CKSLAB_KIND_CNI=%s); %s enforces NetworkPolicy itself", b.netpol, CNIBridge, b.cni)
	}
	return nil
}

// netpolOf is the NetworkPolicy engine a running cluster was proven to
// enforce with at cluster up ("" when none: the CNI's own).
func (b *Backend) netpolOf(name string) string {
	data, err := os.ReadFile(filepath.Join(b.clusterDir(name), "netpol"))
	if err != nil {
		return NetPolCNI
	}
	return strings.TrimSpace(string(data))
}

// archiveImageRef reads the one image name of a docker-archive tarball
// (its manifest.json RepoTags).
func archiveImageRef(r io.Reader) (string, error) {
	refs, err := archiveRefs(r)
	if err != nil {
		return "", err
	}
	if len(refs) != 1 {
		return "", fmt.Errorf("manifest.json must name exactly one image, it has %d", len(refs))
	}
	return refs[0], nil
}

func imageRefOfFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("NetworkPolicy engine image: %w (build it with hack/kube-router-image.sh)", err)
	}
	defer f.Close()
	ref, err := archiveImageRef(f)
	if err != nil {
		return "", fmt.Errorf("NetworkPolicy engine image %s: %w", path, err)
	}
	return ref, nil
}

// ensureKubeRouter loads the kube-router image into every node, deploys it
// and proves it enforces NetworkPolicy before the cluster claims netpol.
// On a reused cluster that already proved it, a rolled-out DaemonSet is enough.
func (b *Backend) ensureKubeRouter(ctx context.Context, c *cluster.Cluster, cp *Node, progress cluster.ProgressFunc) error {
	step := cluster.Step{ID: "netpol", Title: "Run kube-router as the NetworkPolicy engine (CI only)"}
	if b.netpolOf(c.Name) == NetPolKubeRouter {
		if out, err := cp.Exec(ctx, nil, dsArgs("kube-router")...); err == nil && dsPending("kube-router", strings.TrimSpace(string(out))) == "" {
			step.Done, step.Line = true, "kube-router ready on all nodes (enforcement proven at cluster up)"
			progress.Report(step)
			c.Capabilities[v1alpha1.CapNetpol] = true
			return nil
		}
	}
	progress.Report(step)
	ref, err := imageRefOfFile(b.netpolImage)
	if err != nil {
		return err
	}
	step.Line = "import " + ref + " into every node"
	progress.Report(step)
	// One import per node, at the same time (each streams the tarball).
	errs := make([]error, len(c.Nodes))
	var wg sync.WaitGroup
	for i, n := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := os.Open(b.netpolImage)
			if err != nil {
				errs[i] = fmt.Errorf("NetworkPolicy engine image: %w", err)
				return
			}
			defer f.Close()
			if _, err := n.Exec(ctx, f, "ctr", "--namespace=k8s.io", "images", "import", "--no-unpack", "-"); err != nil {
				errs[i] = fmt.Errorf("import %s into node %s: %w", ref, n.Name(), err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if _, err := cp.Exec(ctx, strings.NewReader(KubeRouterManifest(ref)), kubectlArgv("apply", "--server-side", "--force-conflicts", "-f", "-")...); err != nil {
		return fmt.Errorf("deploy kube-router: %w", err)
	}
	if err := b.waitNetworkReady(ctx, cp, "kube-router", step, progress); err != nil {
		return err
	}
	step = cluster.Step{ID: "netpol-probe", Title: "Prove NetworkPolicy enforcement (two pods, then a deny-all ingress policy)"}
	progress.Report(step)
	pctx, cancel := context.WithTimeout(ctx, b.readyTimeout)
	defer cancel()
	line, err := probeEnforcement(pctx, cp.Exec, b.poll)
	// The probe namespace goes either way (without waiting for it).
	_, _ = cp.Exec(context.WithoutCancel(ctx), nil, kubectlArgv("delete", "namespace", netpolProbeNamespace, "--ignore-not-found", "--wait=false")...)
	step.Done = true
	if err != nil {
		step.Err = fmt.Errorf("kube-router runs but NetworkPolicy enforcement is not proven: %w (inspect with: kubectl --kubeconfig %s -n kube-system logs -l k8s-app=kube-router)", err, c.Kubeconfig)
		progress.Report(step)
		return step.Err
	}
	if err := os.WriteFile(filepath.Join(b.clusterDir(c.Name), "netpol"), []byte(NetPolKubeRouter+"\n"), 0o600); err != nil {
		return fmt.Errorf("record the NetworkPolicy engine: %w", err)
	}
	c.Capabilities[v1alpha1.CapNetpol] = true
	step.Line = line
	progress.Report(step)
	return nil
}

// execFunc runs argv on the control-plane node (Node.Exec).
type execFunc func(ctx context.Context, stdin io.Reader, argv ...string) ([]byte, error)

// probeEnforcement proves NetworkPolicy is enforced: a client pod reaches a
// server pod while no policy selects it, and no longer once a deny-all
// ingress policy does. Polls every poll until ctx ends.
func probeEnforcement(ctx context.Context, exec execFunc, poll time.Duration) (string, error) {
	kubectl := func(stdin string, args ...string) ([]byte, error) {
		var in io.Reader
		if stdin != "" {
			in = strings.NewReader(stdin)
		}
		return exec(ctx, in, kubectlArgv(args...)...)
	}
	if _, err := kubectl(netpolProbePods, "apply", "-f", "-"); err != nil {
		return "", fmt.Errorf("create the probe pods: %w", err)
	}
	if _, err := kubectl("", "-n", netpolProbeNamespace, "wait", "--for=condition=Ready", "pod/server", "pod/client", "--timeout=180s"); err != nil {
		return "", fmt.Errorf("probe pods not Ready: %w", err)
	}
	out, err := kubectl("", "-n", netpolProbeNamespace, "get", "pod", "server", "-o=jsonpath={.status.podIP}")
	ip := strings.TrimSpace(string(out))
	if err != nil || ip == "" {
		return "", fmt.Errorf("server pod has no IP: %v %s", err, ip)
	}
	reach := func() bool {
		// An HTTP request through nc (busybox-static's wget crashes and
		// its nc has no -z): only the server's own answer counts as reached.
		out, err := kubectl("", "-n", netpolProbeNamespace, "exec", "client", "--", "sh", "-c",
			`printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 nc -w 2 "$0" 8080`, ip)
		return err == nil && strings.Contains(string(out), "ckslab-probe")
	}
	wait := func(want bool) error {
		for {
			if reach() == want {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(poll):
			}
		}
	}
	start := time.Now()
	if err := wait(true); err != nil {
		return "", fmt.Errorf("the client pod never reached the server pod without any policy (pod network broken?): %w", err)
	}
	if _, err := kubectl(netpolProbeDeny, "apply", "-f", "-"); err != nil {
		return "", fmt.Errorf("apply the deny-all policy: %w", err)
	}
	applied := time.Now()
	if err := wait(false); err != nil {
		return "", fmt.Errorf("the client pod still reaches the server pod under a deny-all ingress policy: %w", err)
	}
	return fmt.Sprintf("NetworkPolicy enforced: open without policy, blocked %.1fs after a deny-all policy (probe %.1fs)",
		time.Since(applied).Seconds(), time.Since(start).Seconds()), nil
}

const netpolProbePods = `apiVersion: v1
kind: Namespace
metadata:
  name: ` + netpolProbeNamespace + `
---
apiVersion: v1
kind: Pod
metadata:
  name: server
  namespace: ` + netpolProbeNamespace + `
  labels: {app: server}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: httpd
    image: busybox:1.36
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "mkdir -p /www && echo ckslab-probe >/www/index.html && exec httpd -f -p 8080 -h /www"]
---
apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: ` + netpolProbeNamespace + `
  labels: {app: client}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: client
    image: busybox:1.36
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
`

const netpolProbeDeny = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-server
  namespace: ` + netpolProbeNamespace + `
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
`

// KubeRouterManifest deploys kube-router in firewall-only mode as a
// DaemonSet from image (already in each node's containerd: never pulled),
// with the RBAC of upstream's daemonset/generic-kuberouter.yaml (v2.1.0).
func KubeRouterManifest(image string) string {
	return `apiVersion: v1
kind: ServiceAccount
metadata:
  name: kube-router
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ckslab:kube-router
rules:
- apiGroups: [""]
  resources: [namespaces, pods, services, nodes, endpoints]
  verbs: [list, get, watch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [list, get, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, get, watch]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, create, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ckslab:kube-router
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ckslab:kube-router
subjects:
- kind: ServiceAccount
  name: kube-router
  namespace: kube-system
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-router
  namespace: kube-system
  labels: {k8s-app: kube-router}
spec:
  selector:
    matchLabels: {k8s-app: kube-router}
  template:
    metadata:
      labels: {k8s-app: kube-router}
    spec:
      serviceAccountName: kube-router
      priorityClassName: system-node-critical
      hostNetwork: true
      tolerations:
      - operator: Exists
      containers:
      - name: kube-router
        image: ` + image + `
        imagePullPolicy: Never
        args: ["--run-firewall=true", "--run-router=false", "--run-service-proxy=false", "--health-port=20244"]
        env:
        - name: NODE_NAME
          valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
        securityContext: {privileged: true}
        livenessProbe:
          httpGet: {path: /healthz, port: 20244}
          initialDelaySeconds: 10
          periodSeconds: 3
        readinessProbe:
          httpGet: {path: /healthz, port: 20244}
          periodSeconds: 2
        volumeMounts:
        - {name: lib-modules, mountPath: /lib/modules, readOnly: true}
        - {name: xtables-lock, mountPath: /run/xtables.lock}
      volumes:
      - name: lib-modules
        hostPath: {path: /lib/modules}
      - name: xtables-lock
        hostPath: {path: /run/xtables.lock, type: FileOrCreate}
`
}
