package staticpod

import (
	"encoding/csv"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Kind is how repeated occurrences of a flag combine.
type Kind int

const (
	// Scalar flags: the last occurrence wins.
	Scalar Kind = iota
	// Bool flags are like Scalar; a bare --flag means true; only --flag=v sets a value.
	Bool
	// Slice (pflag StringSlice): each occurrence is CSV; occurrences append.
	Slice
	// Array (pflag StringArray): each occurrence is one item; occurrences append.
	Array
	// Map flags: each occurrence is k=v[,k=v]; keys merge, the last value wins.
	Map
)

// Dialect is the flag library a program parses with.
type Dialect int

const (
	// PFlag is spf13/pflag with Kubernetes' normalisation (the kube-* components).
	PFlag Dialect = iota
	// GoFlag is Go's standard flag package (etcd).
	GoFlag
)

// Program describes how one binary reads its flags.
type Program struct {
	Name    string
	Dialect Dialect
	kinds   map[string]Kind
}

// Kind returns how the program combines occurrences of flag name.
// Flags it does not know are scalars.
func (p Program) Kind(name string) Kind {
	if k, ok := p.kinds[p.normalize(name)]; ok {
		return k
	}
	return Scalar
}

func (p Program) normalize(name string) string {
	name = strings.TrimLeft(name, "-")
	if p.Dialect == PFlag {
		name = strings.ReplaceAll(name, "_", "-")
	}
	return name
}

// KubeAPIServer is how kube-apiserver reads its flags.
func KubeAPIServer() Program {
	return pflagProgram("kube-apiserver",
		[]string{
			"allow-privileged", "anonymous-auth", "enable-aggregator-routing", "aggregator-reject-forwarding-redirect",
			"enable-bootstrap-token-auth", "enable-garbage-collector", "enable-priority-and-fairness", "enable-logs-handler",
			"service-account-lookup", "service-account-extend-token-expiration", "audit-log-compress",
			"audit-log-truncate-enabled", "audit-webhook-truncate-enabled", "watch-cache",
			"encryption-provider-config-automatic-reload", "shutdown-send-retry-after", "disable-http2-serving",
			"emulation-forward-compatible", "runtime-config-emulation-forward-compatible", "enable-admission-plugins-strict",
			"oidc-username-claim-required", "storage-initialization-wait", "enable-coordinated-leader-election",
		},
		[]string{
			"enable-admission-plugins", "disable-admission-plugins", "admission-control", "authorization-mode",
			"api-audiences", "cors-allowed-origins", "etcd-servers", "etcd-servers-overrides", "watch-cache-sizes",
			"kubelet-preferred-address-types", "strict-transport-security-directives", "oidc-signing-algs",
			"oidc-groups-claim-list",
		},
		[]string{"service-account-issuer", "service-account-key-file"},
		[]string{"runtime-config", "oidc-required-claim"},
	)
}

// KubeControllerManager is how kube-controller-manager reads its flags.
func KubeControllerManager() Program {
	return pflagProgram("kube-controller-manager",
		[]string{
			"allocate-node-cidrs", "configure-cloud-routes", "enable-dynamic-provisioning", "enable-garbage-collector",
			"enable-hostpath-provisioner", "use-service-account-credentials", "disable-attach-detach-reconcile-sync",
			"disable-force-detach-on-timeout", "enable-taint-manager",
		},
		[]string{"controllers", "cluster-cidr-list"},
		nil, nil,
	)
}

// KubeScheduler is how kube-scheduler reads its flags.
func KubeScheduler() Program {
	return pflagProgram("kube-scheduler", nil, nil, nil, nil)
}

// Etcd is how etcd reads its flags (Go's flag package).
func Etcd() Program {
	p := Program{Name: "etcd", Dialect: GoFlag, kinds: map[string]Kind{}}
	for _, b := range []string{
		"client-cert-auth", "peer-client-cert-auth", "auto-tls", "peer-auto-tls", "enable-pprof",
		"strict-reconfig-check", "force-new-cluster", "debug", "enable-grpc-gateway", "socket-reuse-port",
		"socket-reuse-address", "pre-vote", "experimental-initial-corrupt-check", "experimental-enable-lease-checkpoint",
		"experimental-peer-skip-client-san-verification", "experimental-enable-distributed-tracing",
		"experimental-memory-mlock", "enable-log-rotation", "version", "help", "unsafe-no-fsync",
	} {
		p.kinds[b] = Bool
	}
	// Go's flag.Var values (URL lists, cipher suites) replace on each Set:
	// scalars. Only --feature-gates merges.
	p.kinds["feature-gates"] = Map
	return p
}

func pflagProgram(name string, bools, slices, arrays, maps []string) Program {
	// Flags shared by every kube-* component (component-base, generic
	// apiserver serving, delegated authn/authz, logging, metrics, leader
	// election).
	commonBools := []string{
		"profiling", "contention-profiling", "permit-port-sharing", "permit-address-sharing",
		"log-json-split-stream", "log-text-split-stream", "version", "help",
		"authentication-skip-lookup", "authentication-tolerate-lookup-failure",
		"leader-elect", "enable-leader-migration",
	}
	commonSlices := []string{
		"tls-cipher-suites", "requestheader-allowed-names", "requestheader-extra-headers-prefix",
		"requestheader-group-headers", "requestheader-username-headers", "requestheader-uid-headers",
		"authorization-always-allow-paths", "disabled-metrics",
	}
	commonArrays := []string{"tls-sni-cert-key"}
	commonMaps := []string{"feature-gates", "allow-metric-labels"}
	p := Program{Name: name, Dialect: PFlag, kinds: map[string]Kind{}}
	add := func(k Kind, lists ...[]string) {
		for _, l := range lists {
			for _, f := range l {
				p.kinds[f] = k
			}
		}
	}
	add(Bool, commonBools, bools)
	add(Slice, commonSlices, slices)
	add(Array, commonArrays, arrays)
	add(Map, commonMaps, maps)
	return p
}

// For returns the program a command line runs, from its first element
// (the binary, any directory): etcd reads Go flags, everything else pflag.
// An unknown binary gets the kube-apiserver table, which shares its
// generic flags with every kube-* component.
func For(argv0 string) Program {
	switch path.Base(argv0) {
	case "etcd":
		return Etcd()
	case "kube-controller-manager":
		return KubeControllerManager()
	case "kube-scheduler":
		return KubeScheduler()
	}
	return KubeAPIServer()
}

// Occurrence is one appearance of a flag on the command line.
type Occurrence struct {
	// Index of the argument that names the flag; Span is how many
	// arguments it uses (2 for "--flag value").
	Index, Span int
	// Raw is the value as written ("" with HasValue false for a bare flag).
	Raw      string
	HasValue bool
}

// Parsed is a command line as the program reads it.
type Parsed struct {
	Program Program
	occ     map[string][]Occurrence
	order   []string
	// Args are the positional arguments (the components take none: any is
	// a startup error, also listed in Errors).
	Args []string
	// Errors are what the program would refuse to start with.
	Errors []string
}

// Parse reads argv (argv[0] is the binary when it does not start with
// "-") as prog does.
func Parse(argv []string, prog Program) *Parsed {
	p := &Parsed{Program: prog, occ: map[string][]Occurrence{}}
	i := 0
	if len(argv) > 0 && !strings.HasPrefix(argv[0], "-") {
		i = 1
	}
	record := func(name string, o Occurrence) {
		if _, seen := p.occ[name]; !seen {
			p.order = append(p.order, name)
		}
		p.occ[name] = append(p.occ[name], o)
	}
	for i < len(argv) {
		a := argv[i]
		if len(a) < 2 || a[0] != '-' {
			if prog.Dialect == GoFlag {
				// Go's flag package stops at the first non-flag argument.
				p.Args = append(p.Args, argv[i:]...)
				break
			}
			p.Args = append(p.Args, a)
			i++
			continue
		}
		if a == "--" {
			p.Args = append(p.Args, argv[i+1:]...)
			break
		}
		var body string
		switch {
		case strings.HasPrefix(a, "--"):
			body = a[2:]
		case prog.Dialect == GoFlag:
			body = a[1:]
		default:
			// pflag shorthand: the kube components only define -v (klog verbosity) and -h.
			sh := a[1:2]
			if sh != "v" && sh != "h" {
				p.Errors = append(p.Errors, fmt.Sprintf("unknown shorthand flag: '%s' in %s", sh, a))
				i++
				continue
			}
			rest := a[2:]
			name := "v"
			if sh == "h" {
				name = "help"
			}
			o := Occurrence{Index: i, Span: 1}
			switch {
			case strings.HasPrefix(rest, "="):
				o.Raw, o.HasValue = rest[1:], true
			case rest != "":
				o.Raw, o.HasValue = rest, true
			case name == "v" && i+1 < len(argv):
				o.Raw, o.HasValue, o.Span = argv[i+1], true, 2
			}
			record(name, o)
			i += o.Span
			continue
		}
		if body == "" || body[0] == '-' || body[0] == '=' {
			p.Errors = append(p.Errors, fmt.Sprintf("bad flag syntax: %s", a))
			i++
			continue
		}
		name, val, hasVal := strings.Cut(body, "=")
		name = prog.normalize(name)
		o := Occurrence{Index: i, Span: 1, Raw: val, HasValue: hasVal}
		if !hasVal && prog.Kind(name) != Bool {
			if i+1 < len(argv) {
				o.Raw, o.HasValue, o.Span = argv[i+1], true, 2
			} else {
				p.Errors = append(p.Errors, fmt.Sprintf("flag needs an argument: --%s", name))
			}
		}
		record(name, o)
		i += o.Span
	}
	nonEmpty := false
	for _, a := range p.Args {
		nonEmpty = nonEmpty || a != ""
	}
	if nonEmpty && prog.Dialect == PFlag {
		p.Errors = append(p.Errors, fmt.Sprintf("%q does not take any arguments, got %q", prog.Name, p.Args))
	} else if len(p.Args) > 0 && prog.Dialect == GoFlag {
		p.Errors = append(p.Errors, fmt.Sprintf("%q is not a valid flag", p.Args[0]))
	}
	for _, name := range p.order {
		if _, err := p.value(name); err != nil {
			p.Errors = append(p.Errors, err.Error())
		}
	}
	return p
}

// ParseCommand parses a command line with the program its first element names.
func ParseCommand(argv []string) *Parsed {
	first := ""
	if len(argv) > 0 {
		first = argv[0]
	}
	return Parse(argv, For(first))
}

// Names lists the flags given, in order of first appearance.
func (p *Parsed) Names() []string { return append([]string(nil), p.order...) }

// Occurrences returns every appearance of a flag.
func (p *Parsed) Occurrences(name string) []Occurrence {
	return p.occ[p.Program.normalize(name)]
}

// Has reports whether the flag is given at all.
func (p *Parsed) Has(name string) bool { return len(p.Occurrences(name)) > 0 }

// Value returns the effective value: the last occurrence of a scalar, a
// bool as "true"/"false", a list joined with ",", a map as k=v pairs
// joined with "," in order of first appearance.
func (p *Parsed) Value(name string) (string, bool) {
	name = p.Program.normalize(name)
	if !p.Has(name) {
		return "", false
	}
	v, err := p.value(name)
	if err != nil {
		// An invalid bool: show what was written; Errors says why it fails.
		occ := p.occ[name]
		return occ[len(occ)-1].Raw, true
	}
	return v, true
}

// List returns the effective items of a flag: the list of a Slice/Array,
// the k=v pairs of a Map, and for a scalar its value split on commas.
func (p *Parsed) List(name string) []string {
	name = p.Program.normalize(name)
	occ := p.occ[name]
	if len(occ) == 0 {
		return nil
	}
	switch p.Program.Kind(name) {
	case Slice:
		var out []string
		for _, o := range occ {
			items, _ := readCSV(o.Raw)
			out = append(out, items...)
		}
		return out
	case Array:
		var out []string
		for _, o := range occ {
			out = append(out, o.Raw)
		}
		return out
	case Map:
		keys, vals, _ := mergeMap(occ)
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = k + "=" + vals[k]
		}
		return out
	}
	v, _ := p.Value(name)
	if v == "" {
		return nil
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func (p *Parsed) value(name string) (string, error) {
	occ := p.occ[name]
	last := occ[len(occ)-1]
	switch p.Program.Kind(name) {
	case Bool:
		for _, o := range occ {
			if o.HasValue {
				if _, err := strconv.ParseBool(o.Raw); err != nil {
					return "", fmt.Errorf("invalid argument %q for \"--%s\" flag: strconv.ParseBool: parsing %q: invalid syntax", o.Raw, name, o.Raw)
				}
			}
		}
		if !last.HasValue {
			return "true", nil
		}
		b, _ := strconv.ParseBool(last.Raw)
		return strconv.FormatBool(b), nil
	case Slice:
		for _, o := range occ {
			if _, err := readCSV(o.Raw); err != nil {
				return "", fmt.Errorf("invalid argument %q for \"--%s\" flag: %v", o.Raw, name, err)
			}
		}
		return strings.Join(p.List(name), ","), nil
	case Array:
		return strings.Join(p.List(name), ","), nil
	case Map:
		if _, _, err := mergeMap(occ); err != nil {
			return "", fmt.Errorf("invalid argument for \"--%s\" flag: %v", name, err)
		}
		return strings.Join(p.List(name), ","), nil
	}
	return last.Raw, nil
}

func readCSV(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	r := csv.NewReader(strings.NewReader(s))
	return r.Read()
}

func mergeMap(occ []Occurrence) ([]string, map[string]string, error) {
	var keys []string
	vals := map[string]string{}
	for _, o := range occ {
		for _, kv := range strings.Split(o.Raw, ",") {
			kv = strings.TrimSpace(kv)
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, nil, fmt.Errorf("missing bool value for %s", kv)
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if _, seen := vals[k]; !seen {
				keys = append(keys, k)
			}
			vals[k] = v
		}
	}
	return keys, vals, nil
}

// SetFlag returns argv with every occurrence of flag replaced by one
// "--flag=value" where the first occurrence stood (appended when absent),
// so the effective value is exactly value.
func SetFlag(argv []string, flag, value string) []string {
	p := ParseCommand(argv)
	name := p.Program.normalize(flag)
	occ := p.occ[name]
	if len(occ) == 0 {
		return append(append([]string(nil), argv...), "--"+name+"="+value)
	}
	drop := spans(occ)
	out := make([]string, 0, len(argv))
	for i, a := range argv {
		if i == occ[0].Index {
			out = append(out, "--"+name+"="+value)
			continue
		}
		if !drop[i] {
			out = append(out, a)
		}
	}
	return out
}

// RemoveFlag returns argv without any occurrence of flag (and the values they use).
func RemoveFlag(argv []string, flag string) []string {
	p := ParseCommand(argv)
	drop := spans(p.occ[p.Program.normalize(flag)])
	out := make([]string, 0, len(argv))
	for i, a := range argv {
		if !drop[i] {
			out = append(out, a)
		}
	}
	return out
}

func spans(occ []Occurrence) map[int]bool {
	drop := map[int]bool{}
	for _, o := range occ {
		for j := 0; j < o.Span; j++ {
			drop[o.Index+j] = true
		}
	}
	return drop
}

// FlagValue returns the effective value of --flag in a command line, as
// the binary named by cmd[0] reads it: the last occurrence of a scalar,
// "true" for a bare bool flag, the appended items of a list flag.
func FlagValue(cmd []string, flag string) (string, bool) {
	return ParseCommand(cmd).Value(flag)
}

// FlagList returns the effective items of a list flag (a scalar split on
// commas).
func FlagList(cmd []string, flag string) []string {
	return ParseCommand(cmd).List(flag)
}
