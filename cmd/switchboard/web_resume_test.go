package main

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// stop ends the child broker: SIGTERM (a clean shutdown that closes every
// socket with 1001) or SIGKILL.
func (c *child) stop(sig syscall.Signal) {
	c.cmd.Process.Signal(sig)
	c.cmd.Wait()
}

// TestWebConsoleResumesAfterRestart: the broker stops in the middle of a
// chat (cleanly, then killed with SIGKILL); the console reconnects by
// itself and resumes by sequence: a line typed while the broker was down is
// sent once it is back, and every acknowledged line shows once, in order.
func TestWebConsoleResumesAfterRestart(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) { consoleRestart(t, sig) })
	}
}

func consoleRestart(t *testing.T, sig syscall.Signal) {
	dir, addr := t.TempDir(), freeAddr(t)
	ch := startChildAt(t, dir, addr)
	base := "http://" + addr
	p := consoleLogin(t, base, "alice@demo", "alice-demo-pw")
	p.setAvailable()
	v, w := newVisitor(t, addr, true)
	env, err := v.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
		Department: "sales", Language: "en", Name: "Ann", FirstMessage: "v-1 before"}}})
	if err != nil {
		t.Fatal(err)
	}
	chat := mustChatID(t, env)
	p.click(fmt.Sprintf(`.offer[data-chat=%q] .accept`, chat))
	p.typeIn(paneSel(chat)+" .compose", "a-1 before", true)
	p.wait("a-1 stored", fmt.Sprintf(`document.querySelector(%q)`, paneSel(chat)+` .line.own[data-state="stored"]`))
	last := awaitEvent(t, v, chat, func(e *messages.ChatEvent) bool { return e.GetMessage().GetText() == "a-1 before" }).GetSeq()

	ch.stop(sig)
	p.wait("the console to notice", `document.body.dataset.conn !== "open"`)
	p.typeIn(paneSel(chat)+" .compose", "a-2 while down", true)
	if got := eval[string](p, fmt.Sprintf(`document.querySelector(%q).dataset.state`, paneSel(chat)+" .line.own:last-child")); got != "sending" {
		t.Fatalf("a line typed while down is %q, want sending", got)
	}
	startChildAt(t, dir, addr)
	p.wait("the console to reconnect", `document.body.dataset.conn === "open"`)
	p.wait("a-2 stored", fmt.Sprintf(`[...document.querySelectorAll(%q)].every(li => li.dataset.state === "stored")`, paneSel(chat)+" .line.own"))

	// The visitor comes back too, from its last seq, and answers.
	v2 := dial(t, addr, "visitor", true)
	if _, err := v2.Hello(ctxT(t), &messages.Hello{ResumeToken: w.GetResumeToken(), Cursors: map[string]uint64{chat: last}}); err != nil {
		t.Fatal(err)
	}
	if got := awaitEvent(t, v2, chat, func(e *messages.ChatEvent) bool { return e.GetMessage() != nil }).GetMessage().GetText(); got != "a-2 while down" {
		t.Fatalf("the visitor's first line after the restart is %q", got)
	}
	send(t, v2, chat, "v-2", "v-2 after")
	p.wait("v-2 in the console", fmt.Sprintf(`document.querySelector(%q).textContent.includes("v-2 after")`, paneSel(chat)+" .transcript"))

	assertTranscript(t, p, chat, []string{"v-1 before", "a-1 before", "a-2 while down", "v-2 after"})
	// And the stored record agrees: each line once.
	var texts []string
	for _, e := range record(t, addr, chat).GetTranscript() {
		if e.GetMessage() != nil {
			texts = append(texts, e.GetMessage().GetText())
		}
	}
	if want := []string{"v-1 before", "a-1 before", "a-2 while down", "v-2 after"}; !slices.Equal(texts, want) {
		t.Fatalf("stored lines %q, want %q", texts, want)
	}
	p.screenshot("console-after-restart-" + strings.ToLower(sig.String()))
}

// assertTranscript checks a console pane: every line once (strictly
// increasing seq) and the message lines exactly want, in order.
func assertTranscript(t *testing.T, p *page, chat string, want []string) {
	t.Helper()
	type line struct {
		Seq  int    `json:"seq"`
		Text string `json:"text"`
		Msg  bool   `json:"msg"`
	}
	lines := eval[[]line](p, fmt.Sprintf(`[...document.querySelectorAll(%q)].map(li => ({seq: Number(li.dataset.seq || 0),
		text: li.querySelector(".text").textContent, msg: li.classList.contains("message")}))`, paneSel(chat)+" .transcript .line"))
	var msgs []string
	prev := 0
	for _, l := range lines {
		if l.Seq <= prev {
			t.Fatalf("seq %d after %d: a line shown twice or out of order: %+v", l.Seq, prev, lines)
		}
		prev = l.Seq
		if l.Msg {
			msgs = append(msgs, l.Text)
		}
	}
	if !slices.Equal(msgs, want) {
		t.Fatalf("transcript messages %q, want %q", msgs, want)
	}
}
