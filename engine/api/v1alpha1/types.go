// Package v1alpha1 defines the ckslab.dev/v1alpha1 Scenario format: the YAML
// an instructor writes and the learner's lab sheet. Types only carry data;
// Validate (validate.go) reports every problem with its field path.
package v1alpha1

const (
	// APIVersion is the apiVersion every scenario of this format declares.
	APIVersion = "ckslab.dev/v1alpha1"
	// KindName is the kind every scenario declares.
	KindName = "Scenario"
)

// Scenario is one lab: a seeded misconfiguration, a task, and the checks that
// prove the learner fixed it.
type Scenario struct {
	// APIVersion is always ckslab.dev/v1alpha1.
	APIVersion string `json:"apiVersion" jsonschema:"enum=ckslab.dev/v1alpha1"`
	// Kind is always Scenario.
	Kind string `json:"kind" jsonschema:"enum=Scenario"`
	// Metadata names the scenario.
	Metadata Metadata `json:"metadata"`
	// Spec is the lab: task, setup, checks and solution.
	Spec Spec `json:"spec"`
}

// Metadata identifies the scenario.
type Metadata struct {
	// Name is the id a learner types: ckslab start <name>.
	Name string `json:"name" jsonschema:"pattern=^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"`
	// Labels are free-form key/value pairs for catalog tooling; ckslab does not
	// interpret them.
	Labels map[string]string `json:"labels,omitempty"`
}

// Spec is the lab itself: what the learner reads, what setup breaks, how the
// checks judge the fix and the reference solution that must pass them.
type Spec struct {
	// Title is the one-line name shown in lists and the TUI.
	Title string `json:"title"`
	// Domain is the CKS curriculum domain the scenario belongs to.
	Domain Domain `json:"domain"`
	// Competency is the id of the CKS curriculum competency this scenario
	// drills, one of the competencies of its domain (engine/curriculum;
	// `ckslab list --competencies` lists them), e.g. network-policies.
	Competency string `json:"competency"`
	// Difficulty is easy, medium or hard.
	Difficulty string `json:"difficulty" jsonschema:"enum=easy,enum=medium,enum=hard"`
	// Minutes is the suggested time; exam mode uses it for the budget.
	Minutes int `json:"minutes" jsonschema:"minimum=1,maximum=120"`
	// Requires lists the capabilities the backend must have to run and verify
	// this scenario honestly.
	Requires []Capability `json:"requires,omitempty"`
	// Cluster selects a cluster variant (kind config, node image) when the
	// default cluster is not enough.
	Cluster *ClusterVariant `json:"cluster,omitempty"`
	// Setup seeds the misconfiguration the learner has to fix; it runs on start
	// and after every reset.
	Setup []Operation `json:"setup,omitempty"`
	// Task is markdown shown to the learner.
	Task string `json:"task"`
	// Hints are revealed one at a time on request; each may cost points.
	Hints []Hint `json:"hints,omitempty"`
	// Checks are the objectives that score the learner's fix; every one must
	// fail on the seeded state and pass after Solution.
	Checks []Check `json:"checks"`
	// Solution is the reference fix: applied by ckslab solve and by validate, it
	// must make every check pass.
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
	// CRDs names third-party CRD bundles (istio) installed before setup on
	// every backend, from a pinned and checksummed release file; they stay
	// installed across resets, like an add-on.
	CRDs []string `json:"crds,omitempty" jsonschema:"enum=istio"`
}

// Hint is one hint a learner may reveal, at a cost in points.
type Hint struct {
	// Text is the hint, markdown.
	Text string `json:"text"`
	// Penalty is the number of points deducted when the hint is revealed.
	Penalty int `json:"penalty,omitempty" jsonschema:"minimum=0"`
}

// Domain is one of the six CKS curriculum domains.
type Domain string

// The six CKS domains, as spec.domain spells them.
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

// The capabilities, as spec.requires spells them.
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
	CapMesh             Capability = "mesh"               // a service mesh data plane (Istio sidecars/ztunnel, Cilium) really encrypts pod traffic; no backend provides it yet
	CapNodeServices     Capability = "node-services"      // the node is isolated and runs its own systemd: scenarios may add, start and judge its services and listeners (never the learner's host)
)

