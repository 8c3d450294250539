package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// The terminal client (`switchboard chat`) driven as a function: lines
// written to its stdin, what it prints read from its stdout, against a
// real broker.

// term is one running terminal client.
type term struct {
	t    *testing.T
	name string
	in   *io.PipeWriter
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (tm *term) Write(p []byte) (int, error) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.Write(p)
}

// startTerm runs `switchboard chat args...` until the test ends.
func startTerm(t *testing.T, name string, args ...string) *term {
	t.Helper()
	pr, pw := io.Pipe()
	tm := &term{t: t, name: name, in: pw, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		err := runChat(ctx, args, pr, tm, tlogWriter{t})
		pr.CloseWithError(fmt.Errorf("%s's client has stopped", name))
		tm.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		pw.Close()
		select {
		case <-tm.done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s's client did not stop", name)
		}
		t.Logf("%s's terminal:\n%s", name, tm.output())
	})
	return tm
}

func (tm *term) output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// typeLine types one line.
func (tm *term) typeLine(line string) {
	tm.t.Helper()
	if _, err := fmt.Fprintln(tm.in, line); err != nil {
		tm.t.Fatalf("typing %q to %s: %v", line, tm.name, err)
	}
}

// wait polls until the output holds want and returns the output.
func (tm *term) wait(want string) string {
	tm.t.Helper()
	if !poll(15*time.Second, func() bool { return strings.Contains(tm.output(), want) }) {
		tm.t.Fatalf("%s's terminal never showed %q; it shows:\n%s", tm.name, want, tm.output())
	}
	return tm.output()
}

// startAlice runs the terminal client as Alice, accepting every offer.
func startAlice(t *testing.T, addr string) *term {
	t.Helper()
	alice := startTerm(t, "alice", "-as", "agent", "-addr", addr, "-login", "alice@demo", "-password", "alice-demo-pw", "-auto")
	alice.wait("Logged in as Alice")
	return alice
}

// visitorFor brings a visitor called name to an agent's terminal client
// that has no chat yet, which makes the chat its current one; it returns
// the visitor, the chat and its label.
func visitorFor(t *testing.T, agent *term, addr, name, first string) (*gateway.Client, string, string) {
	t.Helper()
	v, _ := newVisitor(t, addr, false)
	chat := requestNamed(t, v, name, first)
	label := strings.Fields(name)[0] + "/" + shortID(chat)
	agent.wait("(your lines now go to chat " + label)
	return v, chat, label
}

// requestNamed asks for a chat in sales as a visitor called name.
func requestNamed(t *testing.T, v *gateway.Client, name, first string) string {
	t.Helper()
	return mustChatID(t, mustCall(t, v, &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
		Department: "sales", Language: "en", Name: name, FirstMessage: first}}}))
}

// agentLines returns the texts of the messages staff sent in a chat.
func agentLines(t *testing.T, m *Main, chat string) []string {
	t.Helper()
	rec, err := m.broker.ChatRecord(chat)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, ev := range rec.GetTranscript() {
		if msg := ev.GetMessage(); msg != nil && msg.GetFrom().GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_AGENT {
			texts = append(texts, msg.GetText())
		}
	}
	return texts
}

