package actors

import (
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// The delivery outbox's doors: the store hands it new deliveries
// (WakeDeliveries), the channels' admin tells it of a changed channel
// (ChannelChanged), and Recover starts the targets with deliveries
// waiting.

// deliveryBackoff is the wait before try n+1: DeliveryRetry doubled per
// failed try, at most DeliveryRetryMax.
func (b *Broker) deliveryBackoff(attempts uint32) time.Duration {
	d := b.deliveryRetry
	for i := uint32(1); i < attempts && d < b.deliveryRetryMax; i++ {
		d *= 2
	}
	return min(d, b.deliveryRetryMax)
}

// WakeDeliveries hands new deliveries to their targets' actors. The store
// calls it after each commit that stored some (persistence's
// SetDeliveryWake); it never blocks.
func (b *Broker) WakeDeliveries(ds []*messages.Delivery) {
	byTarget := map[string][]*messages.Delivery{}
	var order []string
	for _, d := range ds {
		if byTarget[d.GetTarget()] == nil {
			order = append(order, d.GetTarget())
		}
		byTarget[d.GetTarget()] = append(byTarget[d.GetTarget()], d)
	}
	for _, t := range order {
		b.Send(KindDelivery, t, &messages.DeliveryWake{Deliveries: byTarget[t]})
	}
}

// ChannelChanged tells channel id's delivery outbox that its record
// changed (created, enabled, disabled, a new callback): it reads it again
// and goes on with its waiting deliveries. The channels' admin calls it
// after the write.
func (b *Broker) ChannelChanged(id string) {
	b.Send(KindDelivery, messages.ChannelTarget(id), &messages.DeliveryWake{Reload: true})
}

// recoverDeliveries starts the actor of every target with deliveries
// waiting (each loads its own).
func (b *Broker) recoverDeliveries() error {
	targets, err := b.store.DeliveryTargets()
	if err != nil {
		return err
	}
	for _, t := range targets {
		b.PID(KindDelivery, t)
	}
	return nil
}

// capText cuts s to at most n bytes (on a rune boundary).
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
