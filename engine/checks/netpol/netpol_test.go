package netpol

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

func policies(t *testing.T, docs string) []networkingv1.NetworkPolicy {
	t.Helper()
	var out []networkingv1.NetworkPolicy
	for _, d := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(d) == "" {
			continue
		}
		var np networkingv1.NetworkPolicy
		if err := yaml.UnmarshalStrict([]byte(d), &np); err != nil {
			t.Fatalf("policy: %v\n%s", err, d)
		}
		out = append(out, np)
	}
	return out
}

var (
	web   = &Pod{Namespace: "team-a", Name: "web", Labels: map[string]string{"app": "web", "tier": "front"}, IP: "10.0.1.5", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}
	other = &Pod{Namespace: "team-a", Name: "other", Labels: map[string]string{"app": "other"}, IP: "10.0.1.6"}
	db    = &Pod{Namespace: "team-b", Name: "db", Labels: map[string]string{"app": "db"}, IP: "10.0.2.7", Ports: []corev1.ContainerPort{{Name: "pg", ContainerPort: 5432}, {Name: "metrics", ContainerPort: 9187}}}
	dbC   = &Pod{Namespace: "team-c", Name: "db", Labels: map[string]string{"app": "db"}, IP: "10.0.3.7"}
	dns   = func() *Pod { p := DNSPod(); return &p }()
)

var namespaces = map[string]map[string]string{
	"team-a":      {"team": "a", "env": "prod"},
	"team-b":      {"team": "b", "env": "prod"},
	"team-c":      {"team": "c", "env": "dev"},
	"kube-system": {},
}

func tr(from, to *Pod, port int, proto corev1.Protocol) Traffic {
	return Traffic{From: Endpoint{Pod: from}, To: Endpoint{Pod: to}, Port: port, Protocol: proto}
}

func ext(from *Pod, ip string, port int) Traffic {
	return Traffic{From: Endpoint{Pod: from}, To: Endpoint{IP: ip}, Port: port}
}

const denyAllB = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: team-b}
spec: {podSelector: {}}
`

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name     string
		policies string
		traffic  Traffic
		want     bool
		allowBy  string // a policy that must be in Ingress/Egress.AllowedBy
	}{
		{"no policy: everything allowed", "", tr(web, db, 5432, ""), true, ""},
		{"empty podSelector, no rules: ingress denied", denyAllB, tr(web, db, 5432, ""), false, ""},
		{"ingress-only deny leaves egress open", denyAllB, tr(db, web, 8080, ""), true, ""},
		{"policyTypes Egress with no egress rules denies egress", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: team-a}
spec: {podSelector: {}, policyTypes: [Egress]}
`, tr(web, db, 5432, ""), false, ""},
		{"additive: a second policy allows what the first isolates", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: team-b}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: a}}
      podSelector: {matchLabels: {app: web}}
    ports: [{port: 5432}]
`, tr(web, db, 5432, ""), true, "team-b/allow-web"},
		{"namespaceSelector AND podSelector in one peer: other pod of the namespace denied", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: team-b}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: a}}
      podSelector: {matchLabels: {app: web}}
`, tr(other, db, 5432, ""), false, ""},
		{"two peers are OR: namespaceSelector alone admits every pod of team-a", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: team-b}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: a}}
    - podSelector: {matchLabels: {app: web}}
`, tr(other, db, 5432, ""), true, "team-b/allow-web"},
		{"podSelector alone means the policy's namespace only", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: team-b}
spec:
  podSelector: {}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
`, tr(web, db, 5432, ""), false, ""},
		{"matchExpressions in and the metadata.name label", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-exprs, namespace: team-b}
spec:
  podSelector: {matchExpressions: [{key: app, operator: In, values: [db, cache]}]}
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [team-a]}]}
      podSelector: {matchExpressions: [{key: tier, operator: Exists}]}
`, tr(web, db, 5432, ""), true, "team-b/allow-exprs"},
		{"matchExpressions NotIn excludes", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-not-web, namespace: team-b}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [web]}]}}]}]
`, tr(web, db, 5432, ""), false, ""},
		{"empty namespaceSelector is every namespace", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all-ns, namespace: team-b}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {}}]}]
`, tr(other, db, 1234, ""), true, "team-b/allow-all-ns"},
		{"port mismatch", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-5432, namespace: team-b}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 5432}]}]
`, tr(web, db, 9187, ""), false, ""},
		{"protocol defaults to TCP: UDP is not allowed", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-5432, namespace: team-b}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 5432}]}]