// TestTerminalAgentWithTwoChats: an agent with two chats sees which chat
// each line comes from, switches with /chat (by name or short id) and
// each line lands in the chosen chat only; when the current chat ends
// they are told, and a line typed then goes nowhere rather than to the
// other chat.
func TestTerminalAgentWithTwoChats(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	alice := startAlice(t, addr)
	ann, annChat, annLabel := visitorFor(t, alice, addr, "Ann Lee", "hi from Ann")
	bo, _ := newVisitor(t, addr, false)
	boChat := requestNamed(t, bo, "Bo", "hi from Bo")
	boLabel := "Bo/" + shortID(boChat)
	alice.wait("* chat " + boLabel + " is yours too (Bo): /chat " + shortID(boChat))
	// Each incoming line names its chat.
	alice.wait("] (visitor) Bo: hi from Bo")
	out := alice.output()
	if !strings.Contains(out, "["+annLabel+" 2] (visitor) Ann Lee: hi from Ann") || !strings.Contains(out, "["+boLabel+" 2] (visitor) Bo: hi from Bo") {
		t.Fatalf("incoming lines without their chat:\n%s", out)
	}

	// A new chat did not take the current one: this goes to Ann.
	alice.typeLine("for Ann")
	alice.wait("[" + annLabel)
	alice.typeLine("/chat bo")
	alice.wait("(your lines now go to chat " + boLabel)
	alice.typeLine("for Bo")
	alice.typeLine("/chat " + shortID(annChat))
	alice.typeLine("again for Ann")
	alice.typeLine("/chats")
	alice.wait("* " + annLabel + "  Ann Lee in sales")
	eventually(t, "both lines stored", func() bool { return len(agentLines(t, m, annChat)) == 2 && len(agentLines(t, m, boChat)) == 1 })
	if a, b := agentLines(t, m, annChat), agentLines(t, m, boChat); strings.Join(a, "|") != "for Ann|again for Ann" || strings.Join(b, "|") != "for Bo" {
		t.Fatalf("Ann's chat got %q, Bo's %q", a, b)
	}
	alice.wait("[" + annLabel + " 5] Alice: again for Ann")

	// Ann ends the chat: Alice is told, and her next line is not sent to Bo.
	mustCall(t, ann, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: annChat}}})
	alice.wait("* chat " + annLabel + ": it has ended")
	alice.wait("(no current chat now")
	alice.typeLine("meant for Ann")
	alice.wait("! no current chat")
	alice.typeLine("/chat nobody")
	alice.wait("! no open chat matches nobody")
	alice.typeLine("/chat Bo")
	alice.typeLine("bye Bo")
	eventually(t, "bye Bo stored", func() bool { return len(agentLines(t, m, boChat)) == 2 })
	if b := agentLines(t, m, boChat); strings.Join(b, "|") != "for Bo|bye Bo" {
		t.Fatalf("Bo's chat got %q", b)
	}
}

// TestTerminalVisitorWaitAndHelp: a waiting visitor is told the estimated
// wait (none while no agent is available, then minutes), and the
// visitor's /help lists only visitor commands, an agent's the agent's.
func TestTerminalVisitorWaitAndHelp(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	mustAdmin(t, addr, "PATCH", "/admin/agents/alice", map[string]any{"max_chats": 1})
	first, _ := newVisitor(t, addr, false)
	firstChat := requestNamed(t, first, "First", "")
	ann := startTerm(t, "ann", "-addr", addr, "-name", "Ann")
	ann.wait("you are number 2 in the queue; no agent is available right now, so there is no estimated wait yet")
	ann.typeLine("/help")
	help := ann.wait("/quit")
	for _, agentOnly := range []string{"/accept", "/chat", "/transfer", "/whisper", "/takeover", "/monitor", "/online"} {
		if strings.Contains(help, agentOnly) {
			t.Fatalf("the visitor's help lists %s:\n%s", agentOnly, help)
		}
	}
	if !strings.Contains(help, "\n  /close   end the chat\n") {
		t.Fatalf("the visitor's help lacks /close:\n%s", help)
	}

	// Alice (one chat at most) takes the first chat: Ann is next, and a
	// slot frees every 3 minutes (the default handling time) / 1.
	alice, _ := newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	accept(t, alice, awaitOffer(t, alice).GetChatId())
	_ = firstChat
	ann.wait("you are number 1 in the queue; estimated wait: about 3 min")

	bob := startTerm(t, "bob", "-as", "agent", "-addr", addr, "-login", "bob@demo", "-password", "bob-demo-pw")
	bob.wait("Logged in as Bob")
	bob.typeLine("/help")
	bob.wait("/takeover ID")
	if !strings.Contains(bob.output(), "/chat ID") || strings.Contains(bob.output(), "end the chat\n") {
		t.Fatalf("the agent's help:\n%s", bob.output())
	}
}

