// Package v1alpha1 defines the ckslab.dev/v1alpha1 Scenario format: the YAML
// an instructor writes and the learner's lab sheet. Types only carry data;
// Validate (validate.go) reports every problem with its field path.
package v1alpha1

const (
	APIVersion = "ckslab.dev/v1alpha1"
	KindName   = "Scenario"
)

// Scenario is one lab: a seeded misconfiguration, a task, and the checks that
// prove the learner fixed it.
type Scenario struct {
	APIVersion string   `json:"apiVersion" jsonschema:"enum=ckslab.dev/v1alpha1"`
	Kind       string   `json:"kind" jsonschema:"enum=Scenario"`
	Metadata   Metadata `json:"metadata"`
	Spec       Spec     `json:"spec"`
}

type Metadata struct {
	// Name is the id a learner types: ckslab start <name>.
	Name   string            `json:"name" jsonschema:"pattern=^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"`
	Labels map[string]string `json:"labels,omitempty"`
}

type Spec struct {
	Title      string `json:"title"`
	Domain     Domain `json:"domain"`
	Competency string `json:"competency"`
	Difficulty string `json:"difficulty" jsonschema:"enum=easy,enum=medium,enum=hard"`
	// Minutes is the suggested time; exam mode uses it for the budget.
	Minutes int `json:"minutes" jsonschema:"minimum=1,maximum=120"`
	// Requires lists the capabilities the backend must have to run and verify
	// this scenario honestly.
	Requires []Capability `json:"requires,omitempty"`
	// Cluster selects a cluster variant (kind config, node image) when the
	// default cluster is not enough.
	Cluster *ClusterVariant `json:"cluster,omitempty"`
	Setup   []Operation     `json:"setup,omitempty"`
	// Task is markdown shown to the learner.
	Task     string      `json:"task"`
	Hints    []Hint      `json:"hints,omitempty"`
	Checks   []Check     `json:"checks"`
	Solution []Operation `json:"solution"`
	// Cleanup runs on reset after tracked objects are deleted and node files
	// restored; use it for what tracking cannot know about.
	Cleanup []Operation `json:"cleanup,omitempty"`
	// Why explains why this matters, shown after the lab is solved.
	Why string `json:"why,omitempty"`
	// Docs are links to the Kubernetes documentation for this topic.
	Docs []string `json:"docs,omitempty"`
}

// ClusterVariant asks for a non-default cluster.
type ClusterVariant struct {
	// KindConfig names a config in kindconfigs/ (without .yaml), e.g. "audit", "psp-legacy".
	KindConfig string `json:"kindConfig,omitempty"`
	// NodeImage overrides the kind node image (pin by digest).
	NodeImage string `json:"nodeImage,omitempty"`
	// Addons to install on demand (gatekeeper, gvisor, apparmor, falco).
	Addons []string `json:"addons,omitempty"`
}

type Hint struct {
	Text string `json:"text"`
	// Penalty is the number of points deducted when the hint is revealed.
	Penalty int `json:"penalty,omitempty" jsonschema:"minimum=0"`
}

// Domain is one of the six CKS curriculum domains.
type Domain string

const (
	DomainClusterSetup      Domain = "cluster-setup"
	DomainClusterHardening  Domain = "cluster-hardening"
	DomainSystemHardening   Domain = "system-hardening"
	DomainMicroservices     Domain = "minimize-microservice-vulnerabilities"
	DomainSupplyChain       Domain = "supply-chain-security"
	DomainMonitoringRuntime Domain = "monitoring-logging-runtime-security"
)

// Domains in curriculum order.
var Domains = []Domain{DomainClusterSetup, DomainClusterHardening, DomainSystemHardening, DomainMicroservices, DomainSupplyChain, DomainMonitoringRuntime}

// DomainTitle is the curriculum's wording of each domain.
func DomainTitle(d Domain) string {
	switch d {
	case DomainClusterSetup:
		return "Cluster Setup"
	case DomainClusterHardening:
		return "Cluster Hardening"
	case DomainSystemHardening:
		return "System Hardening"
	case DomainMicroservices:
		return "Minimize Microservice Vulnerabilities"
	case DomainSupplyChain:
		return "Supply Chain Security"
	case DomainMonitoringRuntime:
		return "Monitoring, Logging and Runtime Security"
	}
	return string(d)
}

// Capability is something a backend can provide and a scenario may require.
type Capability string

