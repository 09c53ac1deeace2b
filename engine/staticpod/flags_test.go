package staticpod

import (
	"reflect"
	"strings"
	"testing"
)

// TestEffectiveValue: the value a component really runs with, per pflag
// (kube-*) and Go flag (etcd) semantics. Every row with more than one
// occurrence disagrees with a first-occurrence reader (the old parser).
func TestEffectiveValue(t *testing.T) {
	tests := []struct {
		name    string
		argv    []string
		flag    string
		want    string
		present bool
		errSub  string // a startup error the component would report
	}{
		{"last scalar wins", []string{"kube-apiserver", "--audit-log-path=/a", "--audit-log-path=/b"}, "audit-log-path", "/b", true, ""},
		{"learner adds false above the seeded true: still on", []string{"kube-apiserver", "--profiling=false", "--profiling=true"}, "profiling", "true", true, ""},
		{"false appended below the seeded true: off", []string{"kube-apiserver", "--profiling=true", "--profiling=false"}, "profiling", "false", true, ""},
		{"bare bool is true", []string{"kube-apiserver", "--anonymous-auth=false", "--anonymous-auth"}, "anonymous-auth", "true", true, ""},
		{"bool value normalised", []string{"kube-apiserver", "--profiling=0"}, "profiling", "false", true, ""},
		{"bool with space value leaves a positional", []string{"kube-apiserver", "--profiling", "false"}, "profiling", "true", true, "does not take any arguments"},
		{"invalid bool", []string{"kube-apiserver", "--profiling=nope"}, "profiling", "nope", true, "ParseBool"},
		{"scalar space form", []string{"kube-apiserver", "--secure-port", "7443"}, "secure-port", "7443", true, ""},
		{"scalar takes next arg even if it looks like a flag", []string{"kube-apiserver", "--audit-log-path", "--profiling=false"}, "audit-log-path", "--profiling=false", true, ""},
		{"...so that profiling is not set", []string{"kube-apiserver", "--audit-log-path", "--profiling=false"}, "profiling", "", false, ""},
		{"slice flags append", []string{"kube-apiserver", "--enable-admission-plugins=NodeRestriction", "--enable-admission-plugins=PodSecurity,AlwaysPullImages"}, "enable-admission-plugins", "NodeRestriction,PodSecurity,AlwaysPullImages", true, ""},
		{"authorization-mode appends", []string{"kube-apiserver", "--authorization-mode=Node,RBAC", "--authorization-mode=AlwaysAllow"}, "authorization-mode", "Node,RBAC,AlwaysAllow", true, ""},
		{"array flags append whole", []string{"kube-apiserver", "--service-account-key-file=/a,b", "--service-account-key-file=/c"}, "service-account-key-file", "/a,b,/c", true, ""},
		{"map flags merge, last key wins", []string{"kube-apiserver", "--feature-gates=A=true,B=true", "--feature-gates=A=false"}, "feature-gates", "A=false,B=true", true, ""},
		{"underscore is dash", []string{"kube-apiserver", "--profiling=true", "--profiling=false", "--enable_admission_plugins=X"}, "enable-admission-plugins", "X", true, ""},
		{"missing value", []string{"kube-apiserver", "--audit-log-path"}, "audit-log-path", "", true, "needs an argument"},
		{"single-dash long flag is an error", []string{"kube-apiserver", "-profiling=false"}, "profiling", "", false, "unknown shorthand"},
		{"-v shorthand", []string{"kube-apiserver", "-v=4", "--v", "2"}, "v", "2", true, ""},
		{"double dash ends flags", []string{"kube-apiserver", "--", "--profiling=false"}, "profiling", "", false, "does not take any arguments"},
		{"etcd last wins", []string{"etcd", "--client-cert-auth=false", "--client-cert-auth=true"}, "client-cert-auth", "true", true, ""},
		{"etcd single dash", []string{"etcd", "-client-cert-auth"}, "client-cert-auth", "true", true, ""},
		{"etcd list flags replace", []string{"etcd", "--listen-client-urls=https://a:2379", "--listen-client-urls", "https://b:2379"}, "listen-client-urls", "https://b:2379", true, ""},
		{"etcd stops at first positional", []string{"etcd", "--client-cert-auth", "false", "--cert-file=/x"}, "cert-file", "", false, "not a valid flag"},
		{"scheduler profiling", []string{"/usr/local/bin/kube-scheduler", "--profiling", "--profiling=false"}, "profiling", "false", true, ""},
		{"no binary element", []string{"--profiling=true", "--profiling=false"}, "profiling", "false", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ParseCommand(tt.argv)
			got, ok := p.Value(tt.flag)
			if got != tt.want || ok != tt.present {
				t.Fatalf("Value(%s) = %q, %v; want %q, %v", tt.flag, got, ok, tt.want, tt.present)
			}
			errs := strings.Join(p.Errors, "; ")
			if tt.errSub == "" && errs != "" {
				t.Fatalf("unexpected errors: %s", errs)
			}
			if !strings.Contains(errs, tt.errSub) {
				t.Fatalf("errors %q do not mention %q", errs, tt.errSub)
			}
		})
	}
}

