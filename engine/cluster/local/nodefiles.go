package local

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ckslab/ckslab/engine/fsutil"
)

// writeNodeFiles lays out the kubeadm-style node filesystem.
func writeNodeFiles(cfg *nodeConfig) error {
	nodeDir := cfg.NodeDir
	if err := os.MkdirAll(filepath.Join(nodeDir, internalDir), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", nodeDir, err)
	}
	for _, d := range []string{"/etc/kubernetes/manifests", "/var/lib/etcd", "/var/log/pods", "/var/log/kubernetes"} {
		if err := os.MkdirAll(hostPathOf(nodeDir, d), 0o700); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	pki, err := generatePKI(hostPathOf(nodeDir, pkiPath), time.Now())
	if err != nil {
		return fmt.Errorf("generate certificates: %w", err)
	}
	server := fmt.Sprintf("https://127.0.0.1:%d", cfg.APIServerPort)
	confs := map[string][]byte{
		hostPathOf(nodeDir, "/etc/kubernetes/admin.conf"):              kubeconfigYAML(server, pki.caPEM, "kubernetes-admin", pki.kubeconfig["admin"]),
		superAdminFile(nodeDir):                                        kubeconfigYAML(server, pki.caPEM, "kubernetes-super-admin", pki.kubeconfig["super-admin"]),
		hostPathOf(nodeDir, "/etc/kubernetes/controller-manager.conf"): kubeconfigYAML(server, pki.caPEM, "system:kube-controller-manager", pki.kubeconfig["controller-manager"]),
		kubeconfigFile(nodeDir):                                        kubeconfigYAML(server, pki.caPEM, "kubernetes-admin", pki.kubeconfig["admin"]),
		// ckslab's own copy: probes and Up keep working whatever the learner
		// does to /etc/kubernetes.
		internalPath(nodeDir, "super-admin.kubeconfig"): kubeconfigYAML(server, pki.caPEM, "kubernetes-super-admin", pki.kubeconfig["super-admin"]),
	}
	for p, data := range confs {
		if err := fsutil.WriteFileAtomic(p, data, 0o600); err != nil {
			return err
		}
	}
	if err := writeNodeConfig(cfg); err != nil {
		return err
	}
	// Manifests last: the supervisor starts whatever it finds.
	for name, pod := range manifests(cfg) {
		data, err := marshalPod(pod)
		if err != nil {
			return err
		}
		if err := fsutil.WriteFileAtomic(hostPathOf(nodeDir, manifestsPath+"/"+name+".yaml"), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// freePorts reserves n distinct loopback ports by holding listeners open
// until all are chosen.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
