package v1alpha1

import (
	"strings"
	"testing"
)

func TestValidateBehaviourChecks(t *testing.T) {
	one := 1
	from := PodRef{Namespace: "a", Selector: "app=web"}
	for name, tt := range map[string]struct {
		c    Check
		want string // "" = valid
	}{
		"exec ok":            {Check{PodExec: &PodExecCheck{Namespace: "a", Selector: "app=web", Command: []string{"touch", "/x"}, ExitNonZero: true, StderrMatches: "Read-only"}}, ""},
		"exec by name":       {Check{PodExec: &PodExecCheck{Namespace: "a", Name: "p", Container: "c", Command: []string{"id", "-u"}, StdoutMatches: "^101$"}}, ""},
		"exec no command":    {Check{PodExec: &PodExecCheck{Namespace: "a", Name: "p"}}, "command: is required"},
		"exec no pods":       {Check{PodExec: &PodExecCheck{Namespace: "a", Command: []string{"true"}}}, "set selector or name"},
		"exec both pods":     {Check{PodExec: &PodExecCheck{Namespace: "a", Name: "p", Selector: "x=y", Command: []string{"true"}}}, "not both"},
		"exec bad selector":  {Check{PodExec: &PodExecCheck{Namespace: "a", Selector: "app in web", Command: []string{"true"}}}, "not a label selector"},
		"exec code and fail": {Check{PodExec: &PodExecCheck{Namespace: "a", Name: "p", Command: []string{"true"}, ExitCode: &one, ExitNonZero: true}}, "exitCode or exitNonZero"},
		"exec bad regexp":    {Check{PodExec: &PodExecCheck{Namespace: "a", Name: "p", Command: []string{"true"}, StdoutNotMatches: "("}}, "stdoutNotMatches: invalid regular expression"},
		"exec no namespace":  {Check{PodExec: &PodExecCheck{Name: "p", Command: []string{"true"}}}, "namespace: is required"},
		"handler ok":         {Check{RuntimeHandler: &RuntimeHandlerCheck{Namespace: "a", Selector: "app=web", Handler: "runsc"}}, ""},
		"handler missing":    {Check{RuntimeHandler: &RuntimeHandlerCheck{Namespace: "a", Selector: "app=web"}}, "handler: is required"},
		"conn to ok":         {Check{Connectivity: &ConnectivityCheck{From: from, To: "db.b:5432", Expect: "blocked"}}, ""},
		"conn udp ok":        {Check{Connectivity: &ConnectivityCheck{From: from, To: "10.96.0.10:53", Protocol: "UDP", Expect: "allowed"}}, ""},
		"conn pods ok":       {Check{Connectivity: &ConnectivityCheck{From: from, ToPods: &PodSelector{Namespace: "b", Selector: "app=db"}, Port: 5432, Expect: "allowed"}}, ""},
		"conn dns ok":        {Check{Connectivity: &ConnectivityCheck{From: from, DNS: "kubernetes.default", Expect: "allowed"}}, ""},
		"conn two targets":   {Check{Connectivity: &ConnectivityCheck{From: from, To: "db:1", DNS: "x", Expect: "allowed"}}, "exactly one of to"},
		"conn no target":     {Check{Connectivity: &ConnectivityCheck{From: from, Expect: "allowed"}}, "exactly one of to"},
		"conn pods no port":  {Check{Connectivity: &ConnectivityCheck{From: from, ToPods: &PodSelector{Namespace: "b"}, Expect: "allowed"}}, "port: is required with toPods"},
		"conn to bad port":   {Check{Connectivity: &ConnectivityCheck{From: from, To: "db:http", Expect: "allowed"}}, "must be host:port"},
		"conn dns with port": {Check{Connectivity: &ConnectivityCheck{From: from, DNS: "x", Port: 53, Expect: "allowed"}}, "set no port or protocol"},
		"conn bad protocol":  {Check{Connectivity: &ConnectivityCheck{From: from, To: "db:1", Protocol: "SCTP", Expect: "allowed"}}, "TCP or UDP"},
		"conn bad expect":    {Check{Connectivity: &ConnectivityCheck{From: from, To: "db:1", Expect: "denied"}}, "allowed or blocked"},
		"conn no from":       {Check{Connectivity: &ConnectivityCheck{To: "db:1", Expect: "allowed"}}, "namespace and selector are required"},
	} {
		e := &errs{}
		validateBehaviourCheck(e, "c", &tt.c)
		got := ""
		for _, fe := range e.list {
			got += fe.Error() + "; "
		}
		if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("%s: errors %q, want %q", name, got, tt.want)
		}
	}
}

// requires is metadata, not a check type; a behaviour check cannot be a
// guard; unknown capabilities are refused.
func TestCheckRequires(t *testing.T) {
	for _, n := range CheckTypes() {
		if n == "requires" {
			t.Fatal("CheckTypes lists requires")
		}
	}
	exec := Check{ID: "ro", Objective: "o", Requires: []Capability{CapGVisor},
		PodExec: &PodExecCheck{Namespace: "a", Name: "p", Command: []string{"dmesg"}, StdoutMatches: "gVisor"}}
	if errs := guardScenario(exec).Validate(); len(errs) > 0 {
		t.Fatalf("valid behaviour check refused: %v", errs)
	}
	bad := exec
	bad.Requires = []Capability{"gpu"}
	if errs := guardScenario(bad).Validate(); len(errs) != 1 || errs[0].Path != "spec.checks[0].requires[0]" || !strings.Contains(errs[0].Message, `unknown capability "gpu"`) {
		t.Fatalf("unknown capability: %v", errs)
	}
	g := exec
	g.ID, g.Guard = "still-serves", true
	errs := guardScenario(g, nsCheck("a")).Validate()
	if len(errs) != 1 || errs[0].Path != "spec.checks[0].guard" || !strings.Contains(errs[0].Message, "cannot be a guard") {
		t.Fatalf("behaviour guard: %v", errs)
	}
	if got := exec.ImpliedRequires(); len(got) != 1 || got[0] != CapWorkloads {
		t.Fatalf("podExec implies %v", got)
	}
}