// AllCapabilities is every capability a scenario may name.
var AllCapabilities = []Capability{CapAPI, CapControlPlaneNode, CapEtcd, CapWorkloads, CapNetpol, CapGVisor, CapAppArmor, CapFalco, CapGatekeeper, CapPSP, CapHostCommands, CapMesh, CapNodeServices}

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

// ApplyOp server-side applies YAML, from a file of the scenario or inline.
// Exactly one of File and Manifest is set.
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
	// APIVersion of the object, e.g. v1, apps/v1, rbac.authorization.k8s.io/v1.
	APIVersion string `json:"apiVersion"`
	// Kind of the object, e.g. Pod, Deployment, ClusterRoleBinding.
	Kind string `json:"kind"`
	// Namespace of a namespaced object; empty for cluster-scoped kinds.
	Namespace string `json:"namespace,omitempty"`
	// Name of the object; leave empty and set Selector to match several.
	Name string `json:"name,omitempty"`
	// Selector is a label selector (kubectl syntax) used instead of Name.
	Selector string `json:"selector,omitempty"`
}

// PatchOp patches one object.
type PatchOp struct {
	// Resource is the object to patch.
	Resource ObjectRef `json:"resource"`
	// Type is merge (default), strategic or json.
	Type string `json:"type,omitempty" jsonschema:"enum=merge,enum=strategic,enum=json"`
	// Patch is the patch document (YAML or JSON) of the given Type.
	Patch string `json:"patch"`
}

