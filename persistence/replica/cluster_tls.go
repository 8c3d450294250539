package replica

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// clusterTLS is the TLS every connection between nodes runs: encrypted,
// and both ends proving they hold the cluster key. The key derives (HKDF)
// one Ed25519 key pair that every node has and nobody else can make; each
// end shows a certificate of it and accepts only a peer whose certificate
// holds the same public key. Nothing is sent that reveals the key, so a
// connection seen on the wire cannot be replayed, and no certificate
// authority or file needs distributing: the key is the one secret.
func clusterTLS(clusterKey string) (*tls.Config, error) {
	seed, err := hkdf.Key(sha256.New, []byte(clusterKey), []byte("switchboard"), "cluster port tls ed25519", ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("replica: derive the cluster's TLS key: %w", err)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "switchboard cluster"},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, pub, priv)
	if err != nil {
		return nil, fmt.Errorf("replica: the cluster's TLS certificate: %w", err)
	}
	samePeer := func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errNotCluster
		}
		cert, err := x509.ParseCertificate(raw[0])
		if err != nil {
			return err
		}
		if k, ok := cert.PublicKey.(ed25519.PublicKey); !ok || !bytes.Equal(k, pub) {
			return errors.Join(errNotCluster, errors.New("the peer's certificate is not the cluster key's"))
		}
		return nil
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: priv}},
		MinVersion:   tls.VersionTLS13,
		// Both ends check the peer against the key themselves
		// (samePeer): the certificate is self-signed, no chain to a CA.
		ClientAuth:            tls.RequireAnyClientCert,
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: samePeer,
	}, nil
}