// TestTerminalTakeOverIsTold: the agent a chat is taken from is told
// plainly, by whom, and their lines no longer go to it; an account
// suspended ends the client with the reason instead of reconnecting.
func TestTerminalTakeOverIsTold(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	alice := startAlice(t, addr)
	_, chat, label := visitorFor(t, alice, addr, "Ann", "help")
	// Dana, a supervisor, watches from her terminal, whispers, takes over.
	dana := startTerm(t, "dana", "-as", "agent", "-addr", addr, "-login", "dana@demo", "-password", "dana-demo-pw")
	dana.wait("Logged in as Dana")
	dana.typeLine("/watch " + chat)
	dana.wait("(your lines now go to chat " + label)
	dana.typeLine("/whisper psst")
	alice.wait("[" + label + " 5] Dana (whisper): psst")
	dana.typeLine("/takeover " + chat)
	alice.wait("Dana TOOK OVER this chat from you: it is no longer yours")
	alice.wait("* chat " + label + ": you are no longer in it (Dana has it now)")
	dana.typeLine("it is Dana now")
	eventually(t, "Dana's line stored", func() bool { return len(agentLines(t, m, chat)) == 2 })
	alice.typeLine("still there?")
	alice.wait("! no current chat")
	if got := agentLines(t, m, chat); strings.Join(got, "|") != "psst|it is Dana now" {
		t.Fatalf("alice's line reached the chat after the take-over: %q", got)
	}

	// Suspended: the broker closes with 4003 and the client stops, saying why.
	mustAdmin(t, addr, "PATCH", "/admin/agents/alice", map[string]any{"suspended": true})
	alice.wait("! the broker ended the session (4003, the account was suspended or removed)")
	select {
	case err := <-alice.done:
		if err == nil || !strings.Contains(err.Error(), "4003") {
			t.Fatalf("the client ended with %v", err)
		}
		alice.done <- err
	case <-time.After(15 * time.Second):
		t.Fatal("the client did not stop after 4003")
	}
	if strings.Contains(alice.output(), "reconnected") {
		t.Fatalf("the client reconnected after 4003:\n%s", alice.output())
	}
}

// freeAddr returns a loopback address nothing listens on now, so that a
// broker can be started, stopped and started again on it.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestTerminalResumesAfterRestart: the broker goes away in the middle of
// a chat, stopped (sockets close with 1001) or killed with SIGKILL (the
// sockets just break), and starts again on the same data and address.
// Both terminal clients reconnect by themselves; lines typed while the
// broker was down are sent after the reconnect; every line reaches both
// sides once, in order.
func TestTerminalResumesAfterRestart(t *testing.T) {
	t.Run("stopped", func(t *testing.T) {
		dir, addr := t.TempDir(), freeAddr(t)
		at := func(c *Config) { c.Addr = addr }
		m := startBroker(t, dir, at)
		terminalRestart(t, addr, "closed with 1001", func() { m.Close() }, func() { startBroker(t, dir, at) })
	})
	t.Run("killed", func(t *testing.T) {
		dir, addr := t.TempDir(), freeAddr(t)
		c := startChildAt(t, dir, addr)
		terminalRestart(t, addr, "", c.kill, func() { startChildAt(t, dir, addr) })
	})
}

// terminalRestart runs a chat between two terminal clients on the broker
// at addr, and stops and starts the broker in the middle; the clients
// must say the connection was lost (with lost in the words, if given).
func terminalRestart(t *testing.T, addr, lost string, stop, start func()) {
	alice := startAlice(t, addr)
	ann := startTerm(t, "ann", "-addr", addr, "-name", "Ann")
	alice.wait("(your lines now go to chat Ann/")
	ann.wait("Alice joined the chat")

	ann.typeLine("ann 1")
	alice.typeLine("alice 1")
	ann.wait("Alice: alice 1")
	alice.wait("Ann: ann 1")

	stop()
	ann.wait("! connection lost (" + lost)
	alice.wait("! connection lost (" + lost)
	ann.typeLine("ann 2 (typed while the broker was down)")
	alice.typeLine("alice 2 (typed while the broker was down)")
	ann.wait("(not connected: this line is kept")
	alice.wait("(not connected: this line is kept")
	start()
	ann.wait("* reconnected")
	alice.wait("* reconnected")
	ann.typeLine("ann 3")
	alice.typeLine("alice 3")

	want := []string{"ann 1", "ann 2 (typed while the broker was down)", "ann 3", "alice 1", "alice 2 (typed while the broker was down)", "alice 3"}
	for _, tm := range []*term{ann, alice} {
		tm.wait(": ann 3\n")
		tm.wait(": alice 3\n")
		out := tm.output()
		for i, line := range want {
			if n := strings.Count(out, ": "+line+"\n"); n != 1 {
				t.Fatalf("%s's terminal shows %q %d times:\n%s", tm.name, line, n, out)
			}
			if i%3 > 0 && strings.Index(out, ": "+line+"\n") < strings.Index(out, ": "+want[i-1]+"\n") {
				t.Fatalf("%s's terminal shows %q before %q:\n%s", tm.name, line, want[i-1], out)
			}
		}
	}
}
