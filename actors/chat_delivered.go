package actors

import "github.com/switchboard-chat/switchboard/messages"

// recordDelivered writes what a channel said of a delivered message (or
// that the delivery outbox gave it up): internal, staff see it, the
// visitor does not (also once the chat is closed).
func (c *chat) recordDelivered(m *messages.RecordDelivered) {
	c.write([]*messages.ChatEvent{{Kind: &messages.ChatEvent_Delivered{Delivered: m.GetDelivered()}, Internal: true}})
}
