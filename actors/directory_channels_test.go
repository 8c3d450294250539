package actors

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// TestKeepChannelSecrets: an empty secret keeps the stored one only while
// the address it is used with stays; a token never follows a changed
// server, and nothing is kept across kinds.
func TestKeepChannelSecrets(t *testing.T) {
	api := func(secret, url string) *messages.Channel {
		return &messages.Channel{Kind: messages.ChannelKind_CHANNEL_KIND_API, Api: &messages.ApiChannel{Secret: secret, CallbackUrl: url}}
	}
	wa := func(phone, verify, app, token, base string) *messages.Channel {
		return &messages.Channel{Kind: messages.ChannelKind_CHANNEL_KIND_WHATSAPP, Whatsapp: &messages.WhatsAppChannel{PhoneNumberId: phone,
			VerifyToken: verify, AppSecret: app, AccessToken: token, GraphBaseUrl: base}}
	}
	for _, c := range []struct {
		name         string
		x, old, want *messages.Channel
	}{
		{"api kept", api("", "https://a"), api("s", "https://a"), api("s", "https://a")},
		{"api new url", api("", "https://b"), api("s", "https://a"), api("", "https://b")},
		{"api given", api("t", "https://a"), api("s", "https://a"), api("t", "https://a")},
		{"no old", api("", "https://a"), nil, api("", "https://a")},
		{"wa kept", wa("1", "", "", "", ""), wa("1", "v", "a", "t", ""), wa("1", "v", "a", "t", "")},
		{"wa new base", wa("1", "", "", "", "http://evil"), wa("1", "v", "a", "t", ""), wa("1", "v", "a", "", "http://evil")},
		{"wa new number", wa("2", "", "", "", ""), wa("1", "v", "a", "t", ""), wa("2", "", "", "", "")},
		{"other kind", wa("1", "", "", "", ""), api("s", "https://a"), wa("1", "", "", "", "")},
	} {
		KeepChannelSecrets(c.x, c.old)
		if !proto.Equal(c.x, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.x, c.want)
		}
	}
}

func TestCheckTemplate(t *testing.T) {
	for _, c := range []struct {
		t     *messages.MessageTemplate
		field string
	}{
		{&messages.MessageTemplate{Name: "order_update", Language: "en_US", Params: []string{"Grace"}}, ""},
		{&messages.MessageTemplate{Name: "Order", Language: "en"}, "template.name"},
		{&messages.MessageTemplate{Name: "", Language: "en"}, "template.name"},
		{&messages.MessageTemplate{Name: "x", Language: "e n"}, "template.language"},
		{&messages.MessageTemplate{Name: "x", Language: "en", Params: make([]string, 21)}, "template.params"},
		{&messages.MessageTemplate{Name: "x", Language: "en", Params: []string{"\xff"}}, "template.params"},
	} {
		if e := checkTemplate(c.t); e.GetField() != c.field || (c.field == "") != (e == nil) {
			t.Errorf("%v: %v, want an error about %q", c.t, e, c.field)
		}
	}
	if got := templateText(&messages.MessageTemplate{Name: "hi", Params: []string{"a", "b"}}); got != "[template hi: a, b]" {
		t.Errorf("templateText %q", got)
	}
}
