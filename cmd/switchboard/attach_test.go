package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// pngBytes is a small real PNG picture.
func pngBytes(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const pdfBytes = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

// fileCall calls a chat's file route with a bearer token (a resume or a
// session token; none when empty).
func fileCall(t testing.TB, method, u, token, declared string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if declared != "" {
		req.Header.Set("Content-Type", declared)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res, data
}

// upload sends a file to chat as the holder of token.
func upload(t testing.TB, addr, token, chat, name, declared string, body []byte) (int, map[string]any) {
	t.Helper()
	res, data := fileCall(t, "POST", "http://"+addr+"/api/chats/"+chat+"/files?name="+url.QueryEscape(name), token, declared, body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("upload answer %q: %v", data, err)
	}
	return res.StatusCode, out
}

// activeChat: a visitor asks in sales and Alice takes the chat.
func activeChat(t *testing.T, addr string) (v, a *gateway.Client, vw, aw *messages.Welcome, chat string) {
	t.Helper()
	v, vw = newVisitor(t, addr, true)
	chat = mustChatID(t, requestChat(t, v, "sales", "en", "Here is a screenshot"))
	a, aw = newAgent(t, addr, "alice@demo", "alice-demo-pw", true)
	awaitOffer(t, a)
	accept(t, a, chat)
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetAssigned() != nil })
	return v, a, vw, aw, chat
}

// TestAttachmentEndToEnd: the visitor sends a picture, the agent sees it in
// the chat and downloads it with the safe headers; the agent sends a PDF
// the visitor sees and downloads as a file; the chat goes on meanwhile.
func TestAttachmentEndToEnd(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	v, a, vw, aw, chat := activeChat(t, addr)
	visitorSendsPicture(t, addr, v, a, vw, aw, chat)
	agentSendsPDF(t, addr, v, vw, aw, chat)
	// The transcript keeps both.
	rec, _ := m.broker.ChatRecord(chat)
	n := 0
	for _, ev := range rec.GetTranscript() {
		if ev.GetAttachment() != nil {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("transcript has %d attachments, want 2", n)
	}
}

// visitorSendsPicture: the declared type is not trusted, the name loses
// its path and quotes; the agent sees the event and downloads the picture
// with the safe headers; the chat goes on.
func visitorSendsPicture(t *testing.T, addr string, v, a *gateway.Client, vw, aw *messages.Welcome, chat string) {
	t.Helper()
	pic := pngBytes(t)
	code, out := upload(t, addr, vw.GetResumeToken(), chat, `..\..\my "shot".png`, "text/html", pic)
	if code != http.StatusCreated || out["content_type"] != "image/png" || out["name"] != "my shot.png" || out["size"] != float64(len(pic)) {
		t.Fatalf("upload = %d %v", code, out)
	}
	ev := awaitEvent(t, a, chat, func(ev *messages.ChatEvent) bool { return ev.GetAttachment() != nil })
	at := ev.GetAttachment()
	if at.GetFileId() != out["file_id"] || at.GetName() != "my shot.png" || at.GetContentType() != "image/png" || at.GetSize() != uint64(len(pic)) ||
		at.GetFrom().GetKind() != messages.ParticipantKind_PARTICIPANT_KIND_VISITOR || ev.GetInternal() || ev.GetSeq() != uint64(out["seq"].(float64)) {
		t.Fatalf("agent's attachment event = %v", ev)
	}
	send(t, v, chat, "v-after", "did you get it?")

	res, body := fileCall(t, "GET", "http://"+addr+out["url"].(string), aw.GetSessionToken(), "", nil)
	h := res.Header
	if res.StatusCode != 200 || !bytes.Equal(body, pic) || h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("Content-Disposition") != `inline; filename="my shot.png"` || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") ||
		!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("agent's download = %d %v (%d bytes)", res.StatusCode, h, len(body))
	}
}

