package runner

import (
	"context"
	"fmt"
	"path"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/ckslab/ckslab/engine/api/v1alpha1"
	"github.com/ckslab/ckslab/engine/checks"
	"github.com/ckslab/ckslab/engine/cluster"
	"github.com/ckslab/ckslab/engine/kube"
	"github.com/ckslab/ckslab/engine/ops"
	"github.com/ckslab/ckslab/engine/staticpod"
)

const apiserverManifest = staticpod.ManifestsDir + "/kube-apiserver.yaml"

// decryptDir holds the decrypting config reset points the API server at.
const decryptDir = "/etc/kubernetes/ckslab-decrypt"

// decryptBeforeRestore undoes encryption at rest that a lab turned on.
// Restoring the original kube-apiserver manifest alone would leave objects
// in etcd that the restored API server cannot read (it fails its
// readiness), so first the API server is switched to a config that writes
// plain text (identity first) but still reads every key, and every object
// of the encrypted resources is rewritten. It does nothing when the lab did
// not change the encryption config.
func (r *Runner) decryptBeforeRestore(ctx context.Context, cl *cluster.Cluster, k *kube.Client, files []ops.FileBackup) error {
	var orig *ops.FileBackup
	for i := range files {
		if files[i].Path == apiserverManifest && !files[i].Absent {
			orig = &files[i]
			break
		}
	}
	n, err := cl.Node("")
	if err != nil || cl.Components == nil {
		return nil
	}
	cur, err := n.ReadFile(ctx, apiserverManifest)
	if err != nil {
		return nil
	}
	curCmd, err := checks.ManifestCommand(cur)
	if err != nil {
		return nil
	}
	encPath, on := staticpod.FlagValue(curCmd, "encryption-provider-config")
	if !on || encPath == "" {
		return nil
	}
	touched := orig != nil
	for _, f := range files {
		touched = touched || f.Path == encPath
	}
	if !touched {
		return nil // the cluster was like this before the lab
	}
	if orig != nil {
		if origCmd, err := checks.ManifestCommand(orig.Content); err == nil {
			if p, ok := staticpod.FlagValue(origCmd, "encryption-provider-config"); ok && p == encPath && !fileTracked(files, encPath) {
				return nil
			}
		}
	}
	cfgData, err := n.ReadFile(ctx, encPath)
	if err != nil {
		return nil
	}
	plain, resources, err := identityFirst(cfgData)
	if err != nil || len(resources) == 0 {
		return nil
	}
	r.emit(Event{Kind: StepLine, Step: "reset", Line: "rewriting " + strings.Join(resources, ", ") + " in plain text before restoring kube-apiserver"})
	// A directory of its own, mounted for the purpose: the learner's
	// mounts may serve only their config file (a file mount), so a file
	// written beside it would be invisible to the API server.
	tmp := path.Join(decryptDir, "encryption-config.yaml")
	if err := n.WriteFile(ctx, tmp, plain, 0o600); err != nil {
		return fmt.Errorf("write decrypting encryption config: %w", err)
	}
	defer func() {
		_ = n.Remove(context.WithoutCancel(ctx), tmp)
		_ = n.Remove(context.WithoutCancel(ctx), decryptDir)
	}()
	edited, err := staticpod.EditManifest(cur, &v1alpha1.EditManifest{
		SetFlags:           map[string]string{"encryption-provider-config": tmp},
		AddHostPathVolumes: []v1alpha1.HostPathVolume{{Name: "ckslab-decrypt", Path: decryptDir, Type: "DirectoryOrCreate", ReadOnly: true}},
	})
	if err != nil {
		return err
	}
	mode, _ := n.Stat(ctx, apiserverManifest)
	if err := n.WriteFile(ctx, apiserverManifest, edited, mode.Perm()|0o600); err != nil {
		return err
	}
	if err := cl.Components.WaitHealthy(ctx, "kube-apiserver", ops.HealthyTimeout); err != nil {
		return fmt.Errorf("wait for kube-apiserver with the decrypting config: %w", err)
	}
	return rewriteAll(ctx, k, resources)
}

func fileTracked(files []ops.FileBackup, p string) bool {
	for _, f := range files {
		if f.Path == p {
			return true
		}
	}
	return false
}

// identityFirst returns the EncryptionConfiguration with identity as the
// first (writing) provider of every resource, keeping the others for reads,
// and the resources it covers.
func identityFirst(data []byte) ([]byte, []string, error) {
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, nil, err
	}
	list, _ := cfg["resources"].([]any)
	var names []string
	for _, e := range list {
		m, _ := e.(map[string]any)
		if m == nil {
			continue
		}
		for _, r := range asList(m["resources"]) {
			names = append(names, fmt.Sprint(r))
		}
		provs := []any{map[string]any{"identity": map[string]any{}}}
		for _, p := range asList(m["providers"]) {
			if pm, ok := p.(map[string]any); ok {
				if _, isID := pm["identity"]; isID {
					continue
				}
			}
			provs = append(provs, p)
		}
		m["providers"] = provs
	}
	out, err := yaml.Marshal(cfg)
	return out, names, err
}

func asList(v any) []any { l, _ := v.([]any); return l }

// rewriteAll reads and writes back every object of the named resources
// ("secrets", "configmaps", "widgets.example.com"; wildcards are skipped).
func rewriteAll(ctx context.Context, k *kube.Client, resources []string) error {
	for _, name := range resources {
		if strings.Contains(name, "*") {
			continue
		}
		res, group, _ := strings.Cut(name, ".")
		gvr, err := k.Mapper.ResourceFor(schema.GroupVersionResource{Group: group, Resource: res})
		if err != nil {
			continue
		}
		ri := k.Dynamic.Resource(gvr)
		l, err := ri.List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("list %s to rewrite them: %w", name, kube.Explain(k.Config.Host, err))
		}
		for i := range l.Items {
			o := &l.Items[i]
			if _, err := ri.Namespace(o.GetNamespace()).Update(ctx, o, metav1.UpdateOptions{FieldManager: kube.FieldManager}); err != nil {
				return fmt.Errorf("rewrite %s: %w", kube.Describe(o), kube.Explain(k.Config.Host, err))
			}
		}
	}
	return nil
}
