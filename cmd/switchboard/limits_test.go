package main

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

func isRateLimited(err error) bool {
	var e *messages.Error
	return errors.As(err, &e) && e.GetCode() == messages.ErrorCode_ERROR_CODE_RATE_LIMITED && e.GetTemporary()
}

// A connection that sends too fast gets typed, temporary RATE_LIMITED
// errors and stays open; once its budget refills it is served again.
func TestFrameRateLimit(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) {
		c.Gateway.Limits = gateway.Limits{FramesPerSecond: 20, FrameBurst: 5, ConnsPerAddress: -1, ChatRequestsPerMinute: -1, ChatRequestBurst: -1}
	})
	v, _ := newVisitor(t, m.Addr(), false) // Hello took one
	ping := func() error {
		_, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_Ping{Ping: &messages.Ping{}}})
		return err
	}
	limited := 0
	for i := 0; i < 30; i++ {
		if err := ping(); isRateLimited(err) {
			limited++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if limited == 0 {
		t.Fatal("30 frames at once against a burst of 5: none was limited")
	}
	eventually(t, "the frame budget to refill", func() bool { return ping() == nil })
	if v.Closed() != nil {
		t.Fatalf("rate limiting closed the connection: %v", v.Closed())
	}
}

// Connections per address are capped before the upgrade (HTTP 429 with a
// typed error), and chat requests per address are limited with a typed
// error; nothing is created by a refused request.
func TestAddressLimits(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) {
		c.Gateway.Limits = gateway.Limits{FramesPerSecond: -1, FrameBurst: -1, ConnsPerAddress: 3, ChatRequestsPerMinute: 1, ChatRequestBurst: 2}
	})
	addr := m.Addr()
	var vs []*gateway.Client
	for i := 0; i < 3; i++ {
		v, _ := newVisitor(t, addr, false)
		vs = append(vs, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws://"+addr+"/ws/visitor", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth connection from one address: %v, %v; want 429", resp, err)
	}
	// Two chat requests pass (the burst), the third is limited and
	// creates nothing.
	for i := 0; i < 2; i++ {
		mustChatID(t, requestChat(t, vs[i], "sales", "en", ""))
	}
	_, err = vs[2].Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: "sales", Language: "en"}}})
	if !isRateLimited(err) {
		t.Fatalf("third chat request: %v, want RATE_LIMITED", err)
	}
	if open, err := m.store.OpenChats(); err != nil || len(open) != 2 {
		t.Fatalf("open chats after a limited request: %d, %v; want 2", len(open), err)
	}
	// A closed connection frees its place.
	vs[0].Close()
	eventually(t, "a connection slot to free", func() bool {
		c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws/visitor", nil)
		if err == nil {
			c.CloseNow()
		}
		return err == nil
	})
}
