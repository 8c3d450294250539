package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// Attacks is what the attack round measured: the abuse an attacker on the
// internet tries from one address, run against a broker of its own with
// the default limits (the load broker has them off), and what each cost
// the broker at most.
type Attacks struct {
	// Partial frames: sockets that send all but the last bytes of a 1 MiB
	// frame and wait. The broker bounds the bytes in flight per address
	// and drops a frame that does not complete in time.
	PartialFrameSockets int `json:"partial_frame_sockets"`
	// PartialFrameDropped: how many of them the broker ended (all, or
	// the attack failed).
	PartialFrameDropped int `json:"partial_frame_dropped"`
	// PartialFrameBytesPerSocket: the broker's resident memory while they
	// were held, less before, per socket.
	PartialFrameBytesPerSocket float64 `json:"partial_frame_bytes_per_socket"`
	// Replay sockets: a visitor fills a chat with large messages, then
	// opens sockets that resume it from the start and never read.
	ReplaySockets         int     `json:"replay_sockets"`
	ReplayTranscriptBytes int     `json:"replay_transcript_bytes"`
	ReplayBytesPerSocket  float64 `json:"replay_bytes_per_socket"`
	// Anonymous sessions: Hellos without a token, from one address, each
	// closed at once; those over the address's allowance are refused.
	AnonymousHellos      int     `json:"anonymous_hellos"`
	AnonymousRefused     int     `json:"anonymous_refused"`
	AnonymousBytesPerTry float64 `json:"anonymous_bytes_per_hello"`
	// Made-up chat ids in typing notices: each is refused and keeps
	// nothing.
	UnknownChatTyping int `json:"unknown_chat_typing"`
	// Audit flood: forbidden commands and huge unique logins from one
	// address; the audit entries they left in the minute.
	AuditFloodRequests           int `json:"audit_flood_requests"`
	AuditEntriesPerAddressMinute int `json:"audit_entries_per_address_minute"`
	// Queue stuffing: chats one address asks for in one department with
	// nobody online; those past its share of the line are refused.
	QueueStuffTried   int `json:"queue_stuff_tried"`
	QueueStuffRefused int `json:"queue_stuff_refused"`
	// Slow HTTP: connections that send half a request and wait; the
	// broker ends them.
	SlowHTTPConns  int `json:"slow_http_connections"`
	SlowHTTPClosed int `json:"slow_http_closed"`
}

// attackFrameTimeout is the attack broker's frame deadline (the default
// is 30 s; the round would wait that long).
const attackFrameTimeout = 2 * time.Second

// attackRound runs every attack against a broker of its own and records
// the figures; each attack that is not answered as expected counts as an
// unexpected bad input (which fails the run).
func (r *runner) attackRound(ctx context.Context) {
	if r.cfg.Target != "" {
		r.note("attacks: skipped with -target (they need a broker of the harness's own, with the default limits)")
		return
	}
	if r.cl != nil {
		r.note("attacks: skipped in a cluster run (they start a single broker of their own, with the default limits)")
		return
	}
	r.phase.Store("attacks")
	a, err := r.startAttackBroker(ctx)
	if err != nil {
		r.badOutcome("attack broker", err)
		return
	}
	defer a.stop()
	for _, step := range []struct {
		name string
		run  func(context.Context, *attackBroker, *Attacks) error
	}{
		{"partial frames", attackPartialFrames},
		{"replay sockets", attackReplay},
		{"anonymous sessions", attackAnonymous},
		{"audit flood", attackAudit},
		{"queue stuffing", attackQueue},
		{"slow HTTP", attackSlowHTTP},
	} {
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		err := step.run(sctx, a, &r.rep.Attacks)
		cancel()
		r.badOutcome(step.name, err)
	}
	at := r.rep.Attacks
	r.note("attacks: partial frames %.0f B/socket (%d/%d dropped); replay sockets %.0f B/socket; anonymous Hellos %.0f B each (%d/%d refused); %d audit entries per address per minute after %d abusive requests; queue share %d/%d refused; slow HTTP %d/%d closed",
		at.PartialFrameBytesPerSocket, at.PartialFrameDropped, at.PartialFrameSockets, at.ReplayBytesPerSocket,
		at.AnonymousBytesPerTry, at.AnonymousRefused, at.AnonymousHellos, at.AuditEntriesPerAddressMinute, at.AuditFloodRequests,
		at.QueueStuffRefused, at.QueueStuffTried, at.SlowHTTPClosed, at.SlowHTTPConns)
}