// agentSendsPDF: the visitor sees it (from Alice, by name, her id hidden)
// and downloads it as an attachment with its name encoded.
func agentSendsPDF(t *testing.T, addr string, v *gateway.Client, vw, aw *messages.Welcome, chat string) {
	t.Helper()
	code, out := upload(t, addr, aw.GetSessionToken(), chat, "invoice €.pdf", "", []byte(pdfBytes))
	if code != http.StatusCreated || out["content_type"] != "application/pdf" {
		t.Fatalf("agent's upload = %d %v", code, out)
	}
	ev := awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetAttachment().GetName() == "invoice €.pdf" })
	if ev.GetAttachment().GetFrom().GetDisplayName() != "Alice" || ev.GetAttachment().GetFrom().GetId() == "alice" {
		t.Fatalf("visitor's attachment event = %v (staff ids stay hidden)", ev)
	}
	res, body := fileCall(t, "GET", "http://"+addr+out["url"].(string), vw.GetResumeToken(), "", nil)
	if res.StatusCode != 200 || string(body) != pdfBytes || res.Header.Get("Content-Disposition") != `attachment; filename*=utf-8''invoice%20%E2%82%AC.pdf` ||
		res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("visitor's download = %d %v", res.StatusCode, res.Header)
	}
}

// TestAttachmentAndContextSurviveKill9: an acknowledged file and visitor
// context are there after the broker is killed with SIGKILL.
func TestAttachmentAndContextSurviveKill9(t *testing.T) {
	dir := t.TempDir()
	ch := startChild(t, dir)
	v, a, vw, _, chat := activeChat(t, ch.addr)
	if _, err := reportPage(v, t, "https://shop.example/cart", "Cart", ""); err != nil {
		t.Fatal(err)
	}
	pic := pngBytes(t)
	code, out := upload(t, ch.addr, vw.GetResumeToken(), chat, "shot.png", "", pic)
	if code != 201 {
		t.Fatalf("upload = %d %v", code, out)
	}
	v.CloseNow()
	a.CloseNow()
	ch.kill()
	ch = startChild(t, dir)
	res, body := fileCall(t, "GET", "http://"+ch.addr+out["url"].(string), testAdminToken, "", nil)
	if res.StatusCode != 200 || !bytes.Equal(body, pic) {
		t.Fatalf("after SIGKILL the file = %d (%d bytes)", res.StatusCode, len(body))
	}
	if code, vc, e := visitorContextOf(t, ch.addr, testAdminToken, chat); code != 200 || vc.GetPage().GetUrl() != "https://shop.example/cart" {
		t.Fatalf("after SIGKILL the context = %d %v %v", code, vc, e)
	}
	if rec := record(t, ch.addr, chat); rec.GetTranscript()[len(rec.GetTranscript())-1].GetAttachment().GetFileId() != out["file_id"] {
		t.Fatalf("after SIGKILL the transcript ends with %v", rec.GetTranscript()[len(rec.GetTranscript())-1])
	}
}

// chatKeys stops the broker and counts the keys under chat's prefix in
// its data folder: all of them, and those of its files.
func chatKeys(t *testing.T, m *Main, dir, chat string) (all, files int) {
	t.Helper()
	m.Close()
	db, err := pebble.Open(dir, &pebble.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := persistence.ChatPrefix(chat)
	it, _ := db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		all++
		if bytes.HasPrefix(it.Key(), append(p, "f/"...)) {
			files++
		}
	}
	return all, files
}

// prefixEnd is the first key after every key with prefix p (p's last
// byte is '/', so it only goes up by one).
func prefixEnd(p []byte) []byte {
	return append(append([]byte(nil), p[:len(p)-1]...), p[len(p)-1]+1)
}