func TestList(t *testing.T) {
	p := ParseCommand([]string{"kube-apiserver", "--enable-admission-plugins=A,B", "--enable-admission-plugins=C", "--tls-min-version=VersionTLS12", "--audit-log-path=/x,y"})
	if got := p.List("enable-admission-plugins"); !reflect.DeepEqual(got, []string{"A", "B", "C"}) {
		t.Fatalf("slice list %q", got)
	}
	if got := p.List("audit-log-path"); !reflect.DeepEqual(got, []string{"/x", "y"}) {
		t.Fatalf("scalar list %q", got)
	}
	if got := p.List("nope"); got != nil {
		t.Fatalf("absent list %q", got)
	}
}

func TestSetRemove(t *testing.T) {
	cmd := []string{"kube-apiserver", "--profiling=false", "--secure-port", "6443", "--anonymous-auth", "--profiling=true", "--audit-log-path", "/a"}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"set replaces the first and drops the others", SetFlag(cmd, "profiling", "false"), []string{"kube-apiserver", "--profiling=false", "--secure-port", "6443", "--anonymous-auth", "--audit-log-path", "/a"}},
		{"set the space form", SetFlag(cmd, "secure-port", "7443"), []string{"kube-apiserver", "--profiling=false", "--secure-port=7443", "--anonymous-auth", "--profiling=true", "--audit-log-path", "/a"}},
		{"set a bare bool", SetFlag(cmd, "anonymous-auth", "false"), []string{"kube-apiserver", "--profiling=false", "--secure-port", "6443", "--anonymous-auth=false", "--profiling=true", "--audit-log-path", "/a"}},
		{"set appends", SetFlag(cmd, "v", "2"), append(append([]string(nil), cmd...), "--v=2")},
		{"remove every occurrence", RemoveFlag(cmd, "profiling"), []string{"kube-apiserver", "--secure-port", "6443", "--anonymous-auth", "--audit-log-path", "/a"}},
		{"remove a bare bool keeps the next flag", RemoveFlag(cmd, "anonymous-auth"), []string{"kube-apiserver", "--profiling=false", "--secure-port", "6443", "--profiling=true", "--audit-log-path", "/a"}},
		{"remove with its value", RemoveFlag(cmd, "audit-log-path"), []string{"kube-apiserver", "--profiling=false", "--secure-port", "6443", "--anonymous-auth", "--profiling=true"}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, tt.got, tt.want)
		}
	}
	if v, _ := ParseCommand(SetFlag(cmd, "profiling", "false")).Value("profiling"); v != "false" {
		t.Fatalf("after Set, profiling = %q", v)
	}
}