const (
	CapAPI              Capability = "api"                // a real kube-apiserver with RBAC, admission, controllers
	CapControlPlaneNode Capability = "control-plane-node" // kubeadm-style control-plane files; static pod edits restart components
	CapEtcd             Capability = "etcd"               // raw reads of etcd keys
	CapWorkloads        Capability = "workloads"          // pods actually run; exec into them
	CapNetpol           Capability = "netpol"             // NetworkPolicy enforced by the CNI
	CapGVisor           Capability = "gvisor"             // runsc runtime handler on nodes
	CapAppArmor         Capability = "apparmor"           // AppArmor enabled on nodes
	CapFalco            Capability = "falco"              // Falco can run (kernel support)
	CapGatekeeper       Capability = "gatekeeper"         // OPA Gatekeeper installable
	CapPSP              Capability = "psp"                // the removed PodSecurityPolicy API (v1.24 node image)
	CapHostCommands     Capability = "host-commands"      // operations/checks run commands on the learner's host
)

// AllCapabilities is every capability a scenario may name.
var AllCapabilities = []Capability{CapAPI, CapControlPlaneNode, CapEtcd, CapWorkloads, CapNetpol, CapGVisor, CapAppArmor, CapFalco, CapGatekeeper, CapPSP, CapHostCommands}

// Operation is one step of setup, solution or cleanup. Exactly one field is set.
type Operation struct {
	// Apply server-side applies one or more YAML documents.
	Apply *ApplyOp `json:"apply,omitempty"`
	// Delete removes objects (missing objects are not an error).
	Delete *ObjectRef `json:"delete,omitempty"`
	// Patch patches one object.
	Patch *PatchOp `json:"patch,omitempty"`
	// Kubectl runs kubectl with the lab kubeconfig, exactly as a learner would type it
	// (without the leading "kubectl").
	Kubectl string `json:"kubectl,omitempty"`
	// Wait polls until a CEL condition holds on an object.
	Wait *WaitOp `json:"wait,omitempty"`
	// Node acts on a cluster node's files or processes.
	Node *NodeOp `json:"node,omitempty"`
	// Impersonate makes API requests as another user (e.g. to produce audit events).
	Impersonate *ImpersonateOp `json:"impersonate,omitempty"`
}

type ApplyOp struct {
	// File is relative to the scenario directory.
	File string `json:"file,omitempty"`
	// Manifest is inline YAML (may hold several documents).
	Manifest string `json:"manifest,omitempty"`
	// Namespace defaults namespaced objects without one.
	Namespace string `json:"namespace,omitempty"`
}

// ObjectRef names one object, or with Selector, several of one kind.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
	// Selector is a label selector (kubectl syntax) used instead of Name.
	Selector string `json:"selector,omitempty"`
}

type PatchOp struct {
	Resource ObjectRef `json:"resource"`
	// Type is merge (default), strategic or json.
	Type  string `json:"type,omitempty" jsonschema:"enum=merge,enum=strategic,enum=json"`
	Patch string `json:"patch"`
}

type WaitOp struct {
	Resource ObjectRef `json:"resource"`
	// For is a CEL expression over `object`; empty means "exists".
	For     string `json:"for,omitempty"`
	Timeout string `json:"timeout,omitempty"`
	// Deleted waits for the object to disappear instead.
	Deleted bool `json:"deleted,omitempty"`
}

// NodeOp acts on a node. Exactly one action is set.
type NodeOp struct {
	// Node name; defaults to the control-plane node.
	Name string `json:"name,omitempty"`
	// WriteFile writes a file on the node (backed up first so reset restores it).
	WriteFile *NodeWriteFile `json:"writeFile,omitempty"`
	// Exec runs a command on the node.
	Exec *NodeExec `json:"exec,omitempty"`
	// EditManifest edits a static pod manifest in /etc/kubernetes/manifests.
	EditManifest *EditManifest `json:"editManifest,omitempty"`
	// Remove deletes a file on the node (backed up first).
	Remove string `json:"remove,omitempty"`
	// WaitComponent waits until a static pod component is running and healthy.
	WaitHealthy string `json:"waitHealthy,omitempty"`
}

type NodeWriteFile struct {
	Path    string `json:"path"`
	Content string `json:"content,omitempty"`
	// File is relative to the scenario directory.
	File string `json:"file,omitempty"`
	Mode string `json:"mode,omitempty"`
}

type NodeExec struct {
	Command []string `json:"command"`
	Stdin   string   `json:"stdin,omitempty"`
}

// EditManifest changes a static pod manifest the way a learner would with an editor.
type EditManifest struct {
	// Component is the manifest's base name: kube-apiserver, etcd, kube-controller-manager, kube-scheduler.
	Component string `json:"component"`
	// SetFlags sets --key=value on the first container's command (replacing an existing value).
	SetFlags map[string]string `json:"setFlags,omitempty"`
	// RemoveFlags removes --key (any value).
	RemoveFlags []string `json:"removeFlags,omitempty"`
	// AddHostPathVolumes mounts host paths into the component (name -> path; same path in the container).
	AddHostPathVolumes []HostPathVolume `json:"addHostPathVolumes,omitempty"`
	// Wait for the component to be healthy again afterwards (default true).
	Wait *bool `json:"wait,omitempty"`
}

