package checks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
)

// NotJudgedPrefix starts the message of a check skipped because the
// backend lacks a capability the check needs: the objective is not judged
// here (never passed), and the rest of the scenario still runs.
const NotJudgedPrefix = "not judged here: "

// NotJudged reports whether r was skipped because the backend lacks a
// capability the check needs (not a skip for another reason, such as a
// refused host command).
func NotJudged(r Result) bool {
	return r.Status == Skip && strings.HasPrefix(r.Message, NotJudgedPrefix)
}

// notJudgedHere says why the cluster cannot judge check sp (a capability
// its type implies or its requires names is missing), or "". Without a
// cluster nothing is skipped: the check itself reports that none runs.
func notJudgedHere(env *Env, sp v1alpha1.Check) string {
	if env == nil || env.Cluster == nil {
		return ""
	}
	need := append(sp.ImpliedRequires(), sp.Requires...)
	var missing, how []string
	for _, c := range need {
		if env.Cluster.Capabilities.Has(c) || slices.Contains(missing, string(c)) {
			continue
		}
		missing = append(missing, string(c))
		if n := env.Cluster.Facts.Needs[c]; n != "" && env.Cluster.Facts.Provides.Has(c) {
			how = append(how, fmt.Sprintf("%s needs %s", c, n))
		}
	}
	if len(missing) == 0 {
		return ""
	}
	msg := fmt.Sprintf("%sthis objective needs %s, which this %s cluster lacks", NotJudgedPrefix, strings.Join(missing, " and "), env.Cluster.Backend)
	switch {
	case len(how) > 0:
		msg += " (" + strings.Join(how, "; ") + ")"
	case !env.Cluster.Facts.Provides.Has(v1alpha1.Capability(missing[0])) && env.Cluster.Facts.Elsewhere != "":
		msg += ": " + env.Cluster.Facts.Elsewhere
	}
	return msg
}