// WaitOp polls an object until a CEL condition holds (or it exists, or it is
// deleted).
type WaitOp struct {
	// Resource is the object to wait for.
	Resource ObjectRef `json:"resource"`
	// For is a CEL expression over `object`; empty means "exists".
	For string `json:"for,omitempty"`
	// Timeout is a Go duration such as 90s or 2m (default 60s).
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

// NodeWriteFile writes one file on a node. Exactly one of Content and File is
// set.
type NodeWriteFile struct {
	// Path is the absolute path on the node.
	Path string `json:"path"`
	// Content is the file content, inline.
	Content string `json:"content,omitempty"`
	// File is relative to the scenario directory.
	File string `json:"file,omitempty"`
	// Mode is the octal permission, e.g. "0600" (default 0644).
	Mode string `json:"mode,omitempty"`
}

// NodeExec runs a command on a node (as root, not through a shell).
type NodeExec struct {
	// Command is the program and its arguments.
	Command []string `json:"command"`
	// Stdin is written to the command's standard input.
	Stdin string `json:"stdin,omitempty"`
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

// HostPathVolume is a host path mounted into a static pod at the same path.
type HostPathVolume struct {
	// Name of the volume and its mount in the pod spec.
	Name string `json:"name"`
	// Path on the host, mounted at the same path in the container.
	Path string `json:"path"`
	// Type is the hostPath type, e.g. Directory, File, DirectoryOrCreate.
	Type string `json:"type,omitempty"`
	// ReadOnly mounts the path read-only.
	ReadOnly bool `json:"readOnly,omitempty"`
}

// ImpersonateOp makes API requests as another user, e.g. to put events for
// that user into the audit log.
type ImpersonateOp struct {
	// User is the user name to impersonate.
	User string `json:"user"`
	// Groups to impersonate besides the user.
	Groups []string `json:"groups,omitempty"`
	// Requests made as that user; failures (e.g. 403) are expected and ignored.
	Requests []ImpersonatedRequest `json:"requests"`
}

// ImpersonatedRequest is one API request made while impersonating.
type ImpersonatedRequest struct {
	// Verb is get, list, create or delete.
	Verb string `json:"verb" jsonschema:"enum=get,enum=list,enum=create,enum=delete"`
	// Resource is the object the request is about.
	Resource ObjectRef `json:"resource"`
}

// Check is one objective. Exactly one check type is set.
type Check struct {
	// ID names the check in results and in guards' protects: lowercase letters,
	// digits and '-', unique in the scenario.
	ID string `json:"id"`
	// Objective is the sentence the learner sees for this check.
	Objective string `json:"objective"`
	// Weight is the points the check awards when it passes (default 1; guards
	// have none).
	Weight int `json:"weight,omitempty" jsonschema:"minimum=1"`
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

	// Assert holds a CEL expression over objects.
	Assert *AssertCheck `json:"assert,omitempty"`
	// Absent asserts no object matches.
	Absent *AbsentCheck `json:"absent,omitempty"`
	// CanI asks the API server whether a subject may make one request.
	CanI *CanICheck `json:"canI,omitempty"`
	// Admission dry-runs a create and judges whether admission lets it through.
	Admission *AdmissionCheck `json:"admission,omitempty"`
	// NodeFile judges a file on a node.
	NodeFile *NodeFileCheck `json:"nodeFile,omitempty"`
	// StaticPodFlag judges a control-plane component's flag, in its manifest and
	// in the running process.
	StaticPodFlag *StaticPodFlagCheck `json:"staticPodFlag,omitempty"`
	// AuditLog looks for an event in the API server's audit log.
	AuditLog *AuditLogCheck `json:"auditLog,omitempty"`
	// EtcdValue reads a raw etcd value (encryption at rest).
	EtcdValue *EtcdValueCheck `json:"etcdValue,omitempty"`
	// Rego evaluates a Rego policy against fixtures.
	Rego *RegoCheck `json:"rego,omitempty"`
	// Dockerfile lints a Dockerfile on a node.
	Dockerfile *DockerfileCheck `json:"dockerfile,omitempty"`
	// Connectivity makes a real connection from a pod.
	Connectivity *ConnectivityCheck `json:"connectivity,omitempty"`
	// Command runs a command on a node.
	Command *CommandCheck `json:"command,omitempty"`
	// AnswerFile judges a file with the learner's written answer.
	AnswerFile *AnswerFileCheck `json:"answerFile,omitempty"`
	// Access proves a subject has exactly the intended access and nothing more.
	Access *AccessCheck `json:"access,omitempty"`
	// NetpolEffect computes what the cluster's NetworkPolicies allow.
	NetpolEffect *NetpolEffectCheck `json:"netpolEffect,omitempty"`
	// EndpointProbe requests a component's own HTTPS endpoint and judges the
	// status code.
	EndpointProbe *EndpointProbeCheck `json:"endpointProbe,omitempty"`
	// PodExec runs a command in a running pod's container and judges its
	// exit status and output.
	PodExec *PodExecCheck `json:"podExec,omitempty"`
	// RuntimeHandler reads on the node the runtime handler a running pod
	// really got (e.g. runsc).
	RuntimeHandler *RuntimeHandlerCheck `json:"runtimeHandler,omitempty"`

	// Requires lists capabilities this check needs besides those its type
	// implies (podExec and runtimeHandler: workloads; connectivity:
	// workloads and netpol), e.g. gvisor. Where the backend lacks one, the
	// check is skipped as not judged here, with the reason; never passed.
	Requires []Capability `json:"requires,omitempty"`
}

// AssertCheck passes when the object(s) exist and a CEL expression over
// `object` holds.
// With a Selector (or no Name) the expression is evaluated per object and
// Mode says whether all (default) or any must hold; `objects` is also bound
// to the whole list.
type AssertCheck struct {
	// Resource selects the object (Name) or objects (Selector, or neither) the
	// expression judges.
	Resource ObjectRef `json:"resource"`
	// Expr is a CEL boolean expression over `object` (and `objects`, the whole
	// list).
	Expr string `json:"expr"`
	// Mode for several objects: all (default) must satisfy Expr, any one must,
	// or list evaluates Expr once with `objects` bound and `object` null.
	Mode string `json:"mode,omitempty" jsonschema:"enum=all,enum=any,enum=list"`
	// Message is a CEL string expression explaining a failure (optional).
	Message string `json:"message,omitempty"`
}

// AbsentCheck passes when no object matches (optionally: none for which Where
// holds).
type AbsentCheck struct {
	// Resource selects the objects that must not exist.
	Resource ObjectRef `json:"resource"`
	// Where is an optional CEL filter: only objects for which it holds count.
	Where string `json:"where,omitempty"`
}

// CanICheck is a SubjectAccessReview.
type CanICheck struct {
	// User is the user name asked about.
	User string `json:"user,omitempty"`
	// Groups the subject belongs to (alone, or with User).
	Groups []string `json:"groups,omitempty"`
	// ServiceAccount as namespace:name, instead of User.
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// Verb of the request, e.g. get, create, impersonate.
	Verb string `json:"verb"`
	// Resource as resource[.group][/subresource], e.g. secrets,
	// deployments.apps, pods/exec.
	Resource string `json:"resource"`
	// Name of one object, to ask about it only.
	Name string `json:"name,omitempty"`
	// Namespace of the request; empty asks about cluster scope.
	Namespace string `json:"namespace,omitempty"`
	// Expect is allowed or denied.
	Expect string `json:"expect" jsonschema:"enum=allowed,enum=denied"`
}

// AdmissionCheck does a server-side dry-run create.
type AdmissionCheck struct {
	// Namespace the object is dry-run created in (defaults objects without one).
	Namespace string `json:"namespace,omitempty"`
	// Manifest is the object to dry-run create, inline YAML.
	Manifest string `json:"manifest,omitempty"`
	// PodTemplateOf dry-runs the pod template of a workload as a Pod.
	PodTemplateOf *ObjectRef `json:"podTemplateOf,omitempty"`
	// Expect is allowed (admitted) or denied (rejected by admission).
	Expect string `json:"expect" jsonschema:"enum=allowed,enum=denied"`
	// MessageMatches is a regular expression the rejection message must match
	// (with expect: denied).
	MessageMatches string `json:"messageMatches,omitempty"`
	// RequireEnforce makes "admitted under <level>" mean what it says: the
	// probe's namespace must enforce at least this Pod Security level
	// (label pod-security.kubernetes.io/enforce), else the check fails,
	// because being admitted by a laxer namespace proves nothing.
	RequireEnforce string `json:"requireEnforce,omitempty" jsonschema:"enum=baseline,enum=restricted"`
}

// NodeFileCheck judges a file on a node: existence, content, parsed fields
// and permission bits.
type NodeFileCheck struct {
	// Node name; defaults to the control-plane node.
	Node string `json:"node,omitempty"`
	// Path is the absolute path of the file on the node.
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
	// Node name; defaults to the control-plane node.
	Node string `json:"node,omitempty"`
	// Component is kube-apiserver, etcd, kube-controller-manager or
	// kube-scheduler.
	Component string `json:"component"`
	// Flag is the flag name without leading dashes, e.g. authorization-mode.
	Flag string `json:"flag"`
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
	// Node name; defaults to the control-plane node.
	Node string `json:"node,omitempty"`
	// Path overrides the log path.
	Path string `json:"path,omitempty"`
	// Expr is CEL over `event` (one audit.k8s.io/v1 Event as a map).
	Expr string `json:"expr"`
	// Expect present (default) or absent.
	Expect string `json:"expect,omitempty" jsonschema:"enum=present,enum=absent"`
}

// EtcdValueCheck reads the raw value of an etcd key, e.g. to prove a Secret
// is encrypted at rest. At least one of HasPrefix and NotContains is set.
type EtcdValueCheck struct {
	// Key is the etcd key, e.g. /registry/secrets/default/db.
	Key string `json:"key"`
	// HasPrefix is what the stored value must start with, e.g.
	// k8s:enc:aescbc:v1: for an encrypted Secret.
	HasPrefix string `json:"hasPrefix,omitempty"`
	// NotContains is text that must not appear in the stored value (a secret in
	// clear text).
	NotContain string `json:"notContains,omitempty"`
}

// RegoCheck evaluates a Rego policy (usually the learner's file on the node)
// against fixtures and compares decisions.
type RegoCheck struct {
	// Node name; defaults to the control-plane node.
	Node string `json:"node,omitempty"`
	// PolicyPath is the policy file on the node.
	PolicyPath string `json:"policyPath"`
	// Query, e.g. data.kubernetes.admission.deny
	Query string `json:"query"`
	// Cases are the fixtures and the decision expected for each.
	Cases []RegoCase `json:"cases"`
}

// RegoCase is one fixture input and the decision the policy must reach for
// it.
type RegoCase struct {
	// Name of the case, shown in results.
	Name string `json:"name"`
	// Input is YAML/JSON for `input`.
	Input string `json:"input"`
	// ExpectDeny: the query yields a non-empty set (or true).
	ExpectDeny bool `json:"expectDeny"`
	// MessageMatches is a regex one of the deny messages must match.
	MessageMatches string `json:"messageMatches,omitempty"`
}

// DockerfileCheck lints a Dockerfile on a node against named rules.
type DockerfileCheck struct {
	// Node name; defaults to the control-plane node.
	Node string `json:"node,omitempty"`
	// Path is the absolute path of the Dockerfile on the node.
	Path string `json:"path"`
	// Rules: multiStage, nonRootUser, pinnedBase, noLatest, noAddURL, noSecretsInEnv, finalBase:<regex>
	Rules []string `json:"rules"`
}

// ConnectivityCheck really connects from every running pod From selects
// to one target and compares each outcome with Expect (needs pods that run
// and a CNI that enforces NetworkPolicy). Set exactly one target: To
// (host:port, e.g. a Service name), ToPods (every running pod selected, by
// its pod IP, on Port: ingress from a pod) or DNS (a name resolved through
// the pod's resolver, UDP 53).
type ConnectivityCheck struct {
	// From selects the pods the connection is made from.
	From PodRef `json:"from"`
	// To is host:port, e.g. db.team-b:5432 or 169.254.169.254:80.
	To string `json:"to,omitempty"`
	// ToPods selects destination pods, probed by pod IP on Port.
	ToPods *PodSelector `json:"toPods,omitempty"`
	// Port is the destination port with ToPods.
	Port int `json:"port,omitempty" jsonschema:"minimum=1,maximum=65535"`
	// DNS is a name to resolve from the pod, e.g.
	// kubernetes.default.svc.cluster.local (allowed: it resolves).
	DNS string `json:"dns,omitempty"`
	// Protocol is TCP (default: a handshake) or UDP (allowed: the target
	// answers a datagram; use dns for name resolution).
	Protocol string `json:"protocol,omitempty" jsonschema:"enum=TCP,enum=UDP"`
	// Expect is allowed (the connection succeeds) or blocked.
	Expect string `json:"expect" jsonschema:"enum=allowed,enum=blocked"`
}

// PodRef selects the pod a connection is made from: the first running pod
// matching Selector in Namespace.
type PodRef struct {
	// Namespace of the pod.
	Namespace string `json:"namespace"`
	// Selector is a label selector in kubectl syntax, e.g. app=web.
	Selector string `json:"selector"`
}

// CommandCheck runs a command on a node and judges its exit code and output.
type CommandCheck struct {
	// Node name; defaults to the control-plane node.
	Node string `json:"node,omitempty"`
	// Command is the program and its arguments (not run through a shell).
	Command []string `json:"command"`
	// ExitCode expected (default 0).
	ExitCode *int `json:"exitCode,omitempty"`
	// Matches is a regular expression the combined output must match.
	Matches string `json:"matches,omitempty"`
}

// AnswerFileCheck judges a file in which the learner writes an answer (one
// item a line), e.g. the names of the pods that run privileged.
type AnswerFileCheck struct {
	// Node name; defaults to the control-plane node.
	Node string `json:"node,omitempty"`
	// Path is the absolute path of the answer file on the node.
	Path string `json:"path"`
	// Answer lines expected (order-insensitive, whitespace-trimmed, case-insensitive).
	Expect []string `json:"expect,omitempty"`
	// Matches is a regex alternative to Expect.
	Matches string `json:"matches,omitempty"`
}