type HostPathVolume struct {
	Name     string `json:"name"`
	Path     string `json:"path"`
	Type     string `json:"type,omitempty"`
	ReadOnly bool   `json:"readOnly,omitempty"`
}

type ImpersonateOp struct {
	User   string   `json:"user"`
	Groups []string `json:"groups,omitempty"`
	// Requests made as that user; failures (e.g. 403) are expected and ignored.
	Requests []ImpersonatedRequest `json:"requests"`
}

type ImpersonatedRequest struct {
	Verb     string    `json:"verb" jsonschema:"enum=get,enum=list,enum=create,enum=delete"`
	Resource ObjectRef `json:"resource"`
}

// Check is one objective. Exactly one check type is set.
type Check struct {
	ID        string `json:"id"`
	Objective string `json:"objective"`
	Weight    int    `json:"weight,omitempty" jsonschema:"minimum=1"`
	// Timeout lets the check poll until state converges (default: no polling).
	Timeout string `json:"timeout,omitempty"`
	// Guard marks an objective that is already true before the learner
	// starts and must stay true ("the app still runs", "the other binding
	// is kept"). A guard awards no points and counts in no maximum; when it
	// fails, every check it protects scores 0.
	Guard bool `json:"guard,omitempty"`
	// Protects names the scored (non-guard) checks whose points a failed
	// guard cancels; empty means every scored check. Only for guards.
	Protects []string `json:"protects,omitempty"`

	Assert        *AssertCheck        `json:"assert,omitempty"`
	Absent        *AbsentCheck        `json:"absent,omitempty"`
	CanI          *CanICheck          `json:"canI,omitempty"`
	Admission     *AdmissionCheck     `json:"admission,omitempty"`
	NodeFile      *NodeFileCheck      `json:"nodeFile,omitempty"`
	StaticPodFlag *StaticPodFlagCheck `json:"staticPodFlag,omitempty"`
	AuditLog      *AuditLogCheck      `json:"auditLog,omitempty"`
	EtcdValue     *EtcdValueCheck     `json:"etcdValue,omitempty"`
	Rego          *RegoCheck          `json:"rego,omitempty"`
	Dockerfile    *DockerfileCheck    `json:"dockerfile,omitempty"`
	Connectivity  *ConnectivityCheck  `json:"connectivity,omitempty"`
	Command       *CommandCheck       `json:"command,omitempty"`
	AnswerFile    *AnswerFileCheck    `json:"answerFile,omitempty"`
	Access        *AccessCheck        `json:"access,omitempty"`
	NetpolEffect  *NetpolEffectCheck  `json:"netpolEffect,omitempty"`
	EndpointProbe *EndpointProbeCheck `json:"endpointProbe,omitempty"`
}

// AssertCheck: object(s) exist and a CEL expression over `object` holds.
// With a Selector (or no Name) the expression is evaluated per object and
// Mode says whether all (default) or any must hold; `objects` is also bound
// to the whole list.
type AssertCheck struct {
	Resource ObjectRef `json:"resource"`
	Expr     string    `json:"expr"`
	Mode     string    `json:"mode,omitempty" jsonschema:"enum=all,enum=any,enum=list"`
	// Message is a CEL string expression explaining a failure (optional).
	Message string `json:"message,omitempty"`
}

type AbsentCheck struct {
	Resource ObjectRef `json:"resource"`
	// Where is an optional CEL filter: only objects for which it holds count.
	Where string `json:"where,omitempty"`
}

// CanICheck is a SubjectAccessReview.
type CanICheck struct {
	User           string   `json:"user,omitempty"`
	Groups         []string `json:"groups,omitempty"`
	ServiceAccount string   `json:"serviceAccount,omitempty"` // namespace:name
	Verb           string   `json:"verb"`
	Resource       string   `json:"resource"` // e.g. secrets, deployments.apps, pods/exec
	Name           string   `json:"name,omitempty"`
	Namespace      string   `json:"namespace,omitempty"`
	Expect         string   `json:"expect" jsonschema:"enum=allowed,enum=denied"`
}

