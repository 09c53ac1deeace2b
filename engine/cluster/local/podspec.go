package local

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/ckslab/ckslab/engine/staticpod"
)

// launchSpec is a parsed static pod turned into a host process: what a
// kubelet plus container runtime would run.
type launchSpec struct {
	hash      string
	component string
	// argv is the command line as the container sees it (exam paths).
	argv []string
	// binary and hostArgs are what actually runs on the host, with every
	// container path mapped into the node dir through the pod's volumes.
	binary   string
	hostArgs []string
	env      []string
	pod      *corev1.Pod
	mapper   *pathMapper
}

func contentHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// pathMapper translates container paths to host paths like a container
// runtime would: through the volumeMount whose mountPath is the longest
// prefix, to that volume's hostPath (itself under the node dir). A path no
// volume covers lands in an empty per-pod "rootfs", so a flag pointing at a
// file the learner forgot to mount fails exactly as it does on a real node.
type pathMapper struct {
	nodeDir string
	rootfs  string
	mounts  []resolvedMount // longest mountPath first
}

type resolvedMount struct {
	mountPath string
	hostDir   string
}

func (m *pathMapper) mapPath(p string) string {
	clean := path.Clean(p)
	for _, mt := range m.mounts {
		if clean == mt.mountPath {
			return mt.hostDir
		}
		if strings.HasPrefix(clean, strings.TrimSuffix(mt.mountPath, "/")+"/") {
			return filepath.Join(mt.hostDir, filepath.FromSlash(strings.TrimPrefix(clean, mt.mountPath)))
		}
	}
	return filepath.Join(m.rootfs, filepath.FromSlash(clean))
}

// unmap rewrites host paths in a log line back to what the container sees,
// so logs read like `crictl logs` on an exam node.
func (m *pathMapper) unmap(line string) string {
	line = strings.ReplaceAll(line, m.rootfs, "")
	return strings.ReplaceAll(line, m.nodeDir, "")
}

// mapArg rewrites an absolute path argument ("/x", "--flag=/x").
func (m *pathMapper) mapArg(a string) string {
	if strings.HasPrefix(a, "/") {
		return m.mapPath(a)
	}
	if strings.HasPrefix(a, "-") {
		if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(v, "/") {
			return k + "=" + m.mapPath(v)
		}
	}
	return a
}

// nodeViewArgs rewrites argv[1:] for a process that runs in the node's
// mount namespace (the `ckslab ssh controlplane` view, where roots are
// mounted from the node dir): a path keeps its exam spelling when the node
// view resolves it to the same file the pod's volumes do, which is the
// kubeadm convention of hostPath == mountPath; any other path (a volume
// mounted elsewhere, a file no volume covers) is mapped as for a host
// process, so the process opens exactly the same files either way and
// `ps` on the node shows --client-ca-file=/etc/kubernetes/pki/ca.crt.
func (s *launchSpec) nodeViewArgs(roots []string) []string {
	m := s.mapper
	keep := func(p string) bool {
		clean := path.Clean(p)
		if m.mapPath(clean) != hostPathOf(m.nodeDir, clean) {
			return false
		}
		for _, r := range roots {
			if clean == r || strings.HasPrefix(clean, strings.TrimSuffix(r, "/")+"/") {
				return true
			}
		}
		return false
	}
	out := make([]string, 0, len(s.argv)-1)
	for _, a := range s.argv[1:] {
		switch {
		case strings.HasPrefix(a, "/") && keep(a):
			out = append(out, a)
		case strings.HasPrefix(a, "-"):
			if _, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(v, "/") && keep(v) {
				out = append(out, a)
				continue
			}
			out = append(out, m.mapArg(a))
		default:
			out = append(out, m.mapArg(a))
		}
	}
	return out
}