// badOutcome counts one attack as bad input answered as expected (err nil)
// or not.
func (r *runner) badOutcome(name string, err error) {
	bi := &r.rep.BadInput
	bi.Tried++
	if err == nil {
		bi.Answered++
		return
	}
	bi.Unexpected++
	if len(bi.Notes) < 5 {
		bi.Notes = append(bi.Notes, "attack: "+name+": "+err.Error())
	}
}

// attackBroker is the broker child the attacks run against: the demo
// directory, the default limits, a short frame deadline.
type attackBroker struct {
	p     *proc
	addr  string
	token string
	dir   string
}

func (r *runner) startAttackBroker(ctx context.Context) (*attackBroker, error) {
	dir, err := os.MkdirTemp("", "switchboard-attack-*")
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 16)
	rand.Read(tok)
	a := &attackBroker{dir: dir, token: hex.EncodeToString(tok)}
	// The harness stands as a proxy for the attackers: each attack comes
	// from an address of its own (X-Forwarded-For), so the per-address
	// limits meet each one as they would meet one attacker.
	cmd := r.cfg.Command("-addr", "127.0.0.1:0", "-data", dir, "-log", "error", "-demo",
		"-frame-timeout", attackFrameTimeout.String(), "-trusted-proxies", "127.0.0.1/32")
	cmd.Env = append(cmd.Environ(), "SWITCHBOARD_ADMIN_TOKEN="+a.token)
	if a.p, err = startProc(ctx, "attack broker", cmd, "Listening on http://"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	a.addr = a.p.ready
	return a, nil
}

func (a *attackBroker) stop() {
	a.p.stop()
	os.RemoveAll(a.dir)
}

// rss is the attack broker's resident memory once it settled.
func (a *attackBroker) rss(ctx context.Context) int64 {
	return settledRSS(ctx, a.p)
}

// rssNow is p's resident memory now (0 when it cannot be read).
func rssNow(p *proc) int64 {
	u, err := procUsage(p.cmd.Process.Pid)
	if err != nil {
		return 0
	}
	return u.RSS
}

// from is the header that makes a request come from attacker address ip.
func from(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }

// Each attack's address (documentation ranges: only ever a header).
const (
	addrPartial   = "198.51.100.1"
	addrReplay    = "198.51.100.2"
	addrAnonymous = "198.51.100.3"
	addrAudit     = "198.51.100.4"
	addrQueue     = "198.51.100.5"
)

func (a *attackBroker) dial(ctx context.Context, ip, role string) (*gateway.Client, error) {
	return gateway.Dial(ctx, "ws://"+a.addr+"/ws/"+role, gateway.ClientOptions{Header: from(ip)})
}

// rawDial opens a websocket without the protocol client, from ip.
func (a *attackBroker) rawDial(ctx context.Context, ip string) (*websocket.Conn, error) {
	ws, _, err := websocket.Dial(ctx, "ws://"+a.addr+"/ws/visitor", &websocket.DialOptions{HTTPClient: dialer, HTTPHeader: from(ip)})
	return ws, err
}

// visitor opens a visitor socket and says Hello (with a resume token, or
// none for a new session).
func (a *attackBroker) visitor(ctx context.Context, ip, token string, cursors map[string]uint64) (*gateway.Client, *messages.Welcome, error) {
	c, err := a.dial(ctx, ip, "visitor")
	if err != nil {
		return nil, nil, err
	}
	w, err := c.Hello(ctx, &messages.Hello{ResumeToken: token, Cursors: cursors})
	if err != nil {
		c.CloseNow()
		return nil, nil, err
	}
	return c, w, nil
}

// perSocket is (after - before) / n, at least 0.
func perSocket(before, after int64, n int) float64 {
	if n == 0 {
		return 0
	}
	return math.Round(max(0, float64(after-before)) / float64(n))
}

