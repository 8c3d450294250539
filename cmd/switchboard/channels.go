package main

import (
	"github.com/switchboard-chat/switchboard/gateway/whatsapp"
	"github.com/switchboard-chat/switchboard/messages"
)

// brokerChats is what the WhatsApp client reads of the broker's chats;
// the client is made before the broker it reads (which takes it as its
// ChannelSender) and called only once the broker runs.
type brokerChats struct{ m *Main }

func (c brokerChats) ChatCreated(id string) (*messages.ChatCreated, error) {
	return c.m.broker.ChatCreated(id)
}

func (c brokerChats) File(chatID, fileID string) (*messages.StoredFile, error) {
	return c.m.broker.File(chatID, fileID)
}

func (c brokerChats) EachFileChunk(f *messages.StoredFile, fn func([]byte) error) error {
	return c.m.broker.EachFileChunk(f, fn)
}

// whatsApp is the Graph API client of the WhatsApp channels: it sends
// their replies (the broker's ChannelSender) and fetches their inbound
// media (the gateway's).
func (m *Main) whatsApp() *whatsapp.Client {
	if m.wa == nil {
		m.wa = whatsapp.New(whatsapp.Config{Chats: brokerChats{m}, AllowPrivate: m.cfg.Webhooks.AllowPrivate})
	}
	return m.wa
}
