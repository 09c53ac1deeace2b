package local

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/ckslab/ckslab/engine/fsutil"
)

const (
	// nodeName is the one node of a local cluster, as the exam names it.
	nodeName = "controlplane"
	// nodeIP is only advertised (kube-apiserver's --advertise-address, the
	// kubernetes Service endpoint); nothing binds it. The apiserver refuses
	// a loopback advertise address, so we use the address killercoda-style
	// exam nodes have. Every listener binds 127.0.0.1.
	nodeIP = "172.30.1.2"

	// internalDir holds ckslab's own bookkeeping inside the node dir; it is
	// not part of the node's filesystem view.
	internalDir = ".ckslab"

	manifestsPath = "/etc/kubernetes/manifests"
	pkiPath       = "/etc/kubernetes/pki"

	compEtcd = "etcd"
	compAPI  = "kube-apiserver"
	compKCM  = "kube-controller-manager"
)

// nodeConfig is written at create time to <nodeDir>/.ckslab/node.json and
// read by the supervisor, Get and Down.
type nodeConfig struct {
	Name              string    `json:"name"`
	NodeDir           string    `json:"nodeDir"`
	KubernetesVersion string    `json:"kubernetesVersion"`
	EtcdVersion       string    `json:"etcdVersion"`
	Binaries          Binaries  `json:"binaries"`
	APIServerPort     int       `json:"apiServerPort"`
	EtcdClientPort    int       `json:"etcdClientPort"`
	EtcdPeerPort      int       `json:"etcdPeerPort"`
	EtcdMetricsPort   int       `json:"etcdMetricsPort"`
	ControllerPort    int       `json:"controllerManagerPort"`
	CreatedAt         time.Time `json:"createdAt"`
	// BootstrapTemplate is the key of the template etcd was restored from
	// ("" when it bootstrapped cold).
	BootstrapTemplate string `json:"bootstrapTemplate,omitempty"`
}

// Paths of ckslab's bookkeeping files for a node dir.
func internalPath(nodeDir, name string) string { return filepath.Join(nodeDir, internalDir, name) }
func configFile(nodeDir string) string         { return internalPath(nodeDir, "node.json") }
func stateFile(nodeDir string) string          { return internalPath(nodeDir, "state.json") }
func pidFile(nodeDir string) string            { return internalPath(nodeDir, "supervisor.pid") }
func lockFile(nodeDir string) string           { return internalPath(nodeDir, "supervisor.lock") }
func supervisorLog(nodeDir string) string      { return internalPath(nodeDir, "supervisor.log") }
func kubeconfigFile(nodeDir string) string     { return internalPath(nodeDir, "admin.kubeconfig") }
func superAdminFile(nodeDir string) string {
	return filepath.Join(nodeDir, "etc", "kubernetes", "super-admin.conf")
}

// hostPathOf maps an absolute node path to where it lives on the host.
func hostPathOf(nodeDir, nodePath string) string {
	return filepath.Join(nodeDir, filepath.FromSlash(nodePath))
}

func readNodeConfig(nodeDir string) (*nodeConfig, error) {
	b, err := os.ReadFile(configFile(nodeDir))
	if err != nil {
		return nil, err
	}
	var c nodeConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("parse %s: %w (delete the cluster and create it again)", configFile(nodeDir), err)
	}
	return &c, nil
}

func writeNodeConfig(c *nodeConfig) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(configFile(c.NodeDir), b, 0o600)
}

func hostPathVolume(name, path string, t corev1.HostPathType) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
		HostPath: &corev1.HostPathVolumeSource{Path: path, Type: &t},
	}}
}

func mount(name, path string, ro bool) corev1.VolumeMount {
	return corev1.VolumeMount{Name: name, MountPath: path, ReadOnly: ro}
}

func httpProbe(port int, path string, scheme corev1.URIScheme, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Host: "127.0.0.1", Path: path, Port: intstr.FromInt(port), Scheme: scheme,
		}},
		InitialDelaySeconds: 10, PeriodSeconds: 10, TimeoutSeconds: 15, FailureThreshold: failures,
	}
}

