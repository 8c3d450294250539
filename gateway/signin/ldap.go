package signin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/go-ldap/ldap/v3"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// ldapTimeout bounds a sign-in's or a check's talk with the directory
// when the context has no deadline.
const ldapTimeout = 5 * time.Second

// LDAP signs staff in against an LDAP directory or Active Directory with
// github.com/go-ldap/ldap/v3. Each call opens its own connection (a
// sign-in is rare; a pool would hold a service bind open for nothing), so
// an LDAP is safe for concurrent use and holds no connection.
type LDAP struct {
	s   *messages.LdapSettings // with the defaults applied
	tls *tls.Config
}

// NewLDAP checks what the settings need to be used (the URL, the CA
// certificates) and applies the defaults store.proto documents. A bad
// setting is a *messages.Error naming its field.
func NewLDAP(s *messages.LdapSettings) (*LDAP, error) {
	s = proto.Clone(s).(*messages.LdapSettings)
	for _, a := range []struct {
		v   *string
		def string
	}{{&s.LoginAttribute, "uid"}, {&s.NameAttribute, "cn"}, {&s.EmailAttribute, "mail"}, {&s.GroupNameAttribute, "cn"}} {
		if *a.v == "" {
			*a.v = a.def
		}
	}
	u, err := url.Parse(s.GetUrl())
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Hostname() == "" {
		return nil, messages.FieldErrorf(invalid, "ldap.url", "url must be ldap://host:port or ldaps://host:port, not %q", s.GetUrl())
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if s.GetCaPem() != "" && !roots.AppendCertsFromPEM([]byte(s.GetCaPem())) {
		return nil, messages.FieldErrorf(invalid, "ldap.ca_pem", "ca_pem holds no PEM certificate (-----BEGIN CERTIFICATE----- ...)")
	}
	return &LDAP{s: s, tls: &tls.Config{RootCAs: roots, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}}, nil
}

const invalid = messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT

// Authenticate checks login and password against the directory: it finds
// the login's entry as the service account, refuses a disabled one, reads
// its groups, then binds as the entry with the password (the password is
// only sent to the directory). The errors wrap ErrBadCredentials (no such
// login, several entries, a wrong or empty password), ErrDisabled or
// ErrUnavailable, with details for the audit log (never the password).
func (l *LDAP) Authenticate(ctx context.Context, login, password string) (Identity, error) {
	if login == "" || password == "" {
		// An empty password would make the bind an unauthenticated one,
		// which directories accept: refused before anything is sent.
		return Identity{}, fmt.Errorf("%w: empty login or password", ErrBadCredentials)
	}
	var id Identity
	err := l.session(ctx, func(c *ldap.Conn) error {
		e, found, err := l.read(c, login)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrBadCredentials, err)
		}
		if err != nil {
			return err
		}
		if err := c.Bind(e.DN, password); err != nil {
			if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
				return fmt.Errorf("%w: the directory refused the password of %s", ErrBadCredentials, e.DN)
			}
			return fmt.Errorf("%w: bind as %s: %w", ErrUnavailable, e.DN, err)
		}
		id = found
		return nil
	})
	return id, err
}

// Lookup finds login's entry as the service account, without the user's
// password (the sync): ErrNotFound, ErrDisabled or ErrUnavailable.
func (l *LDAP) Lookup(ctx context.Context, login string) (Identity, error) {
	var id Identity
	err := l.session(ctx, func(c *ldap.Conn) error {
		_, found, err := l.read(c, login)
		id = found
		return err
	})
	return id, err
}

// session connects (TLS as set), binds as the service account and runs
// f; the connection is closed after, or as soon as ctx ends.
func (l *LDAP) session(ctx context.Context, f func(*ldap.Conn) error) error {
	c, done, err := l.connect(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer done()
	if err := l.serviceBind(c); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return f(c)
}

// connect dials the URL under ctx's deadline (else ldapTimeout), with
// StartTLS when set. ctx ending closes the connection, which ends any
// request on it; closing is the caller's, with done.
func (l *LDAP) connect(ctx context.Context) (c *ldap.Conn, done func(), err error) {
	timeout := ldapTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if timeout <= 0 {
		return nil, nil, fmt.Errorf("connect to %s: %w", l.s.GetUrl(), context.DeadlineExceeded)
	}
	cfg, verifyErr := l.tlsConfig()
	c, err = ldap.DialURL(l.s.GetUrl(), ldap.DialWithDialer(&net.Dialer{Timeout: timeout}), ldap.DialWithTLSConfig(cfg))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", l.s.GetUrl(), err)
	}
	c.SetTimeout(timeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	stop := context.AfterFunc(ctx, func() { c.Close() })
	done = func() { stop(); cancel(); c.Close() }
	if l.s.GetStartTls() {
		if err := c.StartTLS(cfg); err != nil {
			done()
			if *verifyErr != nil { // go-ldap's error keeps only its text
				err = *verifyErr
			}
			return nil, nil, fmt.Errorf("StartTLS with %s: %w", l.s.GetUrl(), err)
		}
	}
	return c, done, nil
}

// tlsConfig is the connection's TLS configuration: the standard
// verification of the server's certificate against the system's and
// ca_pem's CAs for the URL's host (crypto/tls's VerifyConnection example),
// done here so that a refusal is kept in *verifyErr as a
// *tls.CertificateVerificationError (go-ldap's StartTLS error keeps only
// its text, and Check must tell a certificate from an unreachable host).
func (l *LDAP) tlsConfig() (cfg *tls.Config, verifyErr *error) {
	verifyErr = new(error)
	cfg = l.tls.Clone()
	cfg.InsecureSkipVerify = true // verified below, fully, in VerifyConnection
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			*verifyErr = &tls.CertificateVerificationError{Err: errors.New("the server sent no certificate")}
			return *verifyErr
		}
		opts := x509.VerifyOptions{DNSName: l.tls.ServerName, Roots: l.tls.RootCAs, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
			*verifyErr = &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			return *verifyErr
		}
		return nil
	}
	return cfg, verifyErr
}

// serviceBind binds as bind_dn; with none the connection stays anonymous.
func (l *LDAP) serviceBind(c *ldap.Conn) error {
	if l.s.GetBindDn() == "" {
		return nil
	}
	if err := c.Bind(l.s.GetBindDn(), l.s.GetBindPassword()); err != nil {
		return fmt.Errorf("bind as %s: %w", l.s.GetBindDn(), err)
	}
	return nil
}
