package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// dialStalled opens a visitor socket with 4 KiB of receive buffer, says
// Hello with the resume token and reads nothing until the test does.
func dialStalled(t *testing.T, addr, resume string) *websocket.Conn {
	t.Helper()
	dialer := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return serr
	}}
	slow, _, err := websocket.Dial(ctxT(t), "ws://"+addr+"/ws/visitor", &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}})
	if err != nil {
		t.Fatal(err)
	}
	slow.SetReadLimit(1 << 20)
	hello, _ := proto.Marshal(&messages.Envelope{Body: &messages.Envelope_Hello{Hello: &messages.Hello{ResumeToken: resume}}})
	if err := slow.Write(ctxT(t), websocket.MessageBinary, hello); err != nil {
		t.Fatal(err)
	}
	return slow
}

// TestSlowClientIsClosedAndResumes: a visitor's second socket stops
// reading (a tiny receive buffer, nothing read) while the agent floods the
// chat. The broker closes that socket with 4008 once its outbound queue is
// full; the visitor's other socket and the agent go on unaffected; the
// slow client resumes by sequence and gets exactly what it missed.
func TestSlowClientIsClosedAndResumes(t *testing.T) {
	m := startBroker(t, t.TempDir(), func(c *Config) { c.Gateway.OutboundQueue = 64 })
	addr := m.Addr()
	v, vw := newVisitor(t, addr, false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", ""))
	a, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, awaitOffer(t, a).GetChatId())

	// The slow socket: 4 KiB of receive buffer and no reads until told.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	slow := dialStalled(t, addr, vw.GetResumeToken())
	defer slow.CloseNow()
	eventually(t, "the slow socket to be attached", func() bool { return m.Gateway().Connections() == 3 })

	// The flood: more than the socket buffers and the outbound queue hold.
	text := strings.Repeat("x", 8000)
	var last uint64
	for i := 0; i < 900; i++ {
		last = send(t, a, chat, "", text)
	}
	// Everyone else kept up: the visitor's other socket has every message.
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetSeq() == last })
	if got := send(t, v, chat, "", "still here"); got != last+1 {
		t.Fatalf("visitor's next message got seq %d, want %d", got, last+1)
	}
	last++

	// Now the slow socket reads: what was buffered, then the close, 4008.
	var seen uint64
	for {
		_, data, err := slow.Read(ctx)
		if err != nil {
			if code := websocket.CloseStatus(err); code != gateway.CloseSlowClient {
				t.Fatalf("slow socket ended with %v (code %d), want close code %d", err, code, gateway.CloseSlowClient)
			}
			break
		}
		env := &messages.Envelope{}
		if err := proto.Unmarshal(data, env); err != nil {
			t.Fatal(err)
		}
		if ev := env.GetEvent(); ev.GetChatId() == chat {
			if seen != 0 && ev.GetSeq() != seen+1 {
				t.Fatalf("slow socket: seq %d after %d", ev.GetSeq(), seen)
			}
			seen = ev.GetSeq()
		}
	}
	if seen >= last {
		t.Fatalf("the slow socket read everything (%d of %d): it was never slow", seen, last)
	}
	// It resumes from what it saw, and gets exactly the rest.
	r := dial(t, addr, "visitor", false)
	if _, err := r.Hello(ctxT(t), &messages.Hello{ResumeToken: vw.GetResumeToken(), Cursors: map[string]uint64{chat: seen}}); err != nil {
		t.Fatal(err)
	}
	for want := seen + 1; want <= last; want++ {
		if ev := awaitEvent(t, r, chat, func(*messages.ChatEvent) bool { return true }); ev.GetSeq() != want {
			t.Fatalf("resume: got seq %d, want %d", ev.GetSeq(), want)
		}
	}
	t.Logf("slow socket read up to seq %d of %d before 4008; resumed the remaining %d", seen, last, last-seen)
}
