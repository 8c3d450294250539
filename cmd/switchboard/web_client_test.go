package main

import (
	"testing"
)

// fakeSocket replaces the page's WebSocket with one the test drives:
// window.sockets lists those the client opened, each with the frames it
// sent (parsed); open(), receive(obj) and drop(code) act as the network.
const fakeSocket = `(() => {
  class Fake extends EventTarget {
    constructor(url) { super(); this.url = url; this.readyState = 0; this.sent = []; window.sockets.push(this); }
    send(d) { this.sent.push(JSON.parse(d)); }
    close(code) { this.drop(code || 1005); }
    open() { this.readyState = 1; this.dispatchEvent(new Event('open')); }
    receive(obj) { this.dispatchEvent(new MessageEvent('message', { data: JSON.stringify(obj) })); }
    drop(code) {
      if (this.readyState === 3) return;
      this.readyState = 3;
      const ev = new Event('close');
      ev.code = code;
      this.dispatchEvent(ev);
    }
  }
  Fake.OPEN = 1;
  window.sockets = [];
  window.WebSocket = Fake;
  return true;
})()`

// TestWebClientKeepsGoing: the browsers' protocol client (lib/client.js),
// on a socket the test drives: a connection that drops during the hello
// is opened again (not ended, which would log the agent out or lose the
// visitor's chat); a message refused with a temporary error is sent again
// under the same id; a push error saying a chat could not be replayed
// resumes the chats from their cursors; a refused hello ends it.
func TestWebClientKeepsGoing(t *testing.T) {
	m := startBroker(t, t.TempDir())
	p := newPage(t)
	p.navigate("http://" + m.Addr() + "/")
	eval[bool](p, fakeSocket)
	eval[bool](p, `import("/lib/client.js").then(({ Client }) => {
		const c = new Client("/ws/agent", () => ({ session_token: "t" }));
		window.states = [];
		c.addEventListener("state", (e) => window.states.push(e.detail.state));
		c.start();
		window.client = c;
		return true;
	})`)
	// The first socket opens and drops before the welcome.
	p.wait("the first socket", `window.sockets.length === 1`)
	eval[bool](p, `(window.sockets[0].open(), true)`)
	p.wait("the hello", `window.sockets[0].sent.length === 1 && window.sockets[0].sent[0].hello`)
	eval[bool](p, `(window.sockets[0].drop(1006), true)`)
	p.wait("a second socket", `window.sockets.length === 2`)
	if got := eval[string](p, `window.states.join(",")`); got != "connecting,closed,connecting" {
		t.Fatalf("states %q: a drop during the hello must reconnect", got)
	}

	// The second one says hello and is welcomed; a message is refused for
	// now, then sent again with the same id.
	eval[bool](p, `(window.sockets[1].open(), true)`)
	p.wait("the second hello", `window.sockets[1].sent.length === 1`)
	eval[bool](p, `(window.sockets[1].receive({ ref: window.sockets[1].sent[0].ref, welcome: { agent_id: "a" } }), true)`)
	p.wait("open", `window.client.state === "open"`)
	eval[bool](p, `(window.client.sendMessage("c1", "hello"), true)`)
	p.wait("the message", `window.sockets[1].sent.length === 2 && window.sockets[1].sent[1].send_message`)
	eval[bool](p, `(window.sockets[1].receive({ ref: window.sockets[1].sent[1].ref,
		error: { code: "ERROR_CODE_UNAVAILABLE", message: "storage busy", temporary: true } }), true)`)
	p.wait("the message again", `window.sockets[1].sent.length === 3 && window.sockets[1].sent[2].send_message`)
	if !eval[bool](p, `window.sockets[1].sent[2].send_message.client_msg_id === window.sockets[1].sent[1].send_message.client_msg_id`) {
		t.Fatal("the message was sent again under another id")
	}
	eval[bool](p, `(window.sockets[1].receive({ ref: window.sockets[1].sent[2].ref, ack: { chat_id: "c1", seq: "4" } }), true)`)
	p.wait("the outbox empty", `window.client.outbox.size === 0`)

	// Events move the cursor; a push error about a replay resumes from it.
	eval[bool](p, `(window.sockets[1].receive({ event: { chat_id: "c1", seq: "4", message: { text: "hello" } } }), true)`)
	eval[bool](p, `(window.sockets[1].receive({ error: { code: "ERROR_CODE_UNAVAILABLE", message: "chat c1 could not be replayed now", temporary: true } }), true)`)
	p.wait("a resume from the cursor", `window.sockets[1].sent.some((f) => f.resume && f.resume.chat_id === "c1" && f.resume.after_seq === "4")`)

	// A hello the broker refuses for good ends the client.
	eval[bool](p, `(window.sockets[1].drop(1001), true)`)
	p.wait("a third socket", `window.sockets.length === 3`)
	eval[bool](p, `(window.sockets[2].open(), true)`)
	p.wait("the third hello", `window.sockets[2].sent.length === 1`)
	if got := eval[string](p, `JSON.stringify(window.sockets[2].sent[0].hello.cursors)`); got != `{"c1":"4"}` {
		t.Fatalf("the hello's cursors %s", got)
	}
	eval[bool](p, `(window.sockets[2].receive({ ref: window.sockets[2].sent[0].ref,
		error: { code: "ERROR_CODE_UNAUTHENTICATED", message: "session expired" } }), true)`)
	p.wait("ended", `window.client.state === "ended"`)
}
