package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/gateway/netguard"
	"github.com/switchboard-chat/switchboard/messages"
)

// DefaultGraphBaseURL is the Graph API a channel without graph_base_url
// calls.
const DefaultGraphBaseURL = "https://graph.facebook.com/v21.0"

// Chats is what the client reads of the broker (actors.Broker has it): a
// chat's outside conversation (the customer's wa_id), and its files.
type Chats interface {
	ChatCreated(chatID string) (*messages.ChatCreated, error)
	File(chatID, fileID string) (*messages.StoredFile, error)
	EachFileChunk(f *messages.StoredFile, fn func([]byte) error) error
}

// Config configures a Client; zero fields take their defaults.
type Config struct {
	// Chats is required for Send.
	Chats Chats
	// HTTPClient makes the calls. Default: one with a 30-second timeout
	// that refuses private addresses unless AllowPrivate
	// (gateway/netguard).
	HTTPClient *http.Client
	// AllowPrivate lets calls go to loopback and private addresses and
	// over http (tests); else graph_base_url and the media URLs must be
	// https on public addresses.
	AllowPrivate bool
	// CallTimeout bounds one Send. Default 60 s.
	CallTimeout time.Duration
}

// Client calls the Graph API for WhatsApp channels.
type Client struct {
	cfg Config
}

// New builds a Client.
func New(cfg Config) *Client {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: netguard.Transport(30*time.Second, cfg.AllowPrivate, 16)}
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 60 * time.Second
	}
	return &Client{cfg: cfg}
}

// Error is the Graph API's refusal of a call (or a failure to reach it).
// Permanent: a 4xx answer about the message itself (such as 400 with
// code 131047, outside the reply window, or 131026, undeliverable), which
// the same call will get again. Temporary, tried again: 5xx, 429, network
// failures, and what the channel's settings cause and an admin fixes: 401,
// 403 and code 190 (the access token), and a 404 that is not the Graph
// API's (no error code: a wrong graph_base_url).
type Error struct {
	Status  int // 0: no answer
	Code    int // the Graph API's error code
	Message string
}

// codeToken is the Graph API's error code of an invalid or expired access
// token.
const codeToken = 190

func (e *Error) Error() string {
	if e.Status == 0 {
		return "whatsapp: " + e.Message
	}
	return fmt.Sprintf("whatsapp: HTTP %d (code %d): %s", e.Status, e.Code, e.Message)
}

// Permanent reports whether trying the same call again is useless.
func (e *Error) Permanent() bool {
	switch {
	case e.Status < 400 || e.Status >= 500, e.Code == codeToken:
		return false
	case e.Status == http.StatusTooManyRequests, e.Status == http.StatusUnauthorized, e.Status == http.StatusForbidden:
		return false
	case e.Status == http.StatusNotFound && e.Code == 0:
		return false
	}
	return true
}

func base(ch *messages.Channel) string {
	if u := ch.GetWhatsapp().GetGraphBaseUrl(); u != "" {
		return strings.TrimRight(u, "/")
	}
	return DefaultGraphBaseURL
}

// Send delivers a chat's event to its WhatsApp conversation, in its own
// goroutine, and calls done with the message's wamid (actors.ChannelSender).
// An event that is not a staff message or file (internal, the
// customer's own) is not sent (done("", nil)).
func (c *Client) Send(ch *messages.Channel, d *messages.Delivery, done func(ref string, err error)) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.CallTimeout)
		defer cancel()
		done(c.SendNow(ctx, ch, d))
	}()
}

// SendNow is Send in the caller's goroutine.
func (c *Client) SendNow(ctx context.Context, ch *messages.Channel, d *messages.Delivery) (string, error) {
	ev := d.GetEvent()
	from := ev.GetMessage().GetFrom()
	if ev.GetAttachment() != nil {
		from = ev.GetAttachment().GetFrom()
	}
	if ev.GetInternal() || (ev.GetMessage() == nil && ev.GetAttachment() == nil) || from.GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_VISITOR {
		return "", nil // the customer's own words are not sent back to them
	}
	chatID := ev.GetChatId()
	if chatID == "" {
		chatID = d.GetConversation()
	}
	cr, err := c.cfg.Chats.ChatCreated(chatID)
	if err != nil {
		return "", &Error{Message: fmt.Sprintf("read chat %s: %v", chatID, err)}
	}
	if cr.GetConversation() == "" {
		return "", &Error{Status: http.StatusBadRequest, Message: "chat " + chatID + " has no WhatsApp conversation"}
	}
	body := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": cr.GetConversation()}
	switch {
	case ev.GetMessage().GetTemplate() != nil:
		t := ev.GetMessage().GetTemplate()
		tpl := map[string]any{"name": t.GetName(), "language": map[string]string{"code": t.GetLanguage()}}
		if len(t.GetParams()) > 0 {
			ps := make([]map[string]string, len(t.GetParams()))
			for i, p := range t.GetParams() {
				ps[i] = map[string]string{"type": "text", "text": p}
			}
			tpl["components"] = []map[string]any{{"type": "body", "parameters": ps}}
		}
		body["type"], body["template"] = "template", tpl
	case ev.GetMessage() != nil:
		body["type"], body["text"] = "text", map[string]any{"body": ev.GetMessage().GetText(), "preview_url": false}
	default:
		a := ev.GetAttachment()
		id, err := c.upload(ctx, ch, chatID, a)
		if err != nil {
			return "", err
		}
		if a.GetContentType() == "image/png" || a.GetContentType() == "image/jpeg" {
			body["type"], body["image"] = "image", map[string]string{"id": id}
		} else {
			body["type"], body["document"] = "document", map[string]string{"id": id, "filename": a.GetName()}
		}
	}
	data, _ := json.Marshal(body)
	var out struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := c.call(ctx, ch, http.MethodPost, base(ch)+"/"+ch.GetWhatsapp().GetPhoneNumberId()+"/messages", "application/json", bytes.NewReader(data), &out); err != nil {
		return "", err
	}
	if len(out.Messages) == 0 || out.Messages[0].ID == "" {
		return "", &Error{Status: http.StatusBadGateway, Message: "the answer names no message id"}
	}
	return out.Messages[0].ID, nil
}

