// Package oidctest runs OpenID Providers on loopback for tests: Provider,
// a real one built on the op package of github.com/zitadel/oidc (its
// example storage and login form, with a groups claim added), and
// Hostile, a small provider whose token endpoint answers with an ID token
// that is valid, forged, expired, for another audience or for another
// nonce. Both serve HTTPS with a CA the fixture makes (CAPEM). Only tests
// import it; it is never linked into the broker.
//
// A fixture is safe for concurrent use: its state is behind a mutex, and
// each test starts its own.
package oidctest
