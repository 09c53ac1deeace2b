// Package kube builds the Kubernetes clients ckslab uses against a lab
// cluster: typed and dynamic clients from the lab kubeconfig (never the
// learner's ~/.kube/config), a lazily filled discovery RESTMapper, a
// multi-document YAML decoder and server-side apply with field manager
// "ckslab".
package kube

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// FieldManager is the server-side apply field manager for everything ckslab writes.
const FieldManager = "ckslab"

// Client bundles the clients for one lab cluster.
type Client struct {
	Config     *rest.Config
	Kubeconfig string
	Typed      kubernetes.Interface
	Dynamic    dynamic.Interface
	Mapper     meta.ResettableRESTMapper
}

// LoadConfig reads a kubeconfig file into a rest.Config with QPS and
// timeouts suited to a lab: many small requests, fast failure when the API
// server is down (a learner may have broken it on purpose).
func LoadConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		return nil, errors.New("no lab kubeconfig: start a lab first (ckslab start <id>)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.QPS = 200
	cfg.Burst = 400
	cfg.Timeout = 15 * time.Second
	cfg.UserAgent = "ckslab"
	dialer := &net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}
	cfg.Dial = dialer.DialContext
	return cfg, nil
}

// New builds clients from a kubeconfig path.
func New(kubeconfig string) (*Client, error) {
	cfg, err := LoadConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	c, err := NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c.Kubeconfig = kubeconfig
	return c, nil
}

// NewForConfig builds clients from a rest.Config. No request is made: the
// RESTMapper discovers lazily on first use.
func NewForConfig(cfg *rest.Config) (*Client, error) {
	// Warnings (e.g. PodSecurity "would violate" on dry runs) are expected
	// answers to ckslab's probes, not something to print.
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = rest.NoWarnings{}
	typed, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create Kubernetes client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create discovery client: %w", err)
	}
	return &Client{Config: cfg, Typed: typed, Dynamic: dyn, Mapper: newLazyMapper(dc)}, nil
}

// Impersonating returns clients that act as user/groups.
func (c *Client) Impersonating(user string, groups []string) (*Client, error) {
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	n, err := NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	n.Mapper = c.Mapper
	n.Kubeconfig = c.Kubeconfig
	return n, nil
}

// Resource maps apiVersion+kind to a resource interface, scoped to ns when
// the kind is namespaced. It retries once after resetting the mapper so a
// CRD installed by setup is found.
func (c *Client) Resource(apiVersion, kind, ns string) (dynamic.ResourceInterface, *meta.RESTMapping, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, nil, fmt.Errorf("apiVersion %q: %w", apiVersion, err)
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: kind}
	m, err := c.Mapper.RESTMapping(gk, gv.Version)
	if err != nil && meta.IsNoMatchError(err) {
		c.Mapper.Reset()
		m, err = c.Mapper.RESTMapping(gk, gv.Version)
	}
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, nil, fmt.Errorf("the API server does not serve %s %s", apiVersion, kind)
		}
		return nil, nil, Explain(c.Config.Host, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if ns == "" {
			ns = "default"
		}
		return c.Dynamic.Resource(m.Resource).Namespace(ns), m, nil
	}
	return c.Dynamic.Resource(m.Resource), m, nil
}

// Decode splits multi-document YAML (or JSON) into objects, skipping empty
// documents and expanding v1 List kinds.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []*unstructured.Unstructured
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if string(bytes.TrimSpace(js)) == "null" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if u.IsList() {
			l, err := u.ToList()
			if err != nil {
				return nil, fmt.Errorf("document %d: %w", i+1, err)
			}
			for j := range l.Items {
				out = append(out, &l.Items[j])
			}
			continue
		}
		out = append(out, u)
	}
}

// Apply server-side applies obj (force, field manager ckslab). ns defaults
// namespaced objects without one. It returns the applied object and whether
// the kind is namespaced.
func (c *Client) Apply(ctx context.Context, obj *unstructured.Unstructured, ns string) (*unstructured.Unstructured, error) {
	ri, m, err := c.Resource(obj.GetAPIVersion(), obj.GetKind(), firstNonEmpty(obj.GetNamespace(), ns))
	if err != nil {
		return nil, fmt.Errorf("apply %s: %w", Describe(obj), err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace && obj.GetNamespace() == "" {
		obj.SetNamespace(firstNonEmpty(ns, "default"))
	}
	if m.Scope.Name() != meta.RESTScopeNameNamespace {
		obj.SetNamespace("")
	}
	data, err := obj.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("apply %s: %w", Describe(obj), err)
	}
	force := true
	out, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
	if err != nil {
		return nil, fmt.Errorf("apply %s: %w", Describe(obj), Explain(c.Config.Host, err))
	}
	return out, nil
}

// Describe names an object the way messages do: "Deployment team-a/web".
func Describe(obj *unstructured.Unstructured) string {
	return Ref(obj.GetKind(), obj.GetNamespace(), obj.GetName())
}

// Ref renders kind ns/name.
func Ref(kind, ns, name string) string {
	if ns == "" {
		return kind + " " + name
	}
	return kind + " " + ns + "/" + name
}

// Explain turns a transport or API error into one sentence a learner can act on.
func Explain(host string, err error) error {
	if err == nil {
		return nil
	}
	if se, ok := err.(apierrors.APIStatus); ok && se.Status().Message != "" {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) || isConnErr(err) {
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return fmt.Errorf("API server unreachable at %s: connection refused (is kube-apiserver running? `ckslab cluster status`)", host)
		case errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") || strings.Contains(err.Error(), "i/o timeout"):
			return fmt.Errorf("API server at %s did not answer in time: %w", host, err)
		case errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "EOF"):
			return fmt.Errorf("API server at %s closed the connection (restarting?): %w", host, err)
		}
		return fmt.Errorf("API server unreachable at %s: %w", host, err)
	}
	return err
}

// IsUnreachable reports whether err means the API server could not be reached.
func IsUnreachable(err error) bool {
	if err == nil {
		return false
	}
	var ue *url.Error
	return errors.As(err, &ue) || isConnErr(err) || strings.Contains(err.Error(), "API server unreachable")
}

func isConnErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
