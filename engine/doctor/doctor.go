// Package doctor checks whether this host can run ckslab labs, and says how
// to fix what it cannot. Every host access goes through Env so the checks are
// unit-tested with fakes.
package doctor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Status of one check; the order is pass < warn < fail.
type Status string

// The statuses of a finding, from best to worst.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

func (s Status) rank() int {
	switch s {
	case Fail:
		return 2
	case Warn:
		return 1
	}
	return 0
}

// Check is one line of the report.
type Check struct {
	Name    string `json:"name"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	// Fix is the remediation, empty on pass.
	Fix string `json:"fix,omitempty"`
}

// Report is the result of all checks.
type Report struct {
	Checks []Check `json:"checks"`
}

// Worst is the most severe status; the command exits non-zero only on Fail.
func (r Report) Worst() Status {
	w := Pass
	for _, c := range r.Checks {
		if c.Status.rank() > w.rank() {
			w = c.Status
		}
	}
	return w
}

// Env is the host as the checks see it.
type Env struct {
	// Run runs a command and returns combined output.
	Run      func(ctx context.Context, name string, args ...string) ([]byte, error)
	ReadFile func(path string) ([]byte, error)
	LookPath func(file string) (string, error)
	// FreeBytes returns the free space of the file system holding path.
	FreeBytes func(path string) (uint64, error)
	GOOS      string
	GOARCH    string
	// CacheDir is ckslab's cache root (~/.cache/ckslab).
	CacheDir string
	// NodeImage is the kind node image the kind backend uses.
	NodeImage string
	// K8sVersion is the local backend's Kubernetes version ("v1.37.2").
	K8sVersion string
}

// HostEnv is the real host. nodeImage and k8sVersion come from the backends.
func HostEnv(nodeImage, k8sVersion string) (Env, error) {
	cache := os.Getenv("CKSLAB_CACHE_DIR")
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return Env{}, fmt.Errorf("find the user cache dir: %w (set XDG_CACHE_HOME or HOME)", err)
		}
		cache = filepath.Join(dir, "ckslab")
	}
	return Env{
		Run: func(ctx context.Context, name string, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, name, args...).CombinedOutput()
		},
		ReadFile:   os.ReadFile,
		LookPath:   exec.LookPath,
		FreeBytes:  freeBytes,
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		CacheDir:   cache,
		NodeImage:  nodeImage,
		K8sVersion: k8sVersion,
	}, nil
}

// Run performs every check.
func Run(ctx context.Context, env Env) Report {
	var r Report
	engine, engineCheck := containerEngine(ctx, env)
	r.Checks = append(r.Checks, engineCheck, nodeImage(ctx, env, engine),
		inotify(env, "max_user_watches", 524288), inotify(env, "max_user_instances", 512),
		cgroup(ctx, env, engine), memory(env), disk(env), appArmor(env), btf(env), kubectl(env), localBackend(ctx, env))
	if engine == "docker" && env.GOOS == "linux" {
		r.Checks = append(r.Checks, privileged(ctx, env))
	}
	return r
}

// capabilityNames are the kernel's capability names by number (capability.h).
func capabilityNames() []string {
	return []string{"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
		"setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock",
		"ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot",
		"sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control",
		"setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon",
		"bpf", "checkpoint_restore"}
}

// ckslabRuntime is the runc wrapper hack/docker-engine.sh registers.
const ckslabRuntime = "ckslab-runc"

// privileged checks that Docker can run privileged containers (every kind
// node is one): runc asks for every capability the kernel knows, and fails
// with "unable to apply caps: operation not permitted" when the bounding set
// of this host (a VM or sandbox that dropped some) lacks one.
func privileged(ctx context.Context, env Env) Check {
	c := Check{Name: "privileged containers"}
	status, err := env.ReadFile("/proc/self/status")
	if err != nil {
		c.Status, c.Message = Warn, "cannot read /proc/self/status: "+err.Error()
		return c
	}
	last, err := readInt(env, "/proc/sys/kernel/cap_last_cap")
	if err != nil {
		c.Status, c.Message = Warn, "cannot read /proc/sys/kernel/cap_last_cap: "+err.Error()
		return c
	}
	var bnd uint64
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			if bnd, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64); err != nil {
				c.Status, c.Message = Warn, "cannot parse CapBnd in /proc/self/status: "+err.Error()
				return c
			}
		}
	}
	names := capabilityNames()
	var missing []string
	for i := int64(0); i <= last && i < 64; i++ {
		if bnd&(1<<uint(i)) == 0 {
			name := fmt.Sprintf("%d", i)
			if int(i) < len(names) {
				name = "CAP_" + strings.ToUpper(names[i])
			}
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		c.Status, c.Message = Pass, "the capability bounding set is complete"
		return c
	}
	out, _ := env.Run(ctx, "docker", "info", "--format", "{{.DefaultRuntime}}")
	if rt := firstLine(out); rt == ckslabRuntime {
		c.Status, c.Message = Pass, fmt.Sprintf("the bounding set lacks %s; dockerd's default runtime %s drops them", strings.Join(missing, ", "), rt)
		return c
	}
	c.Status = Warn
	c.Message = fmt.Sprintf("the capability bounding set lacks %s: `docker run --privileged` (every kind node) and `docker exec` into it fail with \"unable to apply caps\"", strings.Join(missing, ", "))
	c.Fix = "register a runc wrapper that removes them from config.json and exec process files as dockerd's default-runtime (hack/docker-engine.sh in a ckslab checkout does it), or use --backend local"
	return c
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// containerEngine returns the reachable engine CLI ("" if none).
func containerEngine(ctx context.Context, env Env) (string, Check) {
	c := Check{Name: "container engine"}
	var reasons []string
	for _, cli := range []string{"docker", "podman"} {
		if _, err := env.LookPath(cli); err != nil {
			continue
		}
		out, err := env.Run(ctx, cli, "info", "--format", "{{.ServerVersion}}")
		if cli == "podman" && err == nil {
			out, err = env.Run(ctx, cli, "info", "--format", "{{.Version.Version}}")
		}
		if err == nil {
			c.Status, c.Message = Pass, fmt.Sprintf("%s %s reachable (kind backend available)", cli, firstLine(out))
			return cli, c
		}
		reason := firstLine(out)
		if reason == "" {
			reason = err.Error()
		}
		reasons = append(reasons, fmt.Sprintf("%s info failed: %s", cli, reason))
	}
	c.Status = Fail
	if len(reasons) == 0 {
		c.Message = "neither docker nor podman is on PATH: the kind backend is unavailable"
	} else {
		c.Message = strings.Join(reasons, "; ") + ": the kind backend is unavailable"
	}
	c.Fix = "install Docker or use --backend local"
	return "", c
}

func nodeImage(ctx context.Context, env Env, engine string) Check {
	c := Check{Name: "kind node image"}
	if engine == "" {
		c.Status, c.Message, c.Fix = Warn, "not checked: no container engine", "install Docker or use --backend local"
		return c
	}
	if !strings.Contains(env.NodeImage, "@sha256:") {
		// A local image (CKSLAB_KIND_NODE_IMAGE): never pulled, pinned by its ID.
		out, err := env.Run(ctx, engine, "image", "inspect", "--format", "{{.Id}}", env.NodeImage)
		id := strings.TrimSpace(string(out))
		if err != nil || !strings.HasPrefix(id, "sha256:") {
			c.Status = Fail
			c.Message = "local node image " + env.NodeImage + " is not in " + engine + "'s image store; ckslab never pulls a node image that is not pinned by digest"
			c.Fix = engine + " load -i <node image tar> (or build one with hack/kind-node-image.sh in a ckslab checkout), or unset CKSLAB_KIND_NODE_IMAGE"
			return c
		}
		c.Status, c.Message = Pass, "local node image "+env.NodeImage+" present; clusters are created from its image ID "+id
		return c
	}
	if _, err := env.Run(ctx, engine, "image", "inspect", env.NodeImage); err != nil {
		c.Status, c.Message = Warn, env.NodeImage+" is not present; the first `ckslab start` downloads it (about 1 GB)"
		c.Fix = engine + " pull " + env.NodeImage
		return c
	}
	c.Status, c.Message = Pass, env.NodeImage+" present"
	return c
}

func readInt(env Env, path string) (int64, error) {
	b, err := env.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

func inotify(env Env, key string, minimum int64) Check {
	c := Check{Name: "inotify " + key}
	path := "/proc/sys/fs/inotify/" + key
	v, err := readInt(env, path)
	if err != nil {
		c.Status, c.Message = Warn, "cannot read "+path+": "+err.Error()
		return c
	}
	if v < minimum {
		c.Status = Warn
		c.Message = fmt.Sprintf("%d is below %d; kind nodes may fail with \"too many open files\"", v, minimum)
		c.Fix = fmt.Sprintf("sudo sysctl fs.inotify.%s=%d (persist in /etc/sysctl.d/99-ckslab.conf)", key, minimum)
		return c
	}
	c.Status, c.Message = Pass, strconv.FormatInt(v, 10)
	return c
}

// cgroup reports the cgroup version kind nodes get: the container engine's
// host's (it may run in a VM), else this host's.
func cgroup(ctx context.Context, env Env, engine string) Check {
	c := Check{Name: "cgroup version"}
	version, where := "", "this host"
	if engine != "" {
		format := "{{.CgroupVersion}}"
		if engine == "podman" {
			format = "{{.Host.CgroupsVersion}}"
		}
		if out, err := env.Run(ctx, engine, "info", "--format", format); err == nil {
			if v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v"); v == "1" || v == "2" {
				version, where = v, engine+"'s host"
			}
		}
	}
	if version == "" {
		version = "1"
		if _, err := env.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil {
			version = "2"
		}
	}
	if version == "2" {
		c.Status, c.Message = Pass, "cgroup v2 ("+where+")"
		return c
	}
	c.Status = Warn
	c.Message = "cgroup v1 (" + where + "): kind nodes get kubelet failCgroupV1: false and kubeadm's SystemVerification preflight ignored, " +
		"since kubelet ≥1.35 refuses cgroup v1 otherwise; cgroup v1 is deprecated upstream"
	c.Fix = "nothing needed for ckslab; for cgroup v2, boot with systemd.unified_cgroup_hierarchy=1"
	return c
}

func memory(env Env) Check {
	c := Check{Name: "free memory"}
	b, err := env.ReadFile("/proc/meminfo")
	if err != nil {
		c.Status, c.Message = Warn, "cannot read /proc/meminfo: "+err.Error()
		return c
	}
	var kib int64 = -1
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemAvailable:" {
			kib, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	if kib < 0 {
		c.Status, c.Message = Warn, "MemAvailable not reported"
		return c
	}
	gib := float64(kib) / (1 << 20)
	if gib < 4 {
		c.Status, c.Message = Warn, fmt.Sprintf("%.1f GiB available; a two-node kind cluster wants about 4 GiB", gib)
		c.Fix = "close other programs, or use --backend local (about 1 GiB)"
		return c
	}
	c.Status, c.Message = Pass, fmt.Sprintf("%.1f GiB available", gib)
	return c
}

func disk(env Env) Check {
	c := Check{Name: "free disk"}
	path := env.CacheDir
	for path != "" && path != string(filepath.Separator) {
		if _, err := os.Stat(path); err == nil {
			break
		}
		path = filepath.Dir(path)
	}
	free, err := env.FreeBytes(path)
	if err != nil {
		c.Status, c.Message = Warn, "cannot measure free space of "+path+": "+err.Error()
		return c
	}
	gib := float64(free) / (1 << 30)
	if gib < 10 {
		c.Status, c.Message = Warn, fmt.Sprintf("%.1f GiB free at %s; images and binaries need about 10 GiB", gib, path)
		c.Fix = "free disk space (docker system prune, go clean -cache)"
		return c
	}
	c.Status, c.Message = Pass, fmt.Sprintf("%.1f GiB free at %s", gib, path)
	return c
}

func appArmor(env Env) Check {
	c := Check{Name: "AppArmor"}
	if b, err := env.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil && strings.TrimSpace(string(b)) == "Y" {
		c.Status, c.Message = Pass, "enabled: apparmor scenarios available on kind"
		return c
	}
	c.Status, c.Message = Warn, "not enabled in the host kernel: apparmor scenarios are unavailable"
	c.Fix = "use a host with AppArmor (e.g. Ubuntu) for apparmor-* scenarios"
	return c
}

func btf(env Env) Check {
	c := Check{Name: "kernel BTF"}
	if _, err := env.ReadFile("/sys/kernel/btf/vmlinux"); err == nil {
		c.Status, c.Message = Pass, "present: Falco (modern_ebpf) scenarios available on kind"
		return c
	}
	c.Status, c.Message = Warn, "/sys/kernel/btf/vmlinux missing: Falco scenarios are unavailable"
	c.Fix = "use a kernel built with CONFIG_DEBUG_INFO_BTF (5.8+)"
	return c
}

func kubectl(env Env) Check {
	c := Check{Name: "kubectl"}
	if p, err := env.LookPath("kubectl"); err == nil {
		c.Status, c.Message = Pass, p
		return c
	}
	c.Status, c.Message = Warn, "kubectl is not on PATH: you will need it to solve labs"
	c.Fix = "install kubectl: https://kubernetes.io/docs/tasks/tools/"
	return c
}

// LocalBinaries are the binaries the local backend runs.
func LocalBinaries() []string { return []string{"etcd", "kube-apiserver", "kube-controller-manager"} }

func localBackend(ctx context.Context, env Env) Check {
	c := Check{Name: "local backend"}
	dir := filepath.Join(env.CacheDir, "bin", fmt.Sprintf("k8s-%s-%s-%s", env.K8sVersion, env.GOOS, env.GOARCH))
	var missing []string
	for _, b := range LocalBinaries() {
		if _, err := env.ReadFile(filepath.Join(dir, b)); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) == 0 {
		c.Status, c.Message = Pass, "binaries cached in "+dir
		return c
	}
	goPath, err := env.LookPath("go")
	if err != nil {
		c.Status = Fail
		c.Message = fmt.Sprintf("%s not cached in %s and no Go toolchain to build them", strings.Join(missing, ", "), dir)
		c.Fix = "install Go (https://go.dev/dl/) or copy prebuilt binaries into " + dir
		return c
	}
	version := "go"
	if out, err := env.Run(ctx, goPath, "env", "GOVERSION"); err == nil {
		version = firstLine(out)
	}
	c.Status = Pass
	c.Message = fmt.Sprintf("%s found; %s will be built into %s on first start (several minutes)", version, strings.Join(missing, ", "), dir)
	return c
}
