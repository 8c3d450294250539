package main

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
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
	p, shopPage, w, chat := widgetChat(t, addr, "Ann", "v-1 before")
	p.typeIn(paneSel(chat)+" .compose", "a-1 before", true)
	p.wait("a-1 stored", fmt.Sprintf(`document.querySelector(%q)`, paneSel(chat)+` .line.own[data-state="stored"]`))
	w.wait("a-1 on the visitor's page", `document.querySelector(".transcript").textContent.includes("a-1 before")`)

	// A supervisor follows the department in the monitor.
	dana := consoleLogin(t, base, "dana@demo", "dana-demo-pw")
	dana.click("#tab-monitor")
	dana.click("#tab-chats") // the monitor goes on while another tab shows
	row := fmt.Sprintf(`.card[data-dept="sales"] tr[data-chat=%q]`, chat)
	dana.wait("the chat in the monitor", fmt.Sprintf(`document.querySelector(%q)`, row))

	ch.stop(sig)
	p.wait("the console to notice", `document.body.dataset.conn !== "open"`)
	w.wait("the widget to notice", `document.body.dataset.conn !== "open"`)
	// Both sides write while the broker is down: the lines wait, marked
	// as being sent.
	p.typeIn(paneSel(chat)+" .compose", "a-2 while down", true)
	if got := eval[string](p, fmt.Sprintf(`document.querySelector(%q).dataset.state`, paneSel(chat)+" .line.own:last-child")); got != "sending" {
		t.Fatalf("a line typed while down is %q, want sending", got)
	}
	w.typeIn("#compose", "v-2 while down", true)
	w.wait("the visitor's line waits", `[...document.querySelectorAll(".line.own")].some(l => l.dataset.state === "sending" && l.textContent.includes("v-2 while down"))`)

	startChildAt(t, dir, addr)
	p.wait("the console to reconnect", `document.body.dataset.conn === "open"`)
	w.wait("the widget to reconnect", `document.body.dataset.conn === "open"`)
	p.wait("a-2 stored", fmt.Sprintf(`[...document.querySelectorAll(%q)].every(li => li.dataset.state === "stored")`, paneSel(chat)+" .line.own"))
	w.wait("v-2 stored", `[...document.querySelectorAll(".line.own")].every(l => l.dataset.state === "stored")`)
	w.typeIn("#compose", "v-3 after", true)
	p.wait("v-3 in the console", fmt.Sprintf(`document.querySelector(%q).textContent.includes("v-3 after")`, paneSel(chat)+" .transcript"))
	w.wait("a-2 on the visitor's page", `document.querySelector(".transcript").textContent.includes("a-2 while down")`)

	// Each line once, in order, on both pages and in the stored record
	// (the two lines written while down may be stored in either order).
	var stored []string
	for _, e := range record(t, addr, chat).GetTranscript() {
		if e.GetMessage() != nil {
			stored = append(stored, e.GetMessage().GetText())
		}
	}
	if len(stored) != 5 || !slices.Equal(stored[:2], []string{"v-1 before", "a-1 before"}) || stored[4] != "v-3 after" ||
		!slices.Contains(stored[2:4], "a-2 while down") || !slices.Contains(stored[2:4], "v-2 while down") {
		t.Fatalf("stored lines %q", stored)
	}
	assertTranscript(t, p, chat, stored)
	if got := widgetLines(w); !slices.Equal(got, stored) {
		t.Fatalf("the visitor's page shows %q, stored %q", got, stored)
	}
	// The broker keeps no monitor across a restart: the console asked
	// again, so the supervisor sees the chat close.
	dana.wait("Dana reconnected", `document.body.dataset.conn === "open"`)
	p.click(paneSel(chat) + " .close-chat")
	dana.wait("the closed chat gone from the monitor", fmt.Sprintf(`!document.querySelector(%q) &&
		document.querySelector('.card[data-dept="sales"] .active caption').textContent === "Chats (0)"`, row))

	name := strings.ToLower(sig.String())
	p.screenshot("console-after-restart-" + name)
	shopPage.screenshot("widget-after-restart-" + name)
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
