package signin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/go-ldap/ldap/v3"

	"github.com/switchboard-chat/switchboard/messages"
)

// Check tries the settings as PUT /admin/sign-in saves them: it connects
// (with TLS as set), binds as the service account and reads user_base
// (a base-scope search). Each failure is a *messages.Error naming the
// field to fix: ldap.url (unreachable: also wraps ErrUnavailable),
// ldap.ca_pem (the certificate is not trusted), ldap.bind_dn (the bind is
// refused) or ldap.user_base (no such entry).
func (l *LDAP) Check(ctx context.Context) error {
	c, done, err := l.connect(ctx)
	if err != nil {
		return connectError(l.s.GetUrl(), err)
	}
	defer done()
	if err := l.serviceBind(c); err != nil {
		return messages.FieldErrorf(invalid, "ldap.bind_dn", "the directory refused the service bind: %v", err)
	}
	_, err = l.search(c, l.s.GetUserBase(), ldap.ScopeBaseObject, 1, "(objectClass=*)", []string{"1.1"})
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return messages.FieldErrorf(invalid, "ldap.user_base", "the directory has no entry %s", l.s.GetUserBase())
	case err != nil:
		return messages.FieldErrorf(invalid, "ldap.user_base", "cannot read %s: %v", l.s.GetUserBase(), err)
	}
	return nil
}

// connectError says why connecting failed: a certificate the settings do
// not trust (ldap.ca_pem), or a directory that did not answer (ldap.url).
func connectError(url string, err error) error {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		invalidC x509.CertificateInvalidError
		host     x509.HostnameError
	)
	if errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &invalidC) || errors.As(err, &host) {
		return messages.FieldErrorf(invalid, "ldap.ca_pem", "the directory's certificate is not trusted (set ca_pem to its CA): %v", err)
	}
	e := messages.FieldErrorf(invalid, "ldap.url", "the directory at %s did not answer: %v", url, err)
	return fmt.Errorf("%w (%w)", e, ErrUnavailable)
}