// TestAttachmentRefusals: too large (413), a type not allowed (415), no
// token (401), staff not in the chat (403), another visitor (404), a
// closed chat (409): each a typed error, and nothing stored.
func TestAttachmentRefusals(t *testing.T) {
	dir := t.TempDir()
	m := startBroker(t, dir, func(c *Config) { c.Gateway.MaxAttachmentBytes = 1000 })
	addr := m.Addr()
	_, a, vw, aw, chat := activeChat(t, addr)
	big := append(pngBytes(t), make([]byte, 1000)...)
	_, bw := newAgent(t, addr, "bob@demo", "bob-demo-pw", false)
	_, other := newVisitor(t, addr, false)
	for _, c := range []struct {
		what, token string
		body        []byte
		status      int
		code        messages.ErrorCode
		field       string
	}{
		{"too large", vw.GetResumeToken(), big, 413, messages.ErrorCode_ERROR_CODE_TOO_LARGE, "size"},
		{"html", vw.GetResumeToken(), []byte("<html><script>alert(1)</script></html>"), 415, messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "content_type"},
		{"a program", aw.GetSessionToken(), []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), 415, messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "content_type"},
		{"empty", vw.GetResumeToken(), nil, 400, messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "size"},
		{"no token", "", pngBytes(t), 401, messages.ErrorCode_ERROR_CODE_UNAUTHENTICATED, ""},
		{"staff not in the chat", bw.GetSessionToken(), pngBytes(t), 403, messages.ErrorCode_ERROR_CODE_FORBIDDEN, ""},
		{"another visitor", other.GetResumeToken(), pngBytes(t), 404, messages.ErrorCode_ERROR_CODE_NOT_FOUND, ""},
		{"the admin credential", testAdminToken, pngBytes(t), 403, messages.ErrorCode_ERROR_CODE_FORBIDDEN, ""},
	} {
		code, out := upload(t, addr, c.token, chat, "x.png", "image/png", c.body)
		if code != c.status || out["code"] != c.code.String() || (c.field != "" && out["field"] != c.field) {
			t.Errorf("%s: %d %v; want %d %v %q", c.what, code, out, c.status, c.code, c.field)
		}
	}
	// Nobody else reads a file, and a made-up one is not found.
	code, out := upload(t, addr, vw.GetResumeToken(), chat, "ok.png", "", pngBytes(t))
	if code != 201 {
		t.Fatalf("upload = %d %v", code, out)
	}
	for _, c := range []struct {
		what, token, url string
		status           int
	}{
		{"bob", bw.GetSessionToken(), out["url"].(string), 403},
		{"another visitor", other.GetResumeToken(), out["url"].(string), 404},
		{"nobody", "", out["url"].(string), 401},
		{"a made-up file", vw.GetResumeToken(), "/api/chats/" + chat + "/files/fffffffffffffffffffffffffffff", 404},
		{"the administrator", testAdminToken, out["url"].(string), 200},
	} {
		if res, _ := fileCall(t, "GET", "http://"+addr+c.url, c.token, "", nil); res.StatusCode != c.status {
			t.Errorf("%s reads the file: %d, want %d", c.what, res.StatusCode, c.status)
		}
	}
	// A closed chat takes no more files.
	if _, err := a.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}}); err != nil {
		t.Fatal(err)
	}
	if code, out := upload(t, addr, vw.GetResumeToken(), chat, "late.png", "", pngBytes(t)); code != 409 && code != 404 {
		t.Fatalf("upload to a closed chat = %d %v", code, out)
	}
	if _, n := chatKeys(t, m, dir, chat); n != 2 { // ok.png: its description and one chunk
		t.Fatalf("%d file keys stored, want 2 (the refused uploads stored nothing)", n)
	}
}