// parseStaticPod decodes and validates a manifest the way the kubelet's
// static pod source does, then plans the host process.
func parseStaticPod(nodeDir, component string, bins Binaries, data []byte) (*launchSpec, error) {
	var pod corev1.Pod
	if err := yaml.Unmarshal(data, &pod); err != nil {
		return nil, fmt.Errorf("could not parse static pod manifest: %w", err)
	}
	if pod.Kind != "Pod" || pod.APIVersion != "v1" {
		return nil, fmt.Errorf("manifest is apiVersion %q kind %q, want v1 Pod", pod.APIVersion, pod.Kind)
	}
	var errs []string
	if pod.Name == "" {
		errs = append(errs, "metadata.name: Required value")
	}
	if len(pod.Spec.Containers) != 1 {
		errs = append(errs, fmt.Sprintf("spec.containers: the local node runs exactly one container per control-plane pod, found %d", len(pod.Spec.Containers)))
	}
	vols := map[string]corev1.Volume{}
	for i, v := range pod.Spec.Volumes {
		if _, dup := vols[v.Name]; dup {
			errs = append(errs, fmt.Sprintf("spec.volumes[%d].name: Duplicate value: %q", i, v.Name))
		}
		vols[v.Name] = v
		if v.HostPath != nil && !path.IsAbs(v.HostPath.Path) {
			errs = append(errs, fmt.Sprintf("spec.volumes[%d].hostPath.path: Invalid value: %q: must be an absolute path", i, v.HostPath.Path))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid static pod: %s", strings.Join(errs, "; "))
	}
	c := pod.Spec.Containers[0]
	m := &pathMapper{nodeDir: nodeDir, rootfs: internalPath(nodeDir, filepath.Join("pods", component, "rootfs"))}
	for i, vm := range c.VolumeMounts {
		v, ok := vols[vm.Name]
		if !ok {
			errs = append(errs, fmt.Sprintf("spec.containers[0].volumeMounts[%d].name: Not found: %q", i, vm.Name))
			continue
		}
		if !path.IsAbs(vm.MountPath) {
			errs = append(errs, fmt.Sprintf("spec.containers[0].volumeMounts[%d].mountPath: Invalid value: %q: must be an absolute path", i, vm.MountPath))
			continue
		}
		var host string
		switch {
		case v.HostPath != nil:
			host = hostPathOf(nodeDir, path.Clean(v.HostPath.Path))
		case v.EmptyDir != nil:
			host = internalPath(nodeDir, filepath.Join("pods", component, "volumes", v.Name))
		default:
			errs = append(errs, fmt.Sprintf("spec.volumes %q: only hostPath and emptyDir volumes work in a static pod", v.Name))
			continue
		}
		if vm.SubPath != "" {
			host = filepath.Join(host, filepath.FromSlash(path.Clean("/"+vm.SubPath)))
		}
		m.mounts = append(m.mounts, resolvedMount{mountPath: path.Clean(vm.MountPath), hostDir: host})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid static pod: %s", strings.Join(errs, "; "))
	}
	sort.SliceStable(m.mounts, func(i, j int) bool { return len(m.mounts[i].mountPath) > len(m.mounts[j].mountPath) })

	argv := append(append([]string{}, c.Command...), c.Args...)
	if len(argv) == 0 {
		return nil, errors.New("container has no command: the local node has no images, so the command must name the binary (e.g. kube-apiserver)")
	}
	binName := path.Base(argv[0])
	bin := bins.Path(binName)
	if bin == "" {
		return nil, fmt.Errorf("failed to create containerd task: exec: %q: executable file not found in $PATH", argv[0])
	}
	spec := &launchSpec{hash: contentHash(data), component: component, argv: argv, binary: bin, pod: &pod, mapper: m}
	for _, a := range argv[1:] {
		spec.hostArgs = append(spec.hostArgs, m.mapArg(a))
	}
	spec.env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + m.rootfs}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			spec.env = append(spec.env, e.Name+"="+e.Value)
		}
	}
	return spec, nil
}

// prepareVolumes applies hostPath types like the kubelet: create what
// *OrCreate asks for, refuse to start when Directory/File does not match.
func (s *launchSpec) prepareVolumes() error {
	if err := os.MkdirAll(s.mapper.rootfs, 0o700); err != nil {
		return fmt.Errorf("create container rootfs: %w", err)
	}
	for _, v := range s.pod.Spec.Volumes {
		if v.EmptyDir != nil {
			if err := os.MkdirAll(internalPath(s.mapper.nodeDir, filepath.Join("pods", s.component, "volumes", v.Name)), 0o700); err != nil {
				return err
			}
			continue
		}
		if v.HostPath == nil {
			continue
		}
		host := hostPathOf(s.mapper.nodeDir, path.Clean(v.HostPath.Path))
		t := corev1.HostPathUnset
		if v.HostPath.Type != nil {
			t = *v.HostPath.Type
		}
		fi, statErr := os.Stat(host)
		fail := func(what string) error {
			return fmt.Errorf("MountVolume.SetUp failed for volume %q : hostPath type check failed: %s is not a %s", v.Name, v.HostPath.Path, what)
		}
		switch t {
		case corev1.HostPathDirectoryOrCreate, corev1.HostPathUnset:
			// An unset type behaves like containerd: a missing path becomes
			// a directory (which then breaks flags that expect a file).
			if os.IsNotExist(statErr) {
				if err := os.MkdirAll(host, 0o755); err != nil {
					return fmt.Errorf("create hostPath %s: %w", v.HostPath.Path, err)
				}
			} else if t == corev1.HostPathDirectoryOrCreate && statErr == nil && !fi.IsDir() {
				return fail("directory")
			}
		case corev1.HostPathFileOrCreate:
			if os.IsNotExist(statErr) {
				if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
					return fmt.Errorf("create hostPath %s: %w", v.HostPath.Path, err)
				}
				f, err := os.OpenFile(host, os.O_CREATE|os.O_WRONLY, 0o644)
				if err != nil {
					return fmt.Errorf("create hostPath %s: %w", v.HostPath.Path, err)
				}
				f.Close()
			} else if statErr == nil && fi.IsDir() {
				return fail("file")
			}
		case corev1.HostPathDirectory:
			if statErr != nil || !fi.IsDir() {
				return fail("directory")
			}
		case corev1.HostPathFile:
			if statErr != nil || fi.IsDir() {
				return fail("file")
			}
		}
	}
	return nil
}

// flagValue returns the effective value of --name in argv (argv[0] the
// binary), read the way the component reads it: the same parser the
// checks use (cmdflags), so a repeated --secure-port is probed where the
// process really listens.
func flagValue(argv []string, name string) (string, bool) {
	return staticpod.ParseCommand(argv).Value(name)
}