// attackPartialFrames opens sockets that each send all but the last byte
// of a 1 MiB frame and wait. Every one must be dropped by the broker (the
// per-address budget at once, the rest at the frame deadline).
func attackPartialFrames(ctx context.Context, a *attackBroker, at *Attacks) error {
	const n = 24
	before := a.rss(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	held := make(chan struct{}, n)
	ended := 0
	hello, _ := gateway.EncodeFrame(websocket.MessageBinary, &messages.Envelope{Ref: 1, Body: &messages.Envelope_Hello{Hello: &messages.Hello{}}})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, err := a.rawDial(ctx, addrPartial)
			if err != nil {
				held <- struct{}{}
				return
			}
			defer ws.CloseNow()
			ws.SetReadLimit(1 << 20)
			// Hello, then a message whose first (non-final) frame carries
			// all but the last byte of 1 MiB: the broker buffers it and
			// waits for the rest, which never comes.
			ws.Write(ctx, websocket.MessageBinary, hello)
			if w, err := ws.Writer(ctx, websocket.MessageBinary); err == nil {
				w.Write(make([]byte, 1<<20-1))
			}
			held <- struct{}{}
			// The broker must end the socket: a read sees it go.
			for {
				if _, _, err := ws.Read(ctx); err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						ended++
						mu.Unlock()
					}
					return
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		<-held
	}
	during := rssNow(a.p)
	wg.Wait()
	at.PartialFrameSockets, at.PartialFrameDropped = n, ended
	at.PartialFrameBytesPerSocket = perSocket(before, during, n)
	if ended != n {
		return fmt.Errorf("%d of %d partial-frame sockets were never dropped", n-ended, n)
	}
	return nil
}

// attackReplay: one visitor writes a transcript of large messages while
// waiting in a line, then opens sockets that resume it from the start and
// never read. The broker pages replays as a socket drains, so what each
// costs is bounded whatever the transcript's size.
func attackReplay(ctx context.Context, a *attackBroker, at *Attacks) error {
	v, w, err := a.visitor(ctx, addrReplay, "", nil)
	if err != nil {
		return err
	}
	defer v.CloseNow()
	env, err := v.Call(ctx, &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
		Department: "sales", Language: "en", Name: "Replay"}}})
	if err != nil {
		return fmt.Errorf("request chat: %w", err)
	}
	chat := env.GetAck().GetChatId()
	if chat == "" {
		return fmt.Errorf("request chat: %v", env)
	}
	text := strings.Repeat("x", 4000)
	const msgs = 150 // within the frame burst of one socket
	for i := 0; i < msgs; i++ {
		if _, err := v.Call(ctx, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{
			ChatId: chat, ClientMsgId: fmt.Sprintf("r%d", i), Text: text}}}); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	at.ReplayTranscriptBytes = msgs * len(text)
	const n = 20
	before := a.rss(ctx)
	var socks []*websocket.Conn
	defer func() {
		for _, s := range socks {
			s.CloseNow()
		}
	}()
	hello, _ := gateway.EncodeFrame(websocket.MessageBinary, &messages.Envelope{Ref: 1, Body: &messages.Envelope_Hello{Hello: &messages.Hello{
		ResumeToken: w.GetResumeToken(), Cursors: map[string]uint64{chat: 0}}}})
	for i := 0; i < n; i++ {
		s, err := a.rawDial(ctx, addrReplay)
		if err != nil {
			return err
		}
		socks = append(socks, s)
		if err := s.Write(ctx, websocket.MessageBinary, hello); err != nil {
			return err
		}
	}
	// What the broker holds for them once it has sent what the sockets'
	// buffers take.
	during := a.rss(ctx)
	at.ReplaySockets = n
	at.ReplayBytesPerSocket = perSocket(before, during, n)
	// The chat still works for its visitor.
	if _, err := v.Call(ctx, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{
		ChatId: chat, ClientMsgId: "after", Text: "still here"}}}); err != nil {
		return fmt.Errorf("the visitor's own socket after the replay flood: %w", err)
	}
	return nil
}

// attackAnonymous opens many new visitor sessions from one address, each
// closed at once; those over the allowance are refused, and the ones let
// in leave nothing behind.
func attackAnonymous(ctx context.Context, a *attackBroker, at *Attacks) error {
	const n = 100
	before := a.rss(ctx)
	refused := 0
	for i := 0; i < n; i++ {
		c, _, err := a.visitor(ctx, addrAnonymous, "", nil)
		if err != nil {
			var e *messages.Error
			if errors.As(err, &e) && e.GetCode() == messages.ErrorCode_ERROR_CODE_RATE_LIMITED {
				refused++
				continue
			}
			return err
		}
		// A made-up chat id in a typing notice: NOT_FOUND, and nothing kept.
		env, err := c.Call(ctx, &messages.Envelope{Body: &messages.Envelope_Typing{Typing: &messages.Typing{
			ChatId: fmt.Sprintf("c01madeup%020d", i)}}})
		if err == nil || env.GetError().GetCode() != messages.ErrorCode_ERROR_CODE_NOT_FOUND {
			c.CloseNow()
			return fmt.Errorf("typing in a made-up chat: %v %v", env, err)
		}
		at.UnknownChatTyping++
		c.Close()
	}
	after := a.rss(ctx)
	at.AnonymousHellos, at.AnonymousRefused = n, refused
	at.AnonymousBytesPerTry = perSocket(before, after, n)
	if refused == 0 {
		return fmt.Errorf("%d new sessions from one address in a moment, none refused", n)
	}
	return nil
}

