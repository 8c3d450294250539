// Package hooks is the broker's webhook client: it posts one delivery of
// the delivery outbox (messages.Delivery) as a signed JSON request to a
// webhook endpoint or an API channel's callback URL, and checks such a
// signature (Verify) for receivers and for requests signed the same way.
// It decides nothing: the outbox actors (actors/deliver_outbox.go) keep,
// order, retry and log the deliveries.
//
// A request is POST with a JSON body {id, type, at, live_chat, chat_id,
// seq, data} and the headers X-Switchboard-Event-Id (the delivery id,
// the same on every try: receivers deduplicate by it),
// X-Switchboard-Timestamp (unix seconds) and X-Switchboard-Signature:
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
//
// Addresses: unless Config.AllowPrivate, the client refuses to connect to
// loopback, private, link-local, shared, NAT64, unspecified and multicast
// addresses (gateway/netguard's rule, checked on the address it dials,
// after DNS: a name that resolves to one is refused too), so that an administrator's URL cannot reach the
// broker's own network.
//
// Concurrency: a Sender is safe for use by several goroutines; Post works
// in a goroutine of its own and calls done once.
package hooks
