package local

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ckslab/ckslab/engine/fsutil"
)

// keyPair is a certificate and its private key.
type keyPair struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// certSpec describes one leaf certificate of the kubeadm PKI.
type certSpec struct {
	file     string // path relative to the pki dir, without extension
	cn       string
	orgs     []string
	dnsNames []string
	ips      []net.IP
	usages   []x509.ExtKeyUsage
}

// newKey returns an ECDSA P-256 key: kubeadm supports it
// (encryptionAlgorithm: ECDSA-P256) and it is ~50x faster to generate than
// RSA-2048, which matters for a cold Up measured in seconds.
func newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func newCA(cn string, now time.Time) (*keyPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", cn, err)
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key}, nil
}

func (ca *keyPair) issue(s certSpec, now time.Time) (*keyPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", s.cn, err)
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: s.cn, Organization: s.orgs},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  s.usages,
		DNSNames:     s.dnsNames,
		IPAddresses:  s.ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", s.cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key}, nil
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func keyPEM(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// writePair writes <base>.crt and <base>.key. Both are 0600: CIS 1.1.19-21
// (what kube-bench checks) wants PKI files no more permissive than that.
func writePair(base string, kp *keyPair) error {
	kb, err := keyPEM(kp.key)
	if err != nil {
		return fmt.Errorf("encode %s.key: %w", base, err)
	}
	if err := fsutil.WriteFileAtomic(base+".crt", certPEM(kp.cert), 0o600); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(base+".key", kb, 0o600)
}

// clientCredentials are the embedded credentials of a kubeconfig.
type clientCredentials struct {
	certPEM, keyPEM []byte
}

// pkiResult is what kubeconfig generation needs from the PKI.
type pkiResult struct {
	caPEM      []byte
	kubeconfig map[string]clientCredentials // admin, super-admin, controller-manager
}

// generatePKI writes kubeadm's /etc/kubernetes/pki layout under pkiDir.
func generatePKI(pkiDir string, now time.Time) (*pkiResult, error) {
	if err := os.MkdirAll(filepath.Join(pkiDir, "etcd"), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", pkiDir, err)
	}
	server := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	loopback := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}

	type caLeaves struct {
		caFile string
		caCN   string
		leaves []certSpec
	}
	plan := []caLeaves{
		{caFile: "ca", caCN: "kubernetes", leaves: []certSpec{
			{file: "apiserver", cn: "kube-apiserver", usages: server,
				dnsNames: []string{nodeName, "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"},
				ips:      []net.IP{net.ParseIP("10.96.0.1"), net.ParseIP(nodeIP), net.ParseIP("127.0.0.1")}},
			{file: "apiserver-kubelet-client", cn: "kube-apiserver-kubelet-client", orgs: []string{"kubeadm:cluster-admins"}, usages: client},
		}},
		{caFile: "front-proxy-ca", caCN: "front-proxy-ca", leaves: []certSpec{
			{file: "front-proxy-client", cn: "front-proxy-client", usages: client},
		}},
		{caFile: "etcd/ca", caCN: "etcd-ca", leaves: []certSpec{
			{file: "etcd/server", cn: nodeName, usages: both, dnsNames: []string{nodeName, "localhost"}, ips: loopback},
			{file: "etcd/peer", cn: nodeName, usages: both, dnsNames: []string{nodeName, "localhost"}, ips: loopback},
			{file: "etcd/healthcheck-client", cn: "kube-etcd-healthcheck-client", usages: client},
			{file: "apiserver-etcd-client", cn: "kube-apiserver-etcd-client", usages: client},
		}},
	}
	res := &pkiResult{kubeconfig: map[string]clientCredentials{}}
	for _, p := range plan {
		ca, err := newCA(p.caCN, now)
		if err != nil {
			return nil, err
		}
		if err := writePair(filepath.Join(pkiDir, p.caFile), ca); err != nil {
			return nil, err
		}
		for _, leaf := range p.leaves {
			kp, err := ca.issue(leaf, now)
			if err != nil {
				return nil, err
			}
			if err := writePair(filepath.Join(pkiDir, leaf.file), kp); err != nil {
				return nil, err
			}
		}
		if p.caFile != "ca" {
			continue
		}
		res.caPEM = certPEM(ca.cert)
		// Kubeconfig identities, as kubeadm names them.
		for name, s := range map[string]certSpec{
			"admin":              {cn: "kubernetes-admin", orgs: []string{"kubeadm:cluster-admins"}, usages: client},
			"super-admin":        {cn: "kubernetes-super-admin", orgs: []string{"system:masters"}, usages: client},
			"controller-manager": {cn: "system:kube-controller-manager", usages: client},
		} {
			kp, err := ca.issue(s, now)
			if err != nil {
				return nil, err
			}
			kb, err := keyPEM(kp.key)
			if err != nil {
				return nil, err
			}
			res.kubeconfig[name] = clientCredentials{certPEM: certPEM(kp.cert), keyPEM: kb}
		}
	}

	// Service-account signing key pair (sa.key / sa.pub).
	sa, err := newKey()
	if err != nil {
		return nil, fmt.Errorf("generate sa.key: %w", err)
	}
	saKey, err := keyPEM(sa)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(sa.Public())
	if err != nil {
		return nil, err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(pkiDir, "sa.key"), saKey, 0o600); err != nil {
		return nil, err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(pkiDir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		return nil, err
	}
	return res, nil
}

// kubeconfigYAML renders a kubeconfig with embedded credentials, the way
// kubeadm writes /etc/kubernetes/*.conf.
func kubeconfigYAML(server string, caPEM []byte, user string, cred clientCredentials) []byte {
	b64 := base64.StdEncoding.EncodeToString
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: %s
    server: %s
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: %s
  name: %s@kubernetes
current-context: %s@kubernetes
preferences: {}
users:
- name: %s
  user:
    client-certificate-data: %s
    client-key-data: %s
`, b64(caPEM), server, user, user, user, user, b64(cred.certPEM), b64(cred.keyPEM)))
}
