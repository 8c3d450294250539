package oidctest

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway/signin/testca"
)

// serveTLS starts an HTTPS server on 127.0.0.1 whose certificate a new CA
// signs; handler is called with the server's URL (the issuer) before the
// first request. It returns the server and the CA's PEM.
func serveTLS(t testing.TB, handler func(issuer string) http.Handler) (*httptest.Server, string) {
	t.Helper()
	ca := testca.New(t, "oidctest CA")
	srv := httptest.NewUnstartedServer(nil)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.ServerTLS(t)}}
	srv.Config.Handler = handler("https://" + srv.Listener.Addr().String())
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, ca.PEM
}

// HTTPClient is a client that trusts caPEM (besides nothing else) and
// keeps cookies, as a browser would.
func HTTPClient(t testing.TB, caPEM string) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(caPEM)) {
		t.Fatal("oidctest: no certificate in the CA PEM")
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Jar: jar, Timeout: 10 * time.Second}
}
