package existing

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/ckslab/ckslab/engine/kube"
)

// sourceKubeconfig is the user's kubeconfig path as kubectl would find it.
func (b *Backend) sourceKubeconfig() (string, error) {
	if b.o.Kubeconfig != "" {
		return b.o.Kubeconfig, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	for _, p := range rules.GetLoadingPrecedence() {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no kubeconfig: pass --kubeconfig FILE (and --context NAME), or set KUBECONFIG")
}

// writeCopy writes ckslab's own kubeconfig for context ctxName of src:
// only that context, its cluster and user, with certificate files embedded
// (so it works from ckslab's state dir). src is only read.
func writeCopy(src, ctxName, dst string) (server, usedCtx string, err error) {
	cfg, err := clientcmd.LoadFromFile(src)
	if err != nil {
		return "", "", fmt.Errorf("read kubeconfig %s: %w", src, err)
	}
	if ctxName == "" {
		ctxName = cfg.CurrentContext
	}
	kctx, ok := cfg.Contexts[ctxName]
	if ctxName == "" || !ok {
		var names []string
		for n := range cfg.Contexts {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", "", fmt.Errorf("kubeconfig %s has no context %q (contexts: %s): pass --context NAME", src, ctxName, strings.Join(names, ", "))
	}
	c, ok := cfg.Clusters[kctx.Cluster]
	if !ok {
		return "", "", fmt.Errorf("context %s of %s names cluster %q, which the file does not define", ctxName, src, kctx.Cluster)
	}
	cfg.CurrentContext = ctxName
	if err := clientcmdapi.MinifyConfig(cfg); err != nil {
		return "", "", fmt.Errorf("context %s of %s: %w", ctxName, src, err)
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return "", "", fmt.Errorf("embed the certificates of context %s of %s: %w", ctxName, src, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", "", fmt.Errorf("create state dir: %w", err)
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return "", "", err
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return "", "", fmt.Errorf("write ckslab's kubeconfig copy: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", "", err
	}
	return c.Server, ctxName, nil
}

func clients(kubeconfig string) (kubernetes.Interface, *rest.Config, error) {
	cfg, err := kube.LoadConfig(kubeconfig)
	if err != nil {
		return nil, nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("create Kubernetes client: %w", err)
	}
	return cs, cfg, nil
}
