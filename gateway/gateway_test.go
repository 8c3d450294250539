package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-chat/switchboard/messages"
)

func TestCodecRoundTripsBothEncodings(t *testing.T) {
	env := &messages.Envelope{Ref: 7, Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: "c1", ClientMsgId: "m", Text: "héllo"}}}
	for _, typ := range []websocket.MessageType{websocket.MessageBinary, websocket.MessageText} {
		data, err := EncodeFrame(typ, env)
		if err != nil {
			t.Fatal(err)
		}
		got, derr := DecodeFrame(typ, data)
		if derr != nil || got.GetRef() != 7 || got.GetSendMessage().GetText() != "héllo" {
			t.Fatalf("%v: %v, %v", typ, got, derr)
		}
	}
}

func TestTokens(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tk := newTokens([]byte("0123456789abcdef0123456789abcdef"))
	tok := tk.sign("v", "v123", now.Add(time.Hour))
	if id, err := tk.verify("v", tok, now); err != nil || id != "v123" {
		t.Fatalf("verify = %q, %v", id, err)
	}
	if _, err := tk.verify("a", tok, now); err == nil {
		t.Fatal("a visitor token passed as an agent session")
	}
	if _, err := tk.verify("v", tok, now.Add(2*time.Hour)); err == nil {
		t.Fatal("an expired token passed")
	}
	other := newTokens([]byte("another secret of thirty-two b!!"))
	if _, err := other.verify("v", tok, now); err == nil {
		t.Fatal("a token signed with another secret passed")
	}
	for _, bad := range []string{"", ".", "abc", tok + "x", "x" + tok} {
		if _, err := tk.verify("v", bad, now); err == nil {
			t.Fatalf("token %q passed", bad)
		}
	}
	// One spelling per token: the MAC's last character carries 2 spare
	// bits, and another character that differs only in them is refused.
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(b64, tok[len(tok)-1])
	twin := tok[:len(tok)-1] + string(b64[last^1])
	if _, err := tk.verify("v", twin, now); err == nil {
		t.Fatalf("token %q, the same bytes spelled otherwise, passed", twin)
	}
}

func TestPasswords(t *testing.T) {
	p := PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}
	h, err := HashPassword("correct horse", p)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("correct horse", p)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if !CheckPassword(h, "correct horse") || CheckPassword(h, "wrong horse") || CheckPassword("$argon2id$garbage", "x") {
		t.Fatal("CheckPassword is wrong")
	}
}
