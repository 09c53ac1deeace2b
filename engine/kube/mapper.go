package kube

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/restmapper"
)

// lazyMapper is a deferred discovery RESTMapper: discovery runs on first
// use and again after Reset. Unlike client-go's memcache-backed mapper it
// returns discovery failures as errors instead of logging them, so a
// stopped API server yields one clear error and no log noise.
type lazyMapper struct {
	dc discovery.DiscoveryInterface
	mu sync.Mutex
	m  meta.RESTMapper
}

var _ meta.ResettableRESTMapper = (*lazyMapper)(nil)

func newLazyMapper(dc discovery.DiscoveryInterface) *lazyMapper { return &lazyMapper{dc: dc} }

func (l *lazyMapper) get() (meta.RESTMapper, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m != nil {
		return l.m, nil
	}
	groups, err := restmapper.GetAPIGroupResources(l.dc)
	if err != nil && len(groups) == 0 {
		return nil, err
	}
	// Partial discovery (an unavailable aggregated API) still maps the rest.
	l.m = restmapper.NewDiscoveryRESTMapper(groups)
	return l.m, nil
}

// Reset forgets discovery so the next mapping sees new CRDs.
func (l *lazyMapper) Reset() {
	l.mu.Lock()
	l.m = nil
	l.mu.Unlock()
}

func (l *lazyMapper) KindFor(r schema.GroupVersionResource) (schema.GroupVersionKind, error) {
	m, err := l.get()
	if err != nil {
		return schema.GroupVersionKind{}, err
	}
	return m.KindFor(r)
}

func (l *lazyMapper) KindsFor(r schema.GroupVersionResource) ([]schema.GroupVersionKind, error) {
	m, err := l.get()
	if err != nil {
		return nil, err
	}
	return m.KindsFor(r)
}

func (l *lazyMapper) ResourceFor(r schema.GroupVersionResource) (schema.GroupVersionResource, error) {
	m, err := l.get()
	if err != nil {
		return schema.GroupVersionResource{}, err
	}
	return m.ResourceFor(r)
}

func (l *lazyMapper) ResourcesFor(r schema.GroupVersionResource) ([]schema.GroupVersionResource, error) {
	m, err := l.get()
	if err != nil {
		return nil, err
	}
	return m.ResourcesFor(r)
}

func (l *lazyMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	m, err := l.get()
	if err != nil {
		return nil, err
	}
	return m.RESTMapping(gk, versions...)
}

func (l *lazyMapper) RESTMappings(gk schema.GroupKind, versions ...string) ([]*meta.RESTMapping, error) {
	m, err := l.get()
	if err != nil {
		return nil, err
	}
	return m.RESTMappings(gk, versions...)
}

func (l *lazyMapper) ResourceSingularizer(resource string) (string, error) {
	m, err := l.get()
	if err != nil {
		return "", err
	}
	return m.ResourceSingularizer(resource)
}
