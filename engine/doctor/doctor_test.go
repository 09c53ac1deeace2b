package doctor

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func fakeEnv(files map[string]string, onPath []string, dockerUp bool) Env {
	return Env{
		Run: func(_ context.Context, name string, args ...string) ([]byte, error) {
			line := name + " " + strings.Join(args, " ")
			switch {
			case strings.HasPrefix(line, "docker info"):
				if dockerUp {
					return []byte("29.0.1\n"), nil
				}
				return []byte("Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\n"), errors.New("exit status 1")
			case strings.HasPrefix(line, "docker image inspect"):
				return nil, errors.New("no such image")
			case strings.HasSuffix(line, "env GOVERSION"):
				return []byte("go1.26.8\n"), nil
			}
			return nil, errors.New("unexpected " + line)
		},
		ReadFile: func(p string) ([]byte, error) {
			if v, ok := files[p]; ok {
				return []byte(v), nil
			}
			return nil, fs.ErrNotExist
		},
		LookPath: func(f string) (string, error) {
			for _, p := range onPath {
				if p == f {
					return "/usr/bin/" + f, nil
				}
			}
			return "", errors.New("not found")
		},
		FreeBytes:  func(string) (uint64, error) { return 50 << 30, nil },
		GOOS:       "linux",
		GOARCH:     "amd64",
		CacheDir:   "/c",
		NodeImage:  "kindest/node:v1@sha256:x",
		K8sVersion: "v1.37.2",
	}
}

func statusOf(r Report, name string) Check {
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	return Check{}
}

func TestDoctor(t *testing.T) {
	good := map[string]string{
		"/proc/sys/fs/inotify/max_user_watches":   "524288",
		"/proc/sys/fs/inotify/max_user_instances": "512",
		"/sys/fs/cgroup/cgroup.controllers":       "cpu memory",
		"/proc/meminfo":                           "MemTotal: 16000000 kB\nMemAvailable: 8000000 kB\n",
		"/sys/module/apparmor/parameters/enabled": "Y\n",
		"/sys/kernel/btf/vmlinux":                 "",
		"/c/bin/k8s-v1.37.2-linux-amd64/etcd":     "x", "/c/bin/k8s-v1.37.2-linux-amd64/kube-apiserver": "x",
		"/c/bin/k8s-v1.37.2-linux-amd64/kube-controller-manager": "x",
	}
	noDocker := map[string]string{"/proc/meminfo": "MemAvailable: 1000000 kB\n"}
	tests := []struct {
		name   string
		env    Env
		worst  Status
		expect map[string]Status
		fix    map[string]string
	}{
		{"all good", fakeEnv(good, []string{"docker", "kubectl", "go"}, true), Warn, // node image missing only
			map[string]Status{"container engine": Pass, "kind node image": Warn, "local backend": Pass, "AppArmor": Pass, "kernel BTF": Pass},
			map[string]string{"kind node image": "docker pull kindest/node:v1@sha256:x"}},
		{"no docker daemon, go present", fakeEnv(noDocker, []string{"docker", "go"}, false), Fail,
			map[string]Status{"container engine": Fail, "local backend": Pass, "kubectl": Warn, "free memory": Warn, "inotify max_user_watches": Warn},
			map[string]string{"container engine": "install Docker or use --backend local"}},
		{"nothing", fakeEnv(noDocker, nil, false), Fail,
			map[string]Status{"container engine": Fail, "local backend": Fail},
			map[string]string{"local backend": "install Go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(context.Background(), tt.env)
			if got := r.Worst(); got != tt.worst {
				t.Errorf("Worst = %s, want %s: %+v", got, tt.worst, r.Checks)
			}
			for name, want := range tt.expect {
				if got := statusOf(r, name); got.Status != want {
					t.Errorf("%s = %+v, want %s", name, got, want)
				}
			}
			for name, fix := range tt.fix {
				if got := statusOf(r, name).Fix; !strings.Contains(got, fix) {
					t.Errorf("%s fix = %q, want %q", name, got, fix)
				}
			}
			for _, c := range r.Checks {
				if c.Status != Pass && c.Fix == "" && !strings.HasPrefix(c.Message, "cannot") {
					t.Errorf("%s is %s without a fix", c.Name, c.Status)
				}
			}
		})
	}
	msg := statusOf(Run(context.Background(), fakeEnv(noDocker, []string{"docker"}, false)), "container engine").Message
	if !strings.Contains(msg, "docker info failed: Cannot connect to the Docker daemon") {
		t.Errorf("docker failure reason missing: %q", msg)
	}
}

