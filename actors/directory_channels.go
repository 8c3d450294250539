package actors

import (
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

// The directory's channels (issue 19): an API channel or a WhatsApp
// channel turns outside conversations into chats of one department. Their
// secrets (the API channel's HMAC key, WhatsApp's verify token, app
// secret and access token) are write-only over the API: an empty one
// keeps the stored one, as long as it would not follow a changed
// address (like the SMTP password, directory_email.go).

// WhatsAppReplyWindow is how long after a WhatsApp customer's last message
// staff may write to them freely (WhatsApp's customer service window);
// after it, only a template message.
const WhatsAppReplyWindow = 24 * time.Hour

// MaxChannels bounds the channels of a workspace.
const MaxChannels = 200

// putChannel checks and stores a channel; createOnly refuses an id in use.
func (d *directory) putChannel(x *messages.Channel, createOnly bool) (*change, *messages.Error) {
	old := d.channels[x.GetId()]
	switch {
	case createOnly && old != nil:
		return nil, refuse("id", codeConflict, "there is a channel %q already; PUT /admin/channels/%s changes it", x.GetId(), x.GetId())
	case old == nil && len(d.channels) >= MaxChannels:
		return nil, refuse("", codeInvalid, "at most %d channels", MaxChannels)
	}
	KeepChannelSecrets(x, old)
	if x.GetName() == "" {
		x.Name = x.GetId()
	}
	if e := d.checkChannel(x); e != nil {
		return nil, e
	}
	d.channels[x.GetId()] = x
	create := old == nil
	return &change{write: func(done func(error)) { d.b.store.PutChannel(x, create, done) }}, nil
}

func (d *directory) deleteChannel(id string) (*change, *messages.Error) {
	if d.channels[id] == nil {
		return nil, refuse("", codeNotFound, "no channel %q", id)
	}
	delete(d.channels, id)
	return &change{write: func(done func(error)) { d.b.store.DeleteChannel(id, done) }}, nil
}

// channelOf names a channel that sends its conversations to department
// dep ("" when none).
func (d *directory) channelOf(dep string) string {
	for id, c := range d.channels {
		if c.GetDepartment() == dep {
			return id
		}
	}
	return ""
}

// KeepChannelSecrets fills x's empty secrets from old (the stored channel
// by x's id, nil when none): the API channel's secret while its callback
// URL stays; WhatsApp's verify token and app secret while the phone
// number stays, and its access token while the number and the Graph API's
// address stay (a token never follows a changed server).
func KeepChannelSecrets(x, old *messages.Channel) {
	if old == nil || old.GetKind() != x.GetKind() {
		return
	}
	if a, o := x.GetApi(), old.GetApi(); a != nil && o != nil {
		a.Secret = KeepSecret(a.GetSecret(), o.GetSecret(), a.GetCallbackUrl() == o.GetCallbackUrl())
	}
	w, o := x.GetWhatsapp(), old.GetWhatsapp()
	if w == nil || o == nil {
		return
	}
	same := w.GetPhoneNumberId() == o.GetPhoneNumberId()
	w.VerifyToken = KeepSecret(w.GetVerifyToken(), o.GetVerifyToken(), same)
	w.AppSecret = KeepSecret(w.GetAppSecret(), o.GetAppSecret(), same)
	w.AccessToken = KeepSecret(w.GetAccessToken(), o.GetAccessToken(), same && w.GetGraphBaseUrl() == o.GetGraphBaseUrl())
}

// checkChannel checks a channel whose secrets KeepChannelSecrets filled.
func (d *directory) checkChannel(x *messages.Channel) *messages.Error {
	switch {
	case !ValidName(x.GetId()):
		return refuse("id", codeInvalid, "channel id must be 1-64 of a-z 0-9 - _ .")
	case len(x.GetName()) > MaxNameBytes || strings.ContainsAny(x.GetName(), "\r\n"):
		return refuse("name", codeInvalid, "name has at most %d bytes on one line", MaxNameBytes)
	case d.deps[x.GetDepartment()] == nil:
		return refuse("department", codeInvalid, "no department %q", x.GetDepartment())
	case !sideMatches("", d.liveChatOf(d.deps[x.GetDepartment()])):
		return refuse("department", codeInvalid, "department %q is in the internal live chat %q: a channel's outside customers write in to external live chats only",
			x.GetDepartment(), d.liveChatOf(d.deps[x.GetDepartment()]).GetId())
	case d.langs[x.GetLanguage()] == nil:
		return refuse("language", codeInvalid, "no language %q (the language of the channel's chats)", x.GetLanguage())
	}
	if e := CheckText("name", x.GetName(), MaxNameBytes); e != nil {
		return refuse("name", e.GetCode(), "%s", e.GetMessage())
	}
	switch x.GetKind() {
	case messages.ChannelKind_CHANNEL_KIND_API:
		if x.GetWhatsapp() != nil {
			return refuse("whatsapp", codeInvalid, "an API channel has no whatsapp settings")
		}
		return checkAPIChannel(x.GetApi())
	case messages.ChannelKind_CHANNEL_KIND_WHATSAPP:
		if x.GetApi() != nil {
			return refuse("api", codeInvalid, "a WhatsApp channel has no api settings")
		}
		if e := checkWhatsApp(x.GetWhatsapp()); e != nil {
			return e
		}
		for id, c := range d.channels {
			if id != x.GetId() && c.GetWhatsapp().GetPhoneNumberId() == x.GetWhatsapp().GetPhoneNumberId() {
				return refuse("whatsapp.phone_number_id", codeConflict, "channel %q has this phone number already", id)
			}
		}
		return nil
	}
	return refuse("kind", codeInvalid, "kind is CHANNEL_KIND_API or CHANNEL_KIND_WHATSAPP")
}

func checkAPIChannel(a *messages.ApiChannel) *messages.Error {
	switch {
	case a == nil:
		return refuse("api", codeInvalid, "an API channel needs api: {secret, callback_url}")
	case len(a.GetSecret()) < 16 || len(a.GetSecret()) > 256:
		return refuse("api.secret", codeInvalid, "secret has 16 to 256 bytes (required when the channel is created or its callback_url changes)")
	}
	return checkURL("api.callback_url", a.GetCallbackUrl(), true)
}

func checkWhatsApp(w *messages.WhatsAppChannel) *messages.Error {
	if w == nil {
		return refuse("whatsapp", codeInvalid, "a WhatsApp channel needs whatsapp: {phone_number_id, verify_token, app_secret, access_token}")
	}
	id := w.GetPhoneNumberId()
	if id == "" || len(id) > 32 || strings.Trim(id, "0123456789") != "" {
		return refuse("whatsapp.phone_number_id", codeInvalid, "phone_number_id is the business number's id, digits only")
	}
	for _, f := range []struct{ name, v string }{{"verify_token", w.GetVerifyToken()}, {"app_secret", w.GetAppSecret()}, {"access_token", w.GetAccessToken()}} {
		if f.v == "" || len(f.v) > 1024 || strings.ContainsAny(f.v, " \r\n") {
			return refuse("whatsapp."+f.name, codeInvalid, "%s is required (1-1024 bytes, no spaces; an empty one keeps the stored one while the phone number, and for access_token the graph_base_url, stay)", f.name)
		}
	}
	if w.GetGraphBaseUrl() == "" {
		return nil
	}
	return checkURL("whatsapp.graph_base_url", w.GetGraphBaseUrl(), false)
}

// checkURL checks an http(s) address the broker calls.
func checkURL(field, s string, required bool) *messages.Error {
	u, err := url.Parse(s)
	if s == "" && !required {
		return nil
	}
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" || len(s) > 2048 {
		return refuse(field, codeInvalid, "%s must be an http or https address such as https://example.com/path (at most 2048 bytes)", field)
	}
	return nil
}
