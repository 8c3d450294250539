package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// TestWebAdminChannelsWebhooks: on the Admin tab's Channels and Webhooks
// pages an administrator makes an API channel and a webhook endpoint; the
// broker stores them as typed, the secrets never come back to the page
// (it says only that they are set), a name with markup is shown as text,
// a bad address is refused with the broker's typed error next to its
// field and stores nothing, the test event reaches the receiver, and the
// endpoint's delivery log shows a real delivery.
func TestWebAdminChannelsWebhooks(t *testing.T) {
	m := startBroker(t, t.TempDir(), withWebhooks)
	addr := m.Addr()
	const chanSecret, hookSecret = "channel-secret-on-the-page-0123", "hook-secret-on-the-page-4567"
	callback, recv := newHookReceiver(t, chanSecret), newHookReceiver(t, hookSecret)
	s := &channelsWebhooksPage{t: t, addr: addr, base: "http://" + addr, callback: callback, recv: recv}
	s.p = adminPage(t, s.base, "dana@demo", "dana-demo-pw", "channels")
	s.p.wait("the channels read", channelsWebhooksLoaded)

	s.createAPIChannel(chanSecret)
	s.renameAPIChannel()
	s.refuseBadCallback()
	s.createWhatsAppChannel()
	s.createWebhook(hookSecret)
	s.testAndDeliver()
	s.refuseBadWebhook()
	s.deleteWebhookAndChannel()
	s.checkAudit()
}

// channelsWebhooksLoaded is true once the Admin tab's page has read its
// records.
const channelsWebhooksLoaded = `document.querySelector('#admin-page .fetched[data-loaded="true"]')`

// channelsWebhooksNoSecret is true when secret is neither in the page's
// markup nor in any input's value.
func channelsWebhooksNoSecret(secret string) string {
	return fmt.Sprintf(`!document.documentElement.outerHTML.includes(%q) && ![...document.querySelectorAll("input")].some(i => i.value.includes(%q))`, secret, secret)
}

// channelsWebhooksPage is TestWebAdminChannelsWebhooks' broker, page and
// receivers, shared by its steps.
type channelsWebhooksPage struct {
	t              *testing.T
	p              *page
	addr, base     string
	callback, recv *hookReceiver
}

// createAPIChannel: a new API channel, named with markup.
func (s *channelsWebhooksPage) createAPIChannel(chanSecret string) {
	t, p, addr, base := s.t, s.p, s.addr, s.base
	p.newRecord()
	p.setText(adminField("id"), "shop")
	p.setText(adminField("name"), "<b>x</b>")
	p.setSelect(adminField("kind"), "CHANNEL_KIND_API")
	p.setSelect(adminField("department"), "support")
	p.setSelect(adminField("language"), "en")
	p.setText(adminField("api.callback_url"), s.callback.srv.URL+"/replies")
	p.setText(adminField("api.secret"), chanSecret)
	p.save()
	p.wait("the channel created", `document.querySelector(".admin-note").textContent.includes("Created channel shop")`)
	var ch map[string]any
	if code := admin(t, addr, "GET", "/admin/channels/shop", nil, &ch); code != http.StatusOK || ch["name"] != "<b>x</b>" || ch["kind"] != nil /* API: the zero value */ ||
		ch["department"] != "support" || ch["language"] != "en" || ch["enabled"] != true ||
		toJSON(ch["api"]) != toJSON(map[string]any{"callback_url": s.callback.srv.URL + "/replies"}) {
		t.Fatalf("the channel made on the page: %d %v", code, ch)
	}
	p.wait("the channel's form", `document.querySelector('#admin-detail .record[data-id="shop"]')`)
	if got := p.text("#admin-detail .detail-head h3"); got != "<b>x</b>" {
		t.Fatalf("the channel's heading shows %q", got)
	}
	if n := eval[int](p, `document.querySelectorAll("#admin-page b, #admin-page i").length`); n != 0 {
		t.Fatalf("the name became markup: %d elements", n)
	}
	if got, want := p.text(".admin-list [data-id=shop] .item-label"), "<b>x</b>"; got != want {
		t.Fatalf("the list shows %q, want %q", got, want)
	}
	if got, want := p.text("#channel-inbound .inbound-url"), base+"/api/channels/shop/messages"; got != want {
		t.Fatalf("inbound URL %q, want %q", got, want)
	}
	if hint := p.text(`#admin-detail [data-field="api.secret"] .hint`); !strings.HasPrefix(hint, "Set.") {
		t.Fatalf("the secret's hint: %q", hint)
	}
	p.wait("no channel secret on the page", channelsWebhooksNoSecret(chanSecret))
}

