package ldaptest

import (
	"testing"

	"github.com/switchboard-chat/switchboard/gateway/signin/testca"
)

// OtherCAPEM is a CA certificate that signed nothing the fixture serves:
// trusting it instead of CAPEM must fail the TLS handshake.
func OtherCAPEM(t testing.TB) string {
	return testca.New(t, "Some other CA").PEM
}
