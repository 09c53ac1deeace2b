package local

import "testing"

// TestFlagValueIsEffective: the supervisor probes the port a component
// really listens on. A first-occurrence reader probed 6443 here while
// kube-apiserver listens on 7443 (pflag: the last --secure-port wins).
func TestFlagValueIsEffective(t *testing.T) {
	for _, tt := range []struct {
		argv       []string
		flag, want string
	}{
		{[]string{"kube-apiserver", "--secure-port=6443", "--secure-port=7443"}, "secure-port", "7443"},
		{[]string{"kube-apiserver", "--secure-port", "6443", "--secure_port=7443"}, "secure-port", "7443"},
		{[]string{"etcd", "--listen-client-urls=https://127.0.0.1:2379", "--listen-client-urls", "https://127.0.0.1:3379"}, "listen-client-urls", "https://127.0.0.1:3379"},
	} {
		if v, _ := flagValue(tt.argv, tt.flag); v != tt.want {
			t.Errorf("flagValue(%q, %s) = %q, want %q", tt.argv, tt.flag, v, tt.want)
		}
	}
}