// TestAttachmentGoneWithChat: a chat's files are under its prefix, so the
// chat's range deletion takes them; the file is not served after.
func TestAttachmentGoneWithChat(t *testing.T) {
	dir := t.TempDir()
	m := startBroker(t, dir)
	addr := m.Addr()
	_, a, vw, aw, chat := activeChat(t, addr)
	code, out := upload(t, addr, vw.GetResumeToken(), chat, "shot.png", "", pngBytes(t))
	if code != 201 {
		t.Fatalf("upload = %d %v", code, out)
	}
	if _, err := a.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}}); err != nil {
		t.Fatal(err)
	}
	if all, files := chatKeys(t, m, dir, chat); files != 2 || all <= files {
		t.Fatalf("chat keys %d, file keys %d", all, files)
	}
	// The chat's deletion: one range deletion of its prefix (what
	// persistence's DeleteChat does).
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := persistence.ChatPrefix(chat)
	if err := db.DeleteRange(p, prefixEnd(p), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()
	m = startBroker(t, dir)
	if all, _ := chatKeys(t, m, dir, chat); all != 0 {
		t.Fatalf("%d keys of the chat left", all)
	}
	m = startBroker(t, dir)
	if res, _ := fileCall(t, "GET", "http://"+m.Addr()+out["url"].(string), aw.GetSessionToken(), "", nil); res.StatusCode != 404 {
		t.Fatalf("a deleted chat's file = %d", res.StatusCode)
	}
}

// TestAttachmentDoesNotHoldUpTheChat: while a file's bytes are still
// arriving, the chat's messages go on both ways; the file is linked once
// its last byte is stored.
func TestAttachmentDoesNotHoldUpTheChat(t *testing.T) {
	m := startBroker(t, t.TempDir())
	addr := m.Addr()
	v, a, vw, _, chat := activeChat(t, addr)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/chats/"+chat+"/files?name=big.png", pr)
	req.Header.Set("Authorization", "Bearer "+vw.GetResumeToken())
	type answer struct {
		code int
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		done <- answer{code: res.StatusCode, err: fmt.Errorf("%s", body)}
	}()
	pic := append(pngBytes(t), make([]byte, 4<<20)...)
	if _, err := pw.Write(pic[:1<<20]); err != nil { // the upload is under way
		t.Fatal(err)
	}
	for i := range 5 {
		send(t, v, chat, fmt.Sprintf("v%d", i), "still there?")
		send(t, a, chat, fmt.Sprintf("a%d", i), "yes")
	}
	select {
	case ans := <-done:
		t.Fatalf("the upload ended before its last byte: %v", ans)
	default:
	}
	if _, err := pw.Write(pic[1<<20:]); err != nil {
		t.Fatalf("%v: %v", err, <-done)
	}
	pw.Close()
	if ans := <-done; ans.code != http.StatusCreated {
		t.Fatalf("upload = %v", ans)
	}
	awaitEvent(t, a, chat, func(ev *messages.ChatEvent) bool { return ev.GetAttachment().GetName() == "big.png" })
}

// A visitor's files share the chat requests' budget per address: past it,
// an upload is refused (429, a typed error) and nothing is stored; staff
// are not limited by it.
func TestAttachmentRateLimitedPerAddress(t *testing.T) {
	dir := t.TempDir()
	m := startBroker(t, dir, func(c *Config) {
		l := noLimits
		l.ChatRequestsPerMinute, l.ChatRequestBurst = 1, 2
		c.Gateway.Limits = l
	})
	addr := m.Addr()
	_, _, vw, aw, chat := activeChat(t, addr) // the chat request takes one token
	if code, out := upload(t, addr, vw.GetResumeToken(), chat, "a.png", "", pngBytes(t)); code != http.StatusCreated {
		t.Fatalf("first upload: %d %v", code, out)
	}
	code, out := upload(t, addr, vw.GetResumeToken(), chat, "b.png", "", pngBytes(t))
	if code != http.StatusTooManyRequests || out["code"] != "ERROR_CODE_RATE_LIMITED" {
		t.Fatalf("upload past the budget: %d %v, want 429 RATE_LIMITED", code, out)
	}
	if code, out := upload(t, addr, aw.GetSessionToken(), chat, "c.png", "", pngBytes(t)); code != http.StatusCreated {
		t.Fatalf("the agent's upload: %d %v", code, out)
	}
	// Two files stored (each its record and one chunk), not three.
	if _, files := chatKeys(t, m, dir, chat); files != 4 {
		t.Fatalf("%d file keys, want 4: the refused upload stored something", files)
	}
}
