package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// The terminal client's connection. It says hello with the visitor's
// resume token or the agent's session token and the cursor (last seq
// seen) of each chat, so a reconnect replays only what was missed; it
// reconnects by itself with backoff when the socket drops (the broker
// restarting closes it with 1001, a network fault with an error), and it
// stops when the broker ends the session (4003, 4004, 4005) or refuses the
// hello for good. Lines typed stay in an outbox, under their
// client_msg_id, until the broker acknowledges them: they are sent again
// after each reconnect, and the broker stores a resent id once.
//
// -addr may list several brokers, the nodes of a cluster (any node serves
// any client). The client tries them in the order given at start, until
// one answers; after a drop each attempt goes to the next one in the list,
// cycling, with the same backoff, token and cursors as with one broker.
// The order is the user's, not random, so a test (or an operator who
// prefers a node) knows which comes first.

// finalCloses are the close codes after which the client does not
// reconnect (messages/PROTOCOL.md, Close codes), with what they mean.
var finalCloses = map[websocket.StatusCode]string{
	4003: "the account was suspended or removed",
	4004: "this session ended (logged out, password changed, or the keys were rotated): log in again",
	4005: "the login window closed or the access rules no longer allow this address or time",
}

// Reconnect backoff: the first attempt after backoffBase, doubling up to
// backoffMax, each with ±25% jitter so that many clients do not come back
// at the same instant.
const (
	backoffBase = 100 * time.Millisecond
	backoffMax  = 5 * time.Second
	// writeTimeout bounds one frame's write.
	writeTimeout = 10 * time.Second
)

func backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt, 6)
	d = min(d, backoffMax)
	return time.Duration(float64(d) * (0.75 + rand.Float64()/2))
}

// outgoing is a line typed into a chat, kept until the broker stores it.
type outgoing struct {
	id      string // client_msg_id: the same on every resend
	chat    string
	text    string
	whisper bool
}

// start connects to the first broker of the list that answers, in the
// list's order. A refusal for good (a wrong password) ends it: every node
// would say the same. With one broker it fails as connect does.
func (s *chatSession) start(ctx context.Context) (*gateway.Client, *messages.Welcome, error) {
	var errs []error
	for i, addr := range s.addrs {
		s.at = i
		c, w, err := s.connect(ctx)
		if err == nil {
			return c, w, nil
		}
		if len(s.addrs) == 1 || ctx.Err() != nil || forGood(err) {
			return nil, nil, err
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
		if i+1 < len(s.addrs) {
			s.printf("! %s did not answer (%v); trying %s\n", addr, err, s.addrs[i+1])
		}
	}
	return nil, nil, fmt.Errorf("no broker answered: %w", errors.Join(errs...))
}

// forGood reports whether err is a broker's final answer (a hello refused
// for good, a final close code), which trying again would meet again.
func forGood(err error) bool {
	var e *messages.Error
	return errors.As(err, &e) && !e.GetTemporary() || finalCloses[gateway.CloseCode(err)] != ""
}

// connect dials s.addrs[s.at] and says hello; it does not yet make the
// connection the session's (attach does).
func (s *chatSession) connect(ctx context.Context) (*gateway.Client, *messages.Welcome, error) {
	hctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	role := "visitor"
	if s.agent {
		role = "agent"
	}
	c, err := gateway.Dial(hctx, "ws://"+s.addrs[s.at]+"/ws/"+role, gateway.ClientOptions{JSON: true})
	if err != nil {
		return nil, nil, err
	}
	w, err := c.Hello(hctx, s.hello())
	if err != nil {
		c.CloseNow()
		return nil, nil, err
	}
	return c, w, nil
}

// hello is what the session says on each connection: who it is (the
// tokens the first welcome gave, once there are some) and its cursors.
func (s *chatSession) hello() *messages.Hello {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &messages.Hello{Cursors: map[string]uint64{}}
	for id, seq := range s.cursors {
		h.Cursors[id] = seq
	}
	switch {
	case !s.agent:
		h.ResumeToken = s.resumeToken
	case s.sessionToken != "":
		h.SessionToken = s.sessionToken
	default:
		h.Login, h.Password = s.login, s.password
	}
	return h
}

// attach makes c the session's connection: it takes in the welcome, then
// sends the outbox again, in order, before any new line can go (s.c is
// set last, under the same lock).
func (s *chatSession) attach(ctx context.Context, c *gateway.Client, w *messages.Welcome) {
	s.welcomed(w)
	s.mu.Lock()
	s.sent = map[uint64]*outgoing{}
	for _, m := range s.outbox {
		if err := s.write(ctx, c, m); err != nil {
			break // the reader sees the drop; the next connection sends it
		}
	}
	s.c = c
	s.mu.Unlock()
	for _, o := range w.GetOffers() {
		s.offered(ctx, o)
	}
}

// write sends one outgoing line on c and remembers its ref. s.mu is held.
func (s *chatSession) write(ctx context.Context, c *gateway.Client, m *outgoing) error {
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	ref, err := c.Send(wctx, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{
		ChatId: m.chat, ClientMsgId: m.id, Text: m.text, Whisper: m.whisper}}})
	if err == nil {
		s.sent[ref] = m
	}
	return err
}