// withRun answers some commands itself and passes the rest to env.Run.
func withRun(env Env, answers map[string]string) Env {
	inner := env.Run
	env.Run = func(ctx context.Context, name string, args ...string) ([]byte, error) {
		line := name + " " + strings.Join(args, " ")
		for prefix, out := range answers {
			if strings.HasPrefix(line, prefix) {
				if out == "ERR" {
					return []byte("Error: No such image"), errors.New("exit status 1")
				}
				return []byte(out), nil
			}
		}
		return inner(ctx, name, args...)
	}
	return env
}

func TestDoctorCgroupV1SaysWhatItDoes(t *testing.T) {
	files := map[string]string{"/sys/fs/cgroup/cgroup.controllers": "cpu memory"}
	// The engine's host runs cgroup v1 although this host has v2 (Docker in a VM).
	env := withRun(fakeEnv(files, []string{"docker"}, true), map[string]string{"docker info --format {{.CgroupVersion}}": "1\n"})
	c := statusOf(Run(context.Background(), env), "cgroup version")
	if c.Status != Warn || !strings.Contains(c.Message, "failCgroupV1: false") || !strings.Contains(c.Message, "SystemVerification") || !strings.Contains(c.Message, "docker's host") {
		t.Errorf("cgroup v1 check = %+v", c)
	}
	env = withRun(fakeEnv(map[string]string{}, []string{"docker"}, true), map[string]string{"docker info --format {{.CgroupVersion}}": "2\n"})
	if c := statusOf(Run(context.Background(), env), "cgroup version"); c.Status != Pass {
		t.Errorf("cgroup v2 engine host = %+v", c)
	}
	// No engine: this host's /sys decides.
	if c := statusOf(Run(context.Background(), fakeEnv(map[string]string{}, nil, false)), "cgroup version"); c.Status != Warn || !strings.Contains(c.Message, "this host") {
		t.Errorf("cgroup v1 host without engine = %+v", c)
	}
}

func TestDoctorLocalNodeImage(t *testing.T) {
	env := fakeEnv(map[string]string{}, []string{"docker"}, true)
	env.NodeImage = "ckslab.local/kind-node:v1.35.4-abc"
	present := withRun(env, map[string]string{"docker image inspect --format {{.Id}} ckslab.local/kind-node:v1.35.4-abc": "sha256:0123\n"})
	if c := statusOf(Run(context.Background(), present), "kind node image"); c.Status != Pass || !strings.Contains(c.Message, "sha256:0123") {
		t.Errorf("present local image = %+v", c)
	}
	missing := withRun(env, map[string]string{"docker image inspect": "ERR"})
	c := statusOf(Run(context.Background(), missing), "kind node image")
	if c.Status != Fail || !strings.Contains(c.Fix, "docker load") || strings.Contains(c.Fix, "pull") {
		t.Errorf("missing local image = %+v", c)
	}
}

func TestDoctorPrivilegedContainers(t *testing.T) {
	files := map[string]string{"/proc/sys/kernel/cap_last_cap": "40\n", "/proc/self/status": "Name:\tx\nCapBnd:\t000001fffeffffff\n"}
	env := fakeEnv(files, []string{"docker"}, true)
	c := statusOf(Run(context.Background(), withRun(env, map[string]string{"docker info --format {{.DefaultRuntime}}": "runc\n"})), "privileged containers")
	if c.Status != Warn || !strings.Contains(c.Message, "CAP_SYS_RESOURCE") || strings.Contains(c.Message, "CAP_SYS_ADMIN") || c.Fix == "" {
		t.Errorf("missing CAP_SYS_RESOURCE with plain runc = %+v", c)
	}
	c = statusOf(Run(context.Background(), withRun(env, map[string]string{"docker info --format {{.DefaultRuntime}}": "ckslab-runc\n"})), "privileged containers")
	if c.Status != Pass {
		t.Errorf("with the wrapper = %+v", c)
	}
	files["/proc/self/status"] = "CapBnd:\t000001ffffffffff\n"
	if c := statusOf(Run(context.Background(), env), "privileged containers"); c.Status != Pass {
		t.Errorf("complete bounding set = %+v", c)
	}
}