// upload sends a chat's file to the Graph API's media store.
func (c *Client) upload(ctx context.Context, ch *messages.Channel, chatID string, a *messages.ChatAttachment) (string, error) {
	f, err := c.cfg.Chats.File(chatID, a.GetFileId())
	if err != nil {
		return "", &Error{Message: fmt.Sprintf("read file %s: %v", a.GetFileId(), err)}
	}
	if f == nil {
		return "", &Error{Status: http.StatusNotFound, Message: "file " + a.GetFileId() + " is gone"}
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("messaging_product", "whatsapp")
	mw.WriteField("type", f.GetContentType())
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, f.GetName()))
	h.Set("Content-Type", f.GetContentType())
	part, _ := mw.CreatePart(h)
	if err := c.cfg.Chats.EachFileChunk(f, func(b []byte) error { _, err := part.Write(b); return err }); err != nil {
		return "", &Error{Message: fmt.Sprintf("read file %s: %v", a.GetFileId(), err)}
	}
	mw.Close()
	var out struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, ch, http.MethodPost, base(ch)+"/"+ch.GetWhatsapp().GetPhoneNumberId()+"/media", mw.FormDataContentType(), &buf, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", &Error{Status: http.StatusBadGateway, Message: "the media upload's answer names no id"}
	}
	return out.ID, nil
}

// FetchMedia downloads an inbound message's media: its URL from
// {graph_base_url}/{media id}, then the bytes from that URL, both with the
// channel's access token; at most max bytes.
func (c *Client) FetchMedia(ctx context.Context, ch *messages.Channel, mediaID string, max int64) ([]byte, string, error) {
	if mediaID == "" || strings.ContainsAny(mediaID, "/?#") {
		return nil, "", &Error{Status: http.StatusBadRequest, Message: "bad media id"}
	}
	var meta struct {
		URL      string `json:"url"`
		MimeType string `json:"mime_type"`
	}
	if err := c.call(ctx, ch, http.MethodGet, base(ch)+"/"+mediaID, "", nil, &meta); err != nil {
		return nil, "", err
	}
	if err := netguard.CheckURL(meta.URL, c.cfg.AllowPrivate); err != nil {
		// The access token goes with the download: never in clear.
		return nil, "", &Error{Status: http.StatusBadRequest, Message: "the media's URL: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, meta.URL, nil)
	if err != nil {
		return nil, "", &Error{Status: http.StatusBadGateway, Message: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+ch.GetWhatsapp().GetAccessToken())
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, "", &Error{Message: "download media: " + err.Error()}
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, "", &Error{Status: res.StatusCode, Message: "download media: " + res.Status}
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, max+1))
	switch {
	case err != nil:
		return nil, "", &Error{Message: "download media: " + err.Error()}
	case int64(len(data)) > max:
		return nil, "", &Error{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("the media is larger than %d bytes", max)}
	}
	return data, meta.MimeType, nil
}

// call makes one Graph API call with the channel's access token and
// decodes a 2xx answer into out; any other is an *Error.
func (c *Client) call(ctx context.Context, ch *messages.Channel, method, url, ctype string, body io.Reader, out any) error {
	if err := netguard.CheckURL(url, c.cfg.AllowPrivate); err != nil {
		// The channel's graph_base_url: the admin's to fix; its calls wait.
		return &Error{Message: "graph_base_url: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Message: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+ch.GetWhatsapp().GetAccessToken())
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		// Never the URL's query or the token: url.Error names the URL only.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return &Error{Message: method + " " + url + ": " + err.Error()}
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Message string `json:"message"`
				Code    int    `json:"code"`
			} `json:"error"`
		}
		json.Unmarshal(data, &e)
		if e.Error.Message == "" {
			e.Error.Message = res.Status
		}
		return &Error{Status: res.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Status: http.StatusBadGateway, Message: "undecodable answer: " + err.Error()}
	}
	return nil
}
