package v1alpha1

import (
	"strings"
	"testing"
)

func TestValidateEffectChecks(t *testing.T) {
	for name, tt := range map[string]struct {
		c    Check
		want string // "" = valid
	}{
		"access ok":            {Check{Access: &AccessCheck{ServiceAccount: "a:b", Allowed: []AccessRule{{Verbs: []string{"get"}, Resources: []string{"pods/log"}, Namespaces: []string{"a"}}}}}, ""},
		"access no subject":    {Check{Access: &AccessCheck{}}, "needs a subject"},
		"access wildcard verb": {Check{Access: &AccessCheck{User: "u", Allowed: []AccessRule{{Verbs: []string{"*"}, Resources: []string{"pods"}}}}}, "name each verb"},
		"access bad resource":  {Check{Access: &AccessCheck{User: "u", Allowed: []AccessRule{{Verbs: []string{"get"}, Resources: []string{"pods/a/b"}}}}}, "resource[.group][/subresource]"},
		"access bad sa":        {Check{Access: &AccessCheck{ServiceAccount: "nocolon"}}, "namespace:name"},
		"netpol ok":            {Check{NetpolEffect: &NetpolEffectCheck{Probes: []NetpolProbe{{From: NetpolPeer{Namespace: "a", Selector: "app in (web,api)"}, To: NetpolPeer{DNS: true}, Expect: "allowed"}}}}, ""},
		"netpol bad selector":  {Check{NetpolEffect: &NetpolEffectCheck{Probes: []NetpolProbe{{From: NetpolPeer{Namespace: "a", Selector: "app in web"}, To: NetpolPeer{IP: "1.2.3.4"}, Port: 80, Expect: "denied"}}}}, "not a label selector"},
		"netpol no port":       {Check{NetpolEffect: &NetpolEffectCheck{Probes: []NetpolProbe{{From: NetpolPeer{Namespace: "a"}, To: NetpolPeer{Namespace: "b"}, Expect: "denied"}}}}, "port"},
		"netpol dns as source": {Check{NetpolEffect: &NetpolEffectCheck{Probes: []NetpolProbe{{From: NetpolPeer{DNS: true}, To: NetpolPeer{Namespace: "b"}, Port: 1, Expect: "denied"}}}}, "only for the destination"},
		"netpol two ips":       {Check{NetpolEffect: &NetpolEffectCheck{Probes: []NetpolProbe{{From: NetpolPeer{IP: "1.1.1.1"}, To: NetpolPeer{IP: "2.2.2.2"}, Port: 1, Expect: "denied"}}}}, "outside the cluster"},
		"netpol bad expect":    {Check{NetpolEffect: &NetpolEffectCheck{Probes: []NetpolProbe{{From: NetpolPeer{Namespace: "a"}, To: NetpolPeer{Namespace: "b"}, Port: 1, Expect: "blocked"}}}}, "allowed or denied"},
		"endpoint ok":          {Check{EndpointProbe: &EndpointProbeCheck{Component: "kube-apiserver", Path: "/livez", ExpectStatus: []int{200}}}, ""},
		"endpoint both lists":  {Check{EndpointProbe: &EndpointProbeCheck{Component: "kube-apiserver", Path: "/livez", ExpectStatus: []int{200}, RejectStatus: []int{404}}}, "exactly one"},
		"endpoint etcd":        {Check{EndpointProbe: &EndpointProbeCheck{Component: "etcd", Path: "/health", ExpectStatus: []int{200}}}, "must be kube-apiserver"},
	} {
		e := &errs{}
		validateEffectCheck(e, "c", &tt.c)
		got := ""
		for _, fe := range e.list {
			got += fe.Error() + "; "
		}
		if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("%s: errors %q, want %q", name, got, tt.want)
		}
	}
}
