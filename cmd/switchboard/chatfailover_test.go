package main

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// The terminal client given several brokers (-addr A,B,C), as a client of
// a cluster is: it starts on the first that answers, and after a drop goes
// on to the next with its session and cursors.

// TestTerminalStartSkipsDeadBroker: the first address of the list has
// nothing listening, so the client says so and connects to the second;
// when none answers it fails naming each; a refusal for good (a wrong
// password) stops it at the broker that refused, without trying the rest.
func TestTerminalStartSkipsDeadBroker(t *testing.T) {
	m := startBroker(t, t.TempDir())
	live, dead := m.Addr(), freeAddr(t)

	alice := startAlice(t, dead+","+live)
	if out := alice.output(); !strings.Contains(out, "! "+dead+" did not answer (") || !strings.Contains(out, "; trying "+live+"\n") {
		t.Fatalf("alice's terminal does not say it skipped %s:\n%s", dead, out)
	}
	_, chat, _ := visitorFor(t, alice, live, "Ann", "hi")
	alice.typeLine("hello Ann")
	eventually(t, "alice's line stored", func() bool { return len(agentLines(t, m, chat)) == 1 })
	if got := agentLines(t, m, chat); strings.Join(got, "|") != "hello Ann" {
		t.Fatalf("the chat got %q", got)
	}

	t.Run("none answers", func(t *testing.T) {
		dead2 := freeAddr(t)
		var out bytes.Buffer
		err := runChat(ctxT(t), []string{"-addr", dead + "," + dead2}, strings.NewReader(""), &out, tlogWriter{t})
		if err == nil || !strings.HasPrefix(err.Error(), "no broker answered: ") ||
			!strings.Contains(err.Error(), dead+": ") || !strings.Contains(err.Error(), dead2+": ") {
			t.Fatalf("runChat = %v, want no broker answered, naming %s and %s", err, dead, dead2)
		}
		if got, want := out.String(), "! "+dead+" did not answer ("; !strings.HasPrefix(got, want) || strings.Count(got, "did not answer") != 1 {
			t.Fatalf("the terminal shows:\n%s\nwant one line starting %q", got, want)
		}
	})
	t.Run("refused for good", func(t *testing.T) {
		var out bytes.Buffer
		err := runChat(ctxT(t), []string{"-as", "agent", "-addr", live + "," + dead, "-login", "alice@demo", "-password", "wrong"},
			strings.NewReader(""), &out, tlogWriter{t})
		var e *messages.Error
		if !errors.As(err, &e) || e.GetTemporary() {
			t.Fatalf("runChat = %v, want the broker's refusal", err)
		}
		if out.Len() != 0 {
			t.Fatalf("the client tried further after a refusal:\n%s", out.String())
		}
	})
}

// TestTerminalFailsOverToAnotherBroker: the broker on data folder D
// serving at A closes; while the agent's client (-addr A,B) is away, the
// visitor resumes on another broker on D and writes, and the agent types
// a line; then a broker on D starts at B. The client reconnects to B with
// its session and cursors and shows what it missed: every event of the
// chat once, in order, none missing; its line is stored once.
func TestTerminalFailsOverToAnotherBroker(t *testing.T) {
	dir, addrA, addrB, addrX := t.TempDir(), freeAddr(t), freeAddr(t), freeAddr(t)
	for addrB == addrA || addrX == addrA || addrX == addrB {
		addrB, addrX = freeAddr(t), freeAddr(t)
	}
	at := func(addr string) func(*Config) { return func(c *Config) { c.Addr = addr } }
	m1 := startBroker(t, dir, at(addrA))
	alice := startAlice(t, addrA+","+addrB)
	ann, w := newVisitor(t, addrA, false)
	chat := requestNamed(t, ann, "Ann", "hi")
	label := "Ann/" + shortID(chat)
	alice.wait("(your lines now go to chat " + label)
	alice.typeLine("alice 1")
	alice.wait("] Alice: alice 1\n")

	m1.Close()
	alice.wait("! connection lost (closed with 1001")
	alice.typeLine("alice 2 (typed while away)")
	alice.wait("(not connected: this line is kept")

	// The visitor goes to another node (here a broker on D at X, not in
	// Alice's list, so that Alice cannot be back before the line is
	// stored) and writes.
	m2 := startBroker(t, dir, at(addrX))
	ann2 := dial(t, m2.Addr(), "visitor", false)
	if _, err := ann2.Hello(ctxT(t), &messages.Hello{ResumeToken: w.GetResumeToken()}); err != nil {
		t.Fatal(err)
	}
	awaySeq := send(t, ann2, chat, "ann-away", "ann 2 (while Alice was away)")
	m2.Close()
	if out := alice.output(); strings.Contains(out, "reconnected") || strings.Contains(out, "ann 2") {
		t.Fatalf("alice reached a broker outside her list:\n%s", out)
	}

	m3 := startBroker(t, dir, at(addrB))
	alice.wait("* reconnected to " + addrB + " (attempt ")
	alice.wait("[" + label + " " + strconv.FormatUint(awaySeq, 10) + "] (visitor) Ann: ann 2 (while Alice was away)\n")
	eventually(t, "alice's line typed while away stored", func() bool { return len(agentLines(t, m3, chat)) == 2 })
	if got := agentLines(t, m3, chat); strings.Join(got, "|") != "alice 1|alice 2 (typed while away)" {
		t.Fatalf("the chat got %q", got)
	}
	alice.wait("] Alice: alice 2 (typed while away)\n")

	// Every event of the chat, as stored, is on Alice's terminal once and
	// in order.
	rec, err := m3.broker.ChatRecord(chat)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ev := range rec.GetTranscript() {
		want = append(want, strconv.FormatUint(ev.GetSeq(), 10))
	}
	out := alice.output()
	var shown []string
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "["+label+" "); ok {
			seq, _, _ := strings.Cut(rest, "]")
			shown = append(shown, seq)
		}
	}
	if strings.Join(shown, " ") != strings.Join(want, " ") {
		t.Fatalf("alice's terminal shows events %v of the chat, the store has %v:\n%s", shown, want, out)
	}
	if strings.Contains(out, "ended while you were disconnected") || strings.Count(out, "Logged in as") != 1 || strings.Count(out, "* reconnected") != 1 {
		t.Fatalf("alice's session did not resume as one:\n%s", out)
	}
}