// staticPod wraps a container the way kubeadm's manifests do.
func staticPod(name, image string, cpu string, command []string, mounts []corev1.VolumeMount, vols []corev1.Volume, probePort int, probeScheme corev1.URIScheme, livePath, readyPath string, annotations map[string]string) *corev1.Pod {
	prio := int32(2000001000)
	c := corev1.Container{
		Name:            name,
		Image:           image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         command,
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu),
		}},
		VolumeMounts:   mounts,
		LivenessProbe:  httpProbe(probePort, livePath, probeScheme, 8),
		ReadinessProbe: httpProbe(probePort, readyPath, probeScheme, 3),
		StartupProbe:   httpProbe(probePort, livePath, probeScheme, 24),
	}
	c.ReadinessProbe.InitialDelaySeconds = 0
	c.ReadinessProbe.PeriodSeconds = 1
	if name == compEtcd {
		c.Resources.Requests[corev1.ResourceMemory] = resource.MustParse("100Mi")
	}
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   "kube-system",
			Labels:      map[string]string{"component": name, "tier": "control-plane"},
			Annotations: annotations,
		},
		Spec: corev1.PodSpec{
			Containers:        []corev1.Container{c},
			HostNetwork:       true,
			Priority:          &prio,
			PriorityClassName: "system-node-critical",
			SecurityContext: &corev1.PodSecurityContext{
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Volumes: vols,
		},
	}
}

// caVolumes are the host CA bundles kubeadm mounts into apiserver and
// controller-manager.
func caVolumes() ([]corev1.VolumeMount, []corev1.Volume) {
	var ms []corev1.VolumeMount
	var vs []corev1.Volume
	for _, v := range []struct{ name, path string }{
		{"ca-certs", "/etc/ssl/certs"},
		{"etc-ca-certificates", "/etc/ca-certificates"},
		{"usr-local-share-ca-certificates", "/usr/local/share/ca-certificates"},
		{"usr-share-ca-certificates", "/usr/share/ca-certificates"},
	} {
		ms = append(ms, mount(v.name, v.path, true))
		vs = append(vs, hostPathVolume(v.name, v.path, corev1.HostPathDirectoryOrCreate))
	}
	return ms, vs
}

