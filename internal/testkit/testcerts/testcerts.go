// Package testcerts makes throwaway TLS material for tests: a CA, a server
// certificate for 127.0.0.1/localhost signed by it, and client certificates,
// written as PEM files that any client (franz-go, kcat, kafkajs) can load.
package testcerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Set is a CA and the files of certificates it signed.
type Set struct {
	// Dir holds the PEM files.
	Dir string
	// CAFile is the CA certificate; ServerCert/ServerKey the server's.
	CAFile, ServerCert, ServerKey string

	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
}

// New writes a CA and a server certificate (valid for 127.0.0.1, ::1 and
// localhost) into dir.
func New(dir string) (*Set, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "courier test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	s := &Set{Dir: dir, CAFile: filepath.Join(dir, "ca.pem"), ca: ca, caKey: caKey}
	if err := writePEM(s.CAFile, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	s.ServerCert, s.ServerKey, err = s.issue("server", pkix.Name{CommonName: "localhost"}, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Client issues a client certificate with the given subject and returns its
// certificate and key files.
func (s *Set) Client(name string, subject pkix.Name) (certFile, keyFile string, err error) {
	return s.issue(name, subject, x509.ExtKeyUsageClientAuth)
}

// Subject is a client certificate subject with common name cn and the
// organisation "courier-test".
func (s *Set) Subject(cn string) pkix.Name {
	return pkix.Name{CommonName: cn, Organization: []string{"courier-test"}}
}

// ClientTLS returns a client tls.Config trusting the CA, with the client
// certificate files given (both empty: none).
func (s *Set) ClientTLS(certFile, keyFile string) (*tls.Config, error) {
	pool := x509.NewCertPool()
	pool.AddCert(s.ca)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certFile != "" {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

// serial numbers leaf certificates.
var serial atomic.Int64

// issue signs a leaf certificate and writes NAME.pem and NAME-key.pem.
func (s *Set) issue(name string, subject pkix.Name, usage x509.ExtKeyUsage) (string, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1) + 1),
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.ca, &key.PublicKey, s.caKey)
	if err != nil {
		return "", "", fmt.Errorf("sign %s: %w", name, err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile := filepath.Join(s.Dir, name+".pem"), filepath.Join(s.Dir, name+"-key.pem")
	if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
		return "", "", err
	}
	if err := writePEM(keyFile, "PRIVATE KEY", kder); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}