`, tr(web, db, 5432, corev1.ProtocolUDP), false, ""},
		{"named port resolves on the destination pod", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-pg, namespace: team-b}
spec:
  podSelector: {}
  ingress: [{ports: [{port: pg}]}]
`, tr(web, db, 5432, ""), true, "team-b/allow-pg"},
		{"named port does not match another number", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-pg, namespace: team-b}
spec:
  podSelector: {}
  ingress: [{ports: [{port: pg}]}]
`, tr(web, db, 9187, ""), false, ""},
		{"endPort range includes", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-range, namespace: team-b}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 5000, endPort: 6000}]}]
`, tr(web, db, 5432, ""), true, "team-b/allow-range"},
		{"endPort range excludes", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-range, namespace: team-b}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 5000, endPort: 5400}]}]
`, tr(web, db, 5432, ""), false, ""},
		{"protocol only: every port of that protocol", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-tcp, namespace: team-b}
spec:
  podSelector: {}
  ingress: [{ports: [{protocol: TCP}]}]
`, tr(web, db, 1, ""), true, "team-b/allow-tcp"},
		{"ipBlock matches the pod IP minus except", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-cidr, namespace: team-b}
spec:
  podSelector: {}
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.6/32]}}]}]
`, tr(web, db, 5432, ""), true, "team-b/allow-cidr"},
		{"ipBlock except wins", denyAllB + `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-cidr, namespace: team-b}
spec:
  podSelector: {}
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.6/32]}}]}]
`, tr(other, db, 5432, ""), false, ""},
		{"egress to metadata IP blocked by except", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-metadata, namespace: team-a}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]}]
`, ext(web, "169.254.169.254", 80), false, ""},
		{"egress elsewhere allowed by the same policy", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-metadata, namespace: team-a}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]}]
`, ext(web, "1.1.1.1", 443), true, "team-a/no-metadata"},
		{"a pod selector peer never matches an outside address", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: pods-only, namespace: team-a}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {}}]}]
`, ext(web, "1.1.1.1", 443), false, ""},
		{"egress AND ingress both needed: egress denied at the source", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: team-a}
spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all-in, namespace: team-b}
spec: {podSelector: {}, ingress: [{}]}
`, tr(web, db, 5432, ""), false, ""},
		{"egress defaulted from rules: egress present means Egress type", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-db, namespace: team-a}
spec:
  podSelector: {}
  egress: [{to: [{namespaceSelector: {matchLabels: {team: b}}}]}]
`, tr(web, dbC, 5432, ""), false, ""},
		{"DNS egress on 53/UDP to kube-dns", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns, namespace: team-a}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
`, tr(web, dns, 53, corev1.ProtocolUDP), true, "team-a/dns"},
		{"DNS by named port dns", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns, namespace: team-a}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ports: [{port: dns, protocol: UDP}]}]
`, tr(web, dns, 53, corev1.ProtocolUDP), true, "team-a/dns"},
		{"DNS over TCP only allowed does not give UDP", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns, namespace: team-a}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ports: [{port: 53}]}]
`, tr(web, dns, 53, corev1.ProtocolUDP), false, ""},
		{"policy of another namespace does not isolate", `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: team-c}
spec: {podSelector: {}}
`, tr(web, db, 5432, ""), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Model{Policies: policies(t, tt.policies), Namespaces: namespaces}
			v, err := m.Evaluate(tt.traffic)
			if err != nil {
				t.Fatal(err)
			}
			if v.Allowed != tt.want {
				t.Fatalf("%s: allowed=%v, want %v\n%s\n%s", tt.traffic, v.Allowed, tt.want, v.Egress.Explain("egress", tt.traffic.From), v.Ingress.Explain("ingress", tt.traffic.To))
			}
			if tt.allowBy != "" && !contains(v.Ingress.AllowedBy, tt.allowBy) && !contains(v.Egress.AllowedBy, tt.allowBy) {
				t.Fatalf("%s not named as allowing: egress %v ingress %v", tt.allowBy, v.Egress.AllowedBy, v.Ingress.AllowedBy)
			}
		})
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestEvaluateRejectsBadPolicies(t *testing.T) {
	m := &Model{Policies: policies(t, denyAllB+`---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: team-b}
spec:
  podSelector: {}
  ingress: [{from: [{ipBlock: {cidr: not-a-cidr}}]}]
`), Namespaces: namespaces}
	if _, err := m.Evaluate(tr(web, db, 5432, "")); err == nil || !strings.Contains(err.Error(), "team-b/bad") {
		t.Fatalf("want an error naming team-b/bad, got %v", err)
	}
}
