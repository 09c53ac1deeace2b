package existing

import (
	"context"
	"fmt"
	"strings"
	"sync"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// permission is one thing ckslab asks the API server whether the user may do.
type permission struct {
	verb, group, resource, subresource, namespace string
	// nodeAccess: needed only for node access and the probes (a user
	// without it still gets API-level labs).
	nodeAccess bool
}

func (p permission) String() string {
	r := p.resource
	if p.group != "" {
		r += "." + p.group
	}
	if p.subresource != "" {
		r += "/" + p.subresource
	}
	where := "cluster-wide"
	if p.namespace != "" {
		where = "in namespace " + p.namespace
	}
	return p.verb + " " + r + " " + where
}

// required are the permissions labs need: scenarios create namespaces and
// every kind of namespaced and RBAC object, bind roles (which needs the
// permissions granted, or bind/escalate), and reset deletes them; node
// access creates privileged pods in HelperNamespace and execs into them.
func required() []permission {
	var ps []permission
	for _, v := range []string{"get", "list", "create", "delete", "patch"} {
		ps = append(ps,
			permission{verb: v, resource: "namespaces"},
			permission{verb: v, resource: "pods"},
			permission{verb: v, resource: "serviceaccounts"},
			permission{verb: v, resource: "secrets"},
			permission{verb: v, resource: "configmaps"},
			permission{verb: v, group: "apps", resource: "deployments"},
			permission{verb: v, group: "networking.k8s.io", resource: "networkpolicies"},
			permission{verb: v, group: "rbac.authorization.k8s.io", resource: "roles"},
			permission{verb: v, group: "rbac.authorization.k8s.io", resource: "rolebindings"},
			permission{verb: v, group: "rbac.authorization.k8s.io", resource: "clusterroles"},
			permission{verb: v, group: "rbac.authorization.k8s.io", resource: "clusterrolebindings"},
		)
	}
	ps = append(ps,
		permission{verb: "bind", group: "rbac.authorization.k8s.io", resource: "clusterroles"},
		permission{verb: "escalate", group: "rbac.authorization.k8s.io", resource: "clusterroles"},
		permission{verb: "impersonate", resource: "users"},
		permission{verb: "impersonate", resource: "groups"},
		permission{verb: "impersonate", resource: "serviceaccounts"},
		permission{verb: "list", resource: "nodes"},
		permission{verb: "create", resource: "pods", namespace: HelperNamespace, nodeAccess: true},
		permission{verb: "create", resource: "pods", subresource: "exec", namespace: HelperNamespace, nodeAccess: true},
		permission{verb: "get", resource: "pods", subresource: "log", namespace: HelperNamespace, nodeAccess: true},
	)
	return ps
}

// reviewFunc answers one SelfSubjectAccessReview (a seam for tests).
type reviewFunc func(ctx context.Context, p permission) (allowed bool, reason string, err error)

func ssar(cs kubernetes.Interface) reviewFunc {
	return func(ctx context.Context, p permission) (bool, string, error) {
		r := &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
			Verb: p.verb, Group: p.group, Resource: p.resource, Subresource: p.subresource, Namespace: p.namespace}}}
		got, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, r, metav1.CreateOptions{})
		if err != nil {
			return false, "", err
		}
		return got.Status.Allowed, got.Status.Reason, nil
	}
}

// accessReport is what checkAccess found missing.
type accessReport struct {
	// missing are the lab permissions the user lacks (Up fails).
	missing []string
	// nodeAccess are the node-access permissions the user lacks (no node
	// capabilities, API-level labs still run).
	nodeAccess []string
}

// checkAccess asks the API server about every permission of ps (in
// parallel) and sorts the refused ones.
func checkAccess(ctx context.Context, review reviewFunc, ps []permission) (accessReport, error) {
	type answer struct {
		ok  bool
		err error
	}
	answers := make([]answer, len(ps))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ok, _, err := review(ctx, p)
			answers[i] = answer{ok, err}
		}()
	}
	wg.Wait()
	var rep accessReport
	for i, a := range answers {
		if a.err != nil {
			return rep, fmt.Errorf("ask the API server whether you may %s (SelfSubjectAccessReview): %w", ps[i], a.err)
		}
		if a.ok {
			continue
		}
		if ps[i].nodeAccess {
			rep.nodeAccess = append(rep.nodeAccess, ps[i].String())
		} else {
			rep.missing = append(rep.missing, ps[i].String())
		}
	}
	return rep, nil
}

func (r accessReport) err(user string) error {
	if len(r.missing) == 0 {
		return nil
	}
	return fmt.Errorf("%s may not do what labs need: %s; use a kubeconfig with cluster-admin rights on a cluster you may change (ckslab creates and deletes namespaces, RBAC objects and workloads)",
		user, strings.Join(r.missing, "; "))
}