// attackAudit floods forbidden commands and huge unique logins from one
// address, then counts the audit entries the address left in the minute.
func attackAudit(ctx context.Context, a *attackBroker, at *Attacks) error {
	v, _, err := a.visitor(ctx, addrAudit, "", nil)
	if err != nil {
		return err
	}
	defer v.CloseNow()
	start := time.Now().Add(-time.Second)
	n := 0
	for i := 0; i < 150; i++ { // within one socket's frame burst
		env, _ := v.Call(ctx, &messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: "c01aaaaaaaaaaaaaaaaaaaaaaaaaa"}}})
		if env.GetError().GetCode() != messages.ErrorCode_ERROR_CODE_FORBIDDEN {
			return fmt.Errorf("agent command from a visitor: %v", env)
		}
		n++
	}
	for i := 0; i < 150; i++ {
		login := fmt.Sprintf("%d-%s@example.com", i, strings.Repeat("x", 60<<10))
		body := fmt.Sprintf(`{"login": %q, "password": "wrong password"}`, login)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+a.addr+"/api/login", strings.NewReader(body))
		req.Header = from(addrAudit)
		req.Header.Set("Content-Type", "application/json")
		resp, err := dialer.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusTooManyRequests {
			return fmt.Errorf("a 60 KiB login: HTTP %d", resp.StatusCode)
		}
		n++
	}
	at.AuditFloodRequests = n
	page, err := auditSince(ctx, a, start)
	if err != nil {
		return err
	}
	at.AuditEntriesPerAddressMinute = len(page)
	if len(page) >= n/2 {
		return fmt.Errorf("%d abusive requests left %d audit entries", n, len(page))
	}
	for _, e := range page {
		if len(e.GetSubject())+len(e.GetDetail())+len(e.GetActor()) > 4<<10 {
			return fmt.Errorf("an audit entry of %d bytes", len(e.GetSubject())+len(e.GetDetail())+len(e.GetActor()))
		}
	}
	return nil
}

// auditSince reads the attack broker's audit entries from the audit
// attack's address since since.
func auditSince(ctx context.Context, a *attackBroker, since time.Time) ([]*messages.AuditEntry, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.addr+"/admin/audit?limit=1000&from="+since.UTC().Format(time.RFC3339Nano), nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := dialer.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("audit: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(data))
	}
	page := &messages.AuditPage{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, page); err != nil {
		return nil, err
	}
	var out []*messages.AuditEntry
	for _, e := range page.GetEntries() {
		if e.GetAddress() == addrAudit {
			out = append(out, e)
		}
	}
	return out, nil
}

// attackQueue asks for chats in one department, nobody online, from one
// address; past the address's share of the line they are refused.
func attackQueue(ctx context.Context, a *attackBroker, at *Attacks) error {
	const n = 20
	refused := 0
	for i := 0; i < n; i++ {
		c, _, err := a.visitor(ctx, addrQueue, "", nil)
		if err != nil {
			return err
		}
		defer c.CloseNow()
		env, err := c.Call(ctx, &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{
			Department: "support", Language: "en", Name: "Bot", FirstMessage: "hello"}}})
		switch {
		case env.GetChatRefused() != nil:
			refused++
		case env.GetError().GetCode() == messages.ErrorCode_ERROR_CODE_RATE_LIMITED:
			refused++
		case err != nil:
			return err
		}
	}
	at.QueueStuffTried, at.QueueStuffRefused = n, refused
	if refused == 0 {
		return fmt.Errorf("one address put %d chats in one line", n)
	}
	return nil
}

// attackSlowHTTP opens connections that send half a request header and
// wait; the broker must end them (its header timeout).
func attackSlowHTTP(ctx context.Context, a *attackBroker, at *Attacks) error {
	const n = 10
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", a.addr)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST /api/login HTTP/1.1\r\nHost: %s\r\nContent-Length: 100000\r\n\r\n{", a.addr)
	}
	closed := 0
	for _, c := range conns {
		dl, _ := ctx.Deadline()
		c.SetReadDeadline(dl)
		if _, err := io.Copy(io.Discard, c); err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			closed++
		}
	}
	at.SlowHTTPConns, at.SlowHTTPClosed = n, closed
	if closed != n {
		return fmt.Errorf("%d of %d trickling requests were never ended", n-closed, n)
	}
	return nil
}
