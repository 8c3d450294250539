package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/gateway/hmacsig"
	"github.com/switchboard-chat/switchboard/gateway/netguard"
	"github.com/switchboard-chat/switchboard/messages"
)

// HeaderEventID is the header of the event's id; the request is signed
// by gateway/hmacsig (its headers, its tolerance), the one scheme of
// signed calls.
const HeaderEventID = "X-Switchboard-Event-Id"

// DefaultTimeout bounds one request.
const DefaultTimeout = 10 * time.Second

// Config configures a Sender; zero values mean the documented default.
type Config struct {
	// Timeout bounds one request, from dialling to the end of the
	// answer's headers. Default 10 s.
	Timeout time.Duration
	// AllowPrivate lets requests go to loopback and private addresses
	// (tests, an endpoint on the broker's own network). Default false.
	AllowPrivate bool
	// MaxConnsPerHost bounds the connections to one host. Default 64.
	MaxConnsPerHost int
	// Now is the clock of the timestamp header. Default time.Now.
	Now func() time.Time
}

// Sender posts deliveries; it implements actors.WebhookSender.
type Sender struct {
	cfg    Config
	client *http.Client
}

// New makes a Sender.
func New(cfg Config) *Sender {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxConnsPerHost <= 0 {
		cfg.MaxConnsPerHost = 64
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tr := netguard.Transport(cfg.Timeout, cfg.AllowPrivate, cfg.MaxConnsPerHost)
	return &Sender{cfg: cfg, client: &http.Client{Transport: tr, Timeout: cfg.Timeout,
		// A redirect is not followed: the endpoint is the URL set.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Close drops the idle connections.
func (s *Sender) Close() { s.client.CloseIdleConnections() }

// ErrPrivateAddress: the URL's host is (or resolves to) an address the
// sender does not post to (netguard's rule).
var ErrPrivateAddress = netguard.ErrPrivateAddress

// Post posts d to url, signed with secret, in a goroutine of its own;
// done gets the answer's status (0: none) and nil for a 2xx.
func (s *Sender) Post(url, secret string, d *messages.Delivery, done func(status int, err error)) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
		defer cancel()
		done(s.PostNow(ctx, url, secret, d))
	}()
}

// PostNow posts d to url and waits for the answer.
func (s *Sender) PostNow(ctx context.Context, url, secret string, d *messages.Delivery) (int, error) {
	body, err := Body(d)
	if err != nil {
		return 0, permanent{err}
	}
	ts := s.cfg.Now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, permanent{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-Webhooks/1")
	req.Header.Set(HeaderEventID, d.GetId())
	hmacsig.SetHeaders(req.Header, []byte(secret), time.Unix(ts, 0), body)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // keeps the connection for the next
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// permanent marks an error not worth trying again.
type permanent struct{ error }

func (permanent) Permanent() bool { return true }
func (p permanent) Unwrap() error { return p.error }

// Event is a request's body.
type Event struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	At       time.Time       `json:"at"`
	LiveChat string          `json:"live_chat,omitempty"`
	ChatID   string          `json:"chat_id,omitempty"`
	Seq      uint64          `json:"seq,omitempty"`
	Data     json.RawMessage `json:"data"`
}

var dataJSON = protojson.MarshalOptions{UseProtoNames: true}

// Body is d's request body. data is the event's own message in the
// API's JSON (a chat.message's {"from": ..., "text": ...}; an offline
// message's OfflineMessage).
func Body(d *messages.Delivery) ([]byte, error) {
	var data proto.Message = &messages.ChatEvent{}
	ev := Event{ID: d.GetId(), Type: d.GetType(), At: time.UnixMilli(d.GetAtMs()).UTC(), LiveChat: d.GetLiveChat()}
	switch {
	case d.GetOffline() != nil:
		data = d.GetOffline()
	case d.GetEvent() != nil:
		ev.ChatID, ev.Seq = d.GetEvent().GetChatId(), d.GetEvent().GetSeq()
		data = kindOf(d.GetEvent())
	}
	raw, err := dataJSON.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("hooks: encode %s: %w", d.GetId(), err)
	}
	ev.Data = raw
	return json.Marshal(ev)
}

// kindOf is the message a chat event holds (the event itself when it
// holds none).
func kindOf(ev *messages.ChatEvent) proto.Message {
	m := ev.ProtoReflect()
	od := m.Descriptor().Oneofs().ByName("kind")
	if f := m.WhichOneof(od); f != nil {
		return m.Get(f).Message().Interface()
	}
	return ev
}
