// Package staticpod reads and edits kubeadm static pod manifests and the
// command lines of the control-plane components they run, the way the
// kubelet and each component do: scenario operations (engine/ops), checks
// and CEL (engine/checks, engine/celx) and the local backend's kubelet
// (engine/cluster/local) all use it, so they agree on every spelling.
//
// Manifests (decoded YAML, as CEL sees it): the effective value of a flag
// of the first container, and which volume serves a container path.
// Equivalent spellings (a file mount, its directory, a parent directory; a
// flag repeated) get the same answer.
//
// Flags: a component's command line is read as the component itself reads
// it, so checks judge the value it really runs with.
//
// kube-apiserver, kube-controller-manager and kube-scheduler parse with
// spf13/pflag (through cobra, with Kubernetes' word-separator
// normalisation: "_" in a name is "-"): a scalar flag given twice keeps
// the LAST value; a StringSlice flag splits each occurrence as CSV and
// APPENDS them (the first occurrence replaces the default); a StringArray
// flag appends each occurrence whole; a map flag (--feature-gates,
// --runtime-config) merges key=value pairs, later keys winning. A bool flag
// alone (--profiling) means true, and only the "=" form gives it a value:
// "--profiling false" leaves "false" as a positional argument, which the
// component rejects. A non-bool flag without "=" takes the next argument
// whatever it looks like ("--audit-log-path --v=2" sets the path to
// "--v=2").
//
// etcd parses with Go's flag package: one or two dashes, last value wins
// for every flag, bool flags as above, and parsing stops at the first
// non-flag argument.
package staticpod

import "path"

// ManifestsDir is where static pod manifests live on a control-plane node.
const ManifestsDir = "/etc/kubernetes/manifests"

// ManifestPath is the node path of a component's static pod manifest.
func ManifestPath(component string) string { return path.Join(ManifestsDir, component+".yaml") }