// say queues a line for chat and sends it if connected.
func (s *chatSession) say(ctx context.Context, chat, text string, whisper bool) {
	s.mu.Lock()
	s.n++
	m := &outgoing{id: fmt.Sprintf("%s-%d", s.runID, s.n), chat: chat, text: text, whisper: whisper}
	s.outbox = append(s.outbox, m)
	s.mu.Unlock()
	if !s.transmit(ctx, m) {
		s.printf("(not connected: this line is kept and sent when the connection is back)\n")
	}
}

// transmit sends m on the current connection if it is still waiting to be
// stored; it reports false when there is no connection to send it on.
func (s *chatSession) transmit(ctx context.Context, m *outgoing) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.indexOf(m) < 0 {
		return true
	}
	if s.c == nil {
		return false
	}
	return s.write(ctx, s.c, m) == nil
}

// indexOf returns m's place in the outbox or -1. s.mu is held.
func (s *chatSession) indexOf(m *outgoing) int {
	for i, o := range s.outbox {
		if o == m {
			return i
		}
	}
	return -1
}

// settled takes the line that command ref carried out of the outbox when
// the answer is final (stored, or refused for good); it returns the line,
// or nil when ref was not one.
func (s *chatSession) settled(ref uint64, final bool) *outgoing {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.sent[ref]
	delete(s.sent, ref)
	if m != nil && final {
		if i := s.indexOf(m); i >= 0 {
			s.outbox = append(s.outbox[:i], s.outbox[i+1:]...)
		}
	}
	return m
}

// unsent returns how many lines wait to be stored.
func (s *chatSession) unsent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.outbox)
}

// command sends a command that is not a line; without a connection it is
// refused at once, in words.
func (s *chatSession) command(ctx context.Context, what string, env *messages.Envelope) {
	s.mu.Lock()
	c := s.c
	s.mu.Unlock()
	if c == nil {
		s.printf("! not connected: %s was not sent; try again when the connection is back\n", what)
		return
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if _, err := c.Send(wctx, env); err != nil {
		s.printf("! %s was not sent: %v\n", what, err)
	}
}

// run reads what the broker sends, and reconnects when the connection
// drops, until ctx ends or the session ends for good (then s.done closes,
// with s.endErr saying why).
func (s *chatSession) run(ctx context.Context, c *gateway.Client) {
	defer close(s.done)
	for c != nil {
		err := s.read(ctx, c)
		s.mu.Lock()
		s.c = nil
		s.mu.Unlock()
		if ctx.Err() != nil {
			c.Close() // the client is stopping: a normal close
			return
		}
		c.CloseNow()
		if code := gateway.CloseCode(err); finalCloses[code] != "" {
			s.end(fmt.Errorf("the broker ended the session (%d, %s): %s", code, finalCloses[code], closeReason(err)))
			return
		}
		s.printf("! connection lost (%s); reconnecting...\n", closeReason(err))
		c = s.reconnect(ctx)
	}
}

// read handles envelopes from c until it closes.
func (s *chatSession) read(ctx context.Context, c *gateway.Client) error {
	for {
		env, err := c.Recv(ctx)
		if err != nil {
			return err
		}
		s.handle(ctx, env)
	}
}

// reconnect dials again with backoff, each attempt to the next broker of
// the list (cycling; with one, the same), until a hello is welcomed (it
// returns the connection, attached), ctx ends, or the broker refuses the
// session for good (nil, and the session ends).
func (s *chatSession) reconnect(ctx context.Context) *gateway.Client {
	for attempt := 0; ; attempt++ {
		select {
		case <-time.After(backoff(attempt)):
		case <-ctx.Done():
			return nil
		}
		s.at = (s.at + 1) % len(s.addrs)
		c, w, err := s.connect(ctx)
		var e *messages.Error
		switch {
		case err == nil:
			to := ""
			if len(s.addrs) > 1 {
				to = " to " + s.addrs[s.at]
			}
			s.printf("* reconnected%s (attempt %d); resuming where you were\n", to, attempt+1)
			s.attach(ctx, c, w)
			return c
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &e) && !e.GetTemporary():
			s.end(fmt.Errorf("the broker refused to resume the session: %s: %s", e.GetCode(), e.GetMessage()))
			return nil
		case finalCloses[gateway.CloseCode(err)] != "":
			code := gateway.CloseCode(err)
			s.end(fmt.Errorf("the broker ended the session (%d, %s): %s", code, finalCloses[code], closeReason(err)))
			return nil
		}
	}
}

// end stops the session for good with err.
func (s *chatSession) end(err error) {
	s.mu.Lock()
	s.endErr = err
	s.mu.Unlock()
	s.printf("! %v\n", err)
}

// closeReason says in words how a connection ended.
func closeReason(err error) string {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		if ce.Reason != "" {
			return fmt.Sprintf("closed with %d: %s", int(ce.Code), ce.Reason)
		}
		return fmt.Sprintf("closed with %d", int(ce.Code))
	}
	return err.Error()
}
