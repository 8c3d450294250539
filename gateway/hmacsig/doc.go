// Package hmacsig signs and verifies HTTP bodies with HMAC-SHA256 over a
// timestamp and the body, the one scheme of Switchboard's signed calls:
// the API channel's inbound messages, and the webhooks and channel
// callbacks the delivery outbox posts.
//
// A signed request carries two headers:
//
//	X-Switchboard-Timestamp: <Unix seconds>
//	X-Switchboard-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// The receiver recomputes the signature over the raw body and refuses a
// timestamp further than MaxSkew from its clock (a replayed request).
// The package has no state; its functions are safe from any goroutine.
package hmacsig