// AdmissionCheck does a server-side dry-run create.
type AdmissionCheck struct {
	Namespace string `json:"namespace,omitempty"`
	Manifest  string `json:"manifest,omitempty"`
	// PodTemplateOf dry-runs the pod template of a workload as a Pod.
	PodTemplateOf  *ObjectRef `json:"podTemplateOf,omitempty"`
	Expect         string     `json:"expect" jsonschema:"enum=allowed,enum=denied"`
	MessageMatches string     `json:"messageMatches,omitempty"`
	// RequireEnforce makes "admitted under <level>" mean what it says: the
	// probe's namespace must enforce at least this Pod Security level
	// (label pod-security.kubernetes.io/enforce), else the check fails,
	// because being admitted by a laxer namespace proves nothing.
	RequireEnforce string `json:"requireEnforce,omitempty" jsonschema:"enum=baseline,enum=restricted"`
}

type NodeFileCheck struct {
	Node string `json:"node,omitempty"`
	Path string `json:"path"`
	// Exists false asserts the file is absent.
	Exists *bool `json:"exists,omitempty"`
	// Matches is a regular expression the content must match.
	Matches string `json:"matches,omitempty"`
	// NotMatches must not match.
	NotMatches string `json:"notMatches,omitempty"`
	// Expr is CEL over `object`, the file parsed as YAML/JSON.
	Expr string `json:"expr,omitempty"`
	// Mode asserts permission bits are no wider than this (e.g. "0600").
	MaxMode string `json:"maxMode,omitempty"`
}

// StaticPodFlagCheck asserts a flag in the static pod manifest AND in the
// running component's command line.
type StaticPodFlagCheck struct {
	Node      string `json:"node,omitempty"`
	Component string `json:"component"`
	Flag      string `json:"flag"`
	// Present false asserts the flag is absent.
	Present *bool `json:"present,omitempty"`
	// Value must equal the flag's value (exact).
	Value string `json:"value,omitempty"`
	// Contains: the value is a comma list that must contain this item.
	Contains string `json:"contains,omitempty"`
	// NotContains: the comma list must not contain this item.
	NotContains string `json:"notContains,omitempty"`
	// Matches: regular expression the value must match.
	Matches string `json:"matches,omitempty"`
}

// AuditLogCheck reads the real audit log (path taken from --audit-log-path).
type AuditLogCheck struct {
	Node string `json:"node,omitempty"`
	// Path overrides the log path.
	Path string `json:"path,omitempty"`
	// Expr is CEL over `event` (one audit.k8s.io/v1 Event as a map).
	Expr string `json:"expr"`
	// Expect present (default) or absent.
	Expect string `json:"expect,omitempty" jsonschema:"enum=present,enum=absent"`
}

type EtcdValueCheck struct {
	Key        string `json:"key"`
	HasPrefix  string `json:"hasPrefix,omitempty"`
	NotContain string `json:"notContains,omitempty"`
}

// RegoCheck evaluates a Rego policy (usually the learner's file on the node)
// against fixtures and compares decisions.
type RegoCheck struct {
	Node string `json:"node,omitempty"`
	// PolicyPath is the policy file on the node.
	PolicyPath string `json:"policyPath"`
	// Query, e.g. data.kubernetes.admission.deny
	Query string     `json:"query"`
	Cases []RegoCase `json:"cases"`
}

type RegoCase struct {
	Name string `json:"name"`
	// Input is YAML/JSON for `input`.
	Input string `json:"input"`
	// ExpectDeny: the query yields a non-empty set (or true).
	ExpectDeny bool `json:"expectDeny"`
	// MessageMatches is a regex one of the deny messages must match.
	MessageMatches string `json:"messageMatches,omitempty"`
}

type DockerfileCheck struct {
	Node string `json:"node,omitempty"`
	Path string `json:"path"`
	// Rules: multiStage, nonRootUser, pinnedBase, noLatest, noAddURL, noSecretsInEnv, finalBase:<regex>
	Rules []string `json:"rules"`
}

type ConnectivityCheck struct {
	From   PodRef `json:"from"`
	To     string `json:"to"` // host:port or service.namespace:port
	Expect string `json:"expect" jsonschema:"enum=allowed,enum=blocked"`
}

type PodRef struct {
	Namespace string `json:"namespace"`
	Selector  string `json:"selector"`
}

type CommandCheck struct {
	Node    string   `json:"node,omitempty"`
	Command []string `json:"command"`
	// ExitCode expected (default 0).
	ExitCode *int   `json:"exitCode,omitempty"`
	Matches  string `json:"matches,omitempty"`
}

type AnswerFileCheck struct {
	Node string `json:"node,omitempty"`
	Path string `json:"path"`
	// Answer lines expected (order-insensitive, whitespace-trimmed, case-insensitive).
	Expect []string `json:"expect,omitempty"`
	// Matches is a regex alternative to Expect.
	Matches string `json:"matches,omitempty"`
}