// renameAPIChannel: renamed with the secret field left empty, the stored
// one is kept (the broker would refuse an API channel without one).
func (s *channelsWebhooksPage) renameAPIChannel() {
	t, p := s.t, s.p
	p.setText(adminField("name"), "Shop")
	p.save()
	p.wait("the channel saved", `document.querySelector(".admin-note").textContent.includes("Saved channel shop")`)
	var ch map[string]any
	if admin(t, s.addr, "GET", "/admin/channels/shop", nil, &ch) != http.StatusOK || ch["name"] != "Shop" || ch["api"] == nil {
		t.Fatalf("renamed: %v", ch)
	}
}

// refuseBadCallback: a callback address that is not http(s) gets the
// typed error, nothing stored.
func (s *channelsWebhooksPage) refuseBadCallback() {
	t, p := s.t, s.p
	p.newRecord()
	p.setText(adminField("id"), "bad")
	p.setSelect(adminField("department"), "support")
	p.setText(adminField("api.callback_url"), "ftp://example.com/in")
	p.setText(adminField("api.secret"), "another-secret-0123456")
	p.save()
	p.wait("the refusal next to the callback URL", `(document.querySelector('#admin-detail [data-error-for="api.callback_url"]')?.textContent || "").includes("must be an http or https address")`)
	var chs map[string]any
	if admin(t, s.addr, "GET", "/admin/channels", nil, &chs); strings.Contains(toJSON(chs), `"bad"`) || !strings.Contains(toJSON(chs), `"shop"`) {
		t.Fatalf("channels after the refusal: %v", chs)
	}
}

// createWhatsAppChannel: a WhatsApp channel, its own settings shown,
// Meta's webhook address.
func (s *channelsWebhooksPage) createWhatsAppChannel() {
	t, p := s.t, s.p
	p.newRecord()
	if !eval[bool](p, `document.querySelector('#admin-detail fieldset[data-group="whatsapp"]').hidden`) {
		t.Fatal("an API channel's form shows the WhatsApp settings")
	}
	p.setText(adminField("id"), "wa")
	p.setSelect(adminField("kind"), "CHANNEL_KIND_WHATSAPP")
	p.wait("the WhatsApp settings", `!document.querySelector('#admin-detail fieldset[data-group="whatsapp"]').hidden &&
		document.querySelector('#admin-detail fieldset[data-group="api"]').hidden`)
	p.setSelect(adminField("department"), "support")
	p.setText(adminField("whatsapp.phone_number_id"), "1234567")
	p.setText(adminField("whatsapp.verify_token"), "wa-verify-token-on-the-page")
	p.setText(adminField("whatsapp.app_secret"), "wa-app-secret-on-the-page")
	p.setText(adminField("whatsapp.access_token"), "wa-access-token-on-the-page")
	p.save()
	p.wait("the WhatsApp channel created", `document.querySelector(".admin-note").textContent.includes("Created channel wa")`)
	var wa map[string]any
	if code := admin(t, s.addr, "GET", "/admin/channels/wa", nil, &wa); code != http.StatusOK || wa["kind"] != "CHANNEL_KIND_WHATSAPP" ||
		toJSON(wa["whatsapp"]) != `{"phone_number_id":"1234567"}` || wa["api"] != nil {
		t.Fatalf("the WhatsApp channel made on the page: %d %v", code, wa)
	}
	p.wait("the WhatsApp channel's form", `document.querySelector('#admin-detail .record[data-id="wa"]')`)
	if got, want := p.text("#channel-inbound .inbound-url"), s.base+"/channels/whatsapp/wa/webhook"; got != want {
		t.Fatalf("Meta's webhook URL %q, want %q", got, want)
	}
	for _, f := range []string{"verify_token", "app_secret", "access_token"} {
		if hint := p.text(fmt.Sprintf(`#admin-detail [data-field="whatsapp.%s"] .hint`, f)); !strings.HasPrefix(hint, "Set.") {
			t.Fatalf("the %s's hint: %q", f, hint)
		}
	}
	p.wait("no WhatsApp secret on the page", channelsWebhooksNoSecret("-on-the-page"))
}

// createWebhook: a webhook endpoint for the main live chat's closed chats
// and offline messages.
func (s *channelsWebhooksPage) createWebhook(hookSecret string) {
	t, p := s.t, s.p
	p.openAdmin("webhooks")
	p.wait("the webhooks read", channelsWebhooksLoaded)
	p.newRecord()
	p.setText(adminField("id"), "crm")
	p.setText(adminField("url"), s.recv.srv.URL+"/in")
	p.setText(adminField("secret"), hookSecret)
	p.setSelect(adminField("live_chat"), "main")
	p.checkBox("events", "chat.closed")
	p.checkBox("events", "offline.message")
	p.setText(adminField("description"), "<i>CRM</i>")
	p.save()
	p.wait("the webhook created", `document.querySelector(".admin-note").textContent.includes("Created webhook crm")`)
	var hook map[string]any
	if code := admin(t, s.addr, "GET", "/admin/webhooks/crm", nil, &hook); code != http.StatusOK || hook["url"] != s.recv.srv.URL+"/in" ||
		hook["live_chat"] != "main" || toJSON(hook["events"]) != `["chat.closed","offline.message"]` || hook["enabled"] != true ||
		hook["has_secret"] != true || hook["secret"] != nil || hook["description"] != "<i>CRM</i>" {
		t.Fatalf("the webhook made on the page: %d %v", code, hook)
	}
	p.wait("the webhook's form", `document.querySelector('#admin-detail .record[data-id="crm"]')`)
	if got := p.text(".admin-list [data-id=crm] .item-label"); got != "<i>CRM</i>" {
		t.Fatalf("the list shows %q", got)
	}
	if hint := p.text(`#admin-detail [data-field="secret"] .hint`); !strings.HasPrefix(hint, "Set.") {
		t.Fatalf("the secret's hint: %q", hint)
	}
	p.wait("no webhook secret on the page", channelsWebhooksNoSecret(hookSecret))
}

