package local

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// probe polls the component's health endpoint, as readinessProbe would.
func (s *supervisor) probe(ctx context.Context, w *podWorker, spec *launchSpec) {
	check := s.healthCheck(spec)
	delay := 50 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(delay):
		}
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		ok := check(cctx) == nil
		cancel()
		if ctx.Err() != nil {
			return
		}
		s.update(w, func(c *componentStatus) {
			if c.Running && c.ManifestHash == spec.hash {
				c.Ready = ok
			}
		})
		if ok && delay != 2*time.Second {
			s.logf("%s: ready", w.name)
			if w.name == compAPI {
				s.restartControllerManager()
			}
		}
		if ok {
			delay = 2 * time.Second
		} else {
			// Poll fast while not ready: Up waits on this.
			delay = 50 * time.Millisecond
		}
	}
}

// healthCheck builds the component's health request from the flags it
// actually runs with, so a learner changing a port does not confuse it.
func (s *supervisor) healthCheck(spec *launchSpec) func(context.Context) error {
	args := spec.argv
	insecure := &tls.Config{InsecureSkipVerify: true} // like kubelet HTTPS probes
	get := func(u string, tc *tls.Config) func(context.Context) error {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}}
		return func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, http.NoBody)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %s", u, resp.Status)
			}
			return nil
		}
	}
	switch filepath.Base(spec.argv[0]) {
	case binEtcd:
		if v, ok := flagValue(args, "listen-metrics-urls"); ok {
			return get(strings.Split(v, ",")[0]+"/health", insecure)
		}
		v, _ := flagValue(args, "listen-client-urls")
		u, err := url.Parse(strings.Split(v, ",")[0])
		return func(ctx context.Context) error {
			if err != nil {
				return err
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", u.Host)
			if err == nil {
				c.Close()
			}
			return err
		}
	case binAPIServer:
		port := "6443"
		if v, ok := flagValue(args, "secure-port"); ok {
			port = v
		}
		// Authenticate: a learner may disable anonymous auth (a CKS task).
		return get("https://127.0.0.1:"+port+"/readyz", s.probeTLS)
	case binControllerManager:
		port := "10257"
		if v, ok := flagValue(args, "secure-port"); ok {
			port = v
		}
		return get("https://127.0.0.1:"+port+"/healthz", insecure)
	}
	// Unknown extra static pods are ready once running.
	return func(context.Context) error { return nil }
}

// loadProbeTLS uses ckslab's private super-admin credentials, which a
// learner's edits under /etc/kubernetes cannot break.
func (s *supervisor) loadProbeTLS() *tls.Config {
	tc := &tls.Config{InsecureSkipVerify: true}
	cfg, err := clientcmd.LoadFromFile(internalPath(s.nodeDir, "super-admin.kubeconfig"))
	if err != nil {
		return tc
	}
	for _, ai := range cfg.AuthInfos {
		if cert, err := tls.X509KeyPair(ai.ClientCertificateData, ai.ClientKeyData); err == nil {
			tc.Certificates = []tls.Certificate{cert}
			break
		}
	}
	return tc
}