// manifests returns kubeadm's three control-plane static pods for c, with
// kubeadm's flags and paths. Ports differ from kubeadm's defaults because
// several local clusters (and tests) share the host's loopback.
func manifests(c *nodeConfig) map[string]*corev1.Pod {
	ip := "127.0.0.1"
	etcdClient := fmt.Sprintf("https://%s:%d", ip, c.EtcdClientPort)
	etcdPeer := fmt.Sprintf("https://%s:%d", ip, c.EtcdPeerPort)
	etcdVer := c.EtcdVersion
	if len(etcdVer) > 0 && etcdVer[0] == 'v' {
		etcdVer = etcdVer[1:]
	}
	etcd := staticPod(compEtcd, "registry.k8s.io/etcd:"+etcdVer+"-0", "100m", []string{
		"etcd",
		"--advertise-client-urls=" + etcdClient,
		"--cert-file=/etc/kubernetes/pki/etcd/server.crt",
		"--client-cert-auth=true",
		"--data-dir=/var/lib/etcd",
		"--feature-gates=InitialCorruptCheck=true",
		"--initial-advertise-peer-urls=" + etcdPeer,
		"--initial-cluster=" + nodeName + "=" + etcdPeer,
		"--key-file=/etc/kubernetes/pki/etcd/server.key",
		"--listen-client-urls=" + etcdClient,
		"--listen-metrics-urls=http://127.0.0.1:" + strconv.Itoa(c.EtcdMetricsPort),
		"--listen-peer-urls=" + etcdPeer,
		"--name=" + nodeName,
		"--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
		"--peer-client-cert-auth=true",
		"--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
		"--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
		"--snapshot-count=10000",
		"--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
		"--watch-progress-notify-interval=5s",
	}, []corev1.VolumeMount{
		mount("etcd-data", "/var/lib/etcd", false),
		mount("etcd-certs", "/etc/kubernetes/pki/etcd", false),
	}, []corev1.Volume{
		hostPathVolume("etcd-certs", "/etc/kubernetes/pki/etcd", corev1.HostPathDirectoryOrCreate),
		hostPathVolume("etcd-data", "/var/lib/etcd", corev1.HostPathDirectoryOrCreate),
	}, c.EtcdMetricsPort, corev1.URISchemeHTTP, "/livez", "/readyz",
		map[string]string{"kubeadm.kubernetes.io/etcd.advertise-client-urls": etcdClient})

	caMounts, caVols := caVolumes()
	apiMounts := append(append([]corev1.VolumeMount{}, caMounts...), mount("k8s-certs", pkiPath, true))
	apiVols := append(append([]corev1.Volume{}, caVols...), hostPathVolume("k8s-certs", pkiPath, corev1.HostPathDirectoryOrCreate))
	api := staticPod(compAPI, "registry.k8s.io/kube-apiserver:"+c.KubernetesVersion, "250m", []string{
		"kube-apiserver",
		"--advertise-address=" + nodeIP,
		"--allow-privileged=true",
		"--authorization-mode=Node,RBAC",
		// Not a kubeadm default: a trainer must never expose its API on
		// the host's network interfaces.
		"--bind-address=" + ip,
		"--client-ca-file=/etc/kubernetes/pki/ca.crt",
		"--enable-admission-plugins=NodeRestriction",
		"--enable-bootstrap-token-auth=true",
		"--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
		"--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
		"--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
		"--etcd-servers=" + etcdClient,
		"--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
		"--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
		"--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
		"--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt",
		"--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key",
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		"--secure-port=" + strconv.Itoa(c.APIServerPort),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=/etc/kubernetes/pki/sa.pub",
		"--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
		"--service-cluster-ip-range=10.96.0.0/12",
		// Not a kubeadm default: without it open watches (the
		// controller-manager's informers) keep the apiserver from exiting
		// on SIGTERM until it is killed 10s later, and every manifest edit
		// a learner makes would wait for that.
		"--shutdown-watch-termination-grace-period=2s",
		"--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
		"--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
	}, apiMounts, apiVols, c.APIServerPort, corev1.URISchemeHTTPS, "/livez", "/readyz",
		map[string]string{"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": fmt.Sprintf("%s:%d", nodeIP, c.APIServerPort)})

	kcmMounts := append(append([]corev1.VolumeMount{}, caMounts...),
		mount("flexvolume-dir", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec", false),
		mount("k8s-certs", pkiPath, true),
		mount("kubeconfig", "/etc/kubernetes/controller-manager.conf", true))
	kcmVols := append(append([]corev1.Volume{}, caVols...),
		hostPathVolume("flexvolume-dir", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec", corev1.HostPathDirectoryOrCreate),
		hostPathVolume("k8s-certs", pkiPath, corev1.HostPathDirectoryOrCreate),
		hostPathVolume("kubeconfig", "/etc/kubernetes/controller-manager.conf", corev1.HostPathFileOrCreate))
	kcm := staticPod(compKCM, "registry.k8s.io/kube-controller-manager:"+c.KubernetesVersion, "200m", []string{
		"kube-controller-manager",
		"--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
		"--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf",
		"--bind-address=127.0.0.1",
		"--client-ca-file=/etc/kubernetes/pki/ca.crt",
		"--cluster-name=kubernetes",
		"--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt",
		"--cluster-signing-key-file=/etc/kubernetes/pki/ca.key",
		"--controllers=*,bootstrapsigner,tokencleaner",
		"--kubeconfig=/etc/kubernetes/controller-manager.conf",
		// Not kubeadm defaults (20 and 30): with
		// --use-service-account-credentials the controller-manager gets or
		// creates one ServiceAccount per controller (about 3 requests each,
		// ~140 in all) through this client before it starts any
		// controller, so the default rate limit alone held every cold start
		// back by ~5s. Only the controller-manager's own client-side
		// throttling changes; authn, RBAC and the controllers do not.
		"--kube-api-burst=200",
		"--kube-api-qps=100",
		"--leader-elect=true",
		"--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
		"--root-ca-file=/etc/kubernetes/pki/ca.crt",
		"--secure-port=" + strconv.Itoa(c.ControllerPort),
		"--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
		"--use-service-account-credentials=true",
	}, kcmMounts, kcmVols, c.ControllerPort, corev1.URISchemeHTTPS, "/healthz", "/healthz", nil)
	return map[string]*corev1.Pod{compEtcd: etcd, compAPI: api, compKCM: kcm}
}

// marshalPod renders a static pod manifest as kubeadm writes it.
func marshalPod(p *corev1.Pod) ([]byte, error) {
	b, err := yaml.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("render %s manifest: %w", p.Name, err)
	}
	return b, nil
}