// testAndDeliver: the test event reaches the receiver at once; then a
// real delivery (an offline message in support, of the main live chat)
// shows in the page's delivery log.
func (s *channelsWebhooksPage) testAndDeliver() {
	t, p, addr, recv := s.t, s.p, s.addr, s.recv
	p.click("#hook-test")
	p.wait("the test's answer", `document.querySelector("#hook-test-result").textContent.includes("took the test event")`)
	eventually(t, "the test event at the receiver", func() bool {
		evs := recv.unique()
		return len(evs) == 1 && evs[0].Type == messages.EventWebhookTest
	})

	mustAdmin(t, addr, "PATCH", "/admin/departments/support", map[string]any{"offline_messages": true})
	vis, _ := newVisitor(t, addr, false)
	if _, err := vis.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_LeaveOfflineMessage{LeaveOfflineMessage: &messages.LeaveOfflineMessage{
		Department: "support", Name: "Ben", Email: "ben@example.net", Text: "call me"}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the offline message at the receiver", func() bool { return len(recv.unique()) == 2 })
	p.wait("the delivery in the log", `[...document.querySelectorAll('#hook-log tr[data-type="offline.message"]')].some(tr => tr.textContent.includes("taken") && tr.textContent.includes("200"))`)
	if bad := recv.badRequests(); len(bad) > 0 {
		t.Fatalf("the receiver refused: %v", bad)
	}
}

// refuseBadWebhook: an ftp:// URL gets the typed error next to it,
// nothing stored.
func (s *channelsWebhooksPage) refuseBadWebhook() {
	p := s.p
	p.newRecord()
	p.setText(adminField("id"), "bad")
	p.setText(adminField("url"), "ftp://example.com/in")
	p.setText(adminField("secret"), "another-secret-0123456")
	p.save()
	p.wait("the refusal next to the URL", `(document.querySelector('#admin-detail [data-error-for="url"]')?.textContent || "") !== ""`)
	if code := admin(s.t, s.addr, "GET", "/admin/webhooks/bad", nil, nil); code != http.StatusNotFound {
		s.t.Fatalf("the refused webhook: %d", code)
	}
}

// deleteWebhookAndChannel deletes the webhook crm and the channel shop on
// the page.
func (s *channelsWebhooksPage) deleteWebhookAndChannel() {
	t, p, addr := s.t, s.p, s.addr
	p.openRecord("crm")
	p.screenshot("admin-webhooks")
	p.click(`#admin-detail .confirm .danger`)
	p.click(`#admin-detail .confirm .yes`)
	p.wait("crm deleted", `document.querySelector(".admin-note").textContent.includes("Deleted webhook crm")`)
	if code := admin(t, addr, "GET", "/admin/webhooks/crm", nil, nil); code != http.StatusNotFound {
		t.Fatalf("the deleted webhook: %d", code)
	}
	p.openAdmin("channels")
	p.wait("the channels read again", channelsWebhooksLoaded)
	p.openRecord("shop")
	p.click(`#admin-detail .confirm .danger`)
	p.click(`#admin-detail .confirm .yes`)
	p.wait("shop deleted", `document.querySelector(".admin-note").textContent.includes("Deleted channel shop")`)
	if code := admin(t, addr, "GET", "/admin/channels/shop", nil, nil); code != http.StatusNotFound {
		t.Fatalf("the deleted channel: %d", code)
	}
}

// checkAudit: dana's changes are in the audit log.
func (s *channelsWebhooksPage) checkAudit() {
	t, addr := s.t, s.addr
	done := func(query string) (n int) {
		for _, e := range auditPage(t, addr, query) {
			if e.GetOk() {
				n++
			}
		}
		return n
	}
	if n := done("kind=admin.webhook.create&actor=dana"); n != 1 {
		t.Fatalf("%d audited webhook creations by dana", n)
	}
	if n := done("kind=admin.channel.put&actor=dana"); n != 3 { // shop made and renamed, wa made
		t.Fatalf("%d audited channel changes by dana", n)
	}
}
