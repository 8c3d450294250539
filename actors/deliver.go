package actors

import "github.com/switchboard-chat/switchboard/messages"

// Outbound deliveries (issue 19): webhooks to endpoints and replies to
// channels go out of the durable delivery outbox (messages.Delivery, keys
// w/ in persistence). The outbox makes one call at a time per target and
// conversation, in order, and tries again with backoff until the receiver
// takes the call. These interfaces are the seams to the HTTP side
// (gateway packages), wired by cmd/switchboard.

// ChannelSender delivers a chat's event to a channel's outside
// conversation (WhatsApp: a reply through the Graph API). Send must not
// block: it works in its own goroutine and calls done once, from any
// goroutine, with the outside id the receiver gave the message (WhatsApp's
// wamid; "" if none) and nil once the receiver took it. An error with a
// method Permanent() bool that returns true is not tried again: the
// delivery fails (the chat records it as ChatDelivered "failed").
type ChannelSender interface {
	Send(ch *messages.Channel, d *messages.Delivery, done func(ref string, err error))
}
