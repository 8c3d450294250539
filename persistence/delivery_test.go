package persistence

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

func putSync(t testing.TB, put func(done func(error))) {
	t.Helper()
	ch := make(chan error, 1)
	put(func(err error) { ch <- err })
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
}

// pending lists target's waiting deliveries as "<id> <type>".
func pending(t testing.TB, s *Store, target string) []string {
	t.Helper()
	var out []string
	if err := s.EachDelivery(target, func(d *messages.Delivery) bool {
		out = append(out, d.GetId()+" "+d.GetType())
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// The delivery round writes each visible event's delivery to every
// matching endpoint (its live chat, its types, enabled) and to the
// chat's channel (an API channel every visible event, a WhatsApp channel
// the staff's messages); a whisper goes nowhere. The wake hears of
// exactly what was written; indexing again writes nothing new; a rebuilt
// index delivers nothing again.
func TestDeliveryRound(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	var mu sync.Mutex // the indexer's goroutine and this test's IndexFeed
	var woken []string
	s.SetDeliveryWake(func(ds []*messages.Delivery) {
		mu.Lock()
		defer mu.Unlock()
		for _, d := range ds {
			woken = append(woken, d.GetTarget()+" "+d.GetId())
		}
	})
	setupDeliveryTargets(t, s)
	appendDeliveryStories(t, s)
	indexAll(t, s)
	story := func(chat string) []string {
		return []string{chat + "/1 chat.requested", chat + "/2 chat.message", chat + "/3 chat.assigned", chat + "/5 chat.closed"}
	}
	var all []string
	for _, c := range []string{"api1", "hr1", "sales1"} {
		all = append(all, story(c)...)
	}
	all = append(all, "wa1/1 chat.requested", "wa1/2 chat.message", "wa1/3 chat.assigned", "wa1/5 chat.message")
	for target, want := range map[string][]string{
		"hook/all":    all,
		"hook/closed": {"api1/5 chat.closed", "hr1/5 chat.closed", "sales1/5 chat.closed"},
		"hook/staff":  story("hr1"),
		"hook/off":    nil,
		"channel/api": story("api1"),
		"channel/wa":  {"wa1/5 chat.message"},
	} {
		if got := pending(t, s, target); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", target, got, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n := len(all) + 3 + 4 + 4 + 1; len(woken) != n {
		t.Errorf("woken with %d deliveries, want %d: %v", len(woken), n, woken)
	}
	targets, err := s.DeliveryTargets()
	if err != nil || fmt.Sprint(targets) != "[channel/api channel/wa hook/all hook/closed hook/staff]" {
		t.Errorf("targets %v %v", targets, err)
	}
	// Each delivery carries its event and its live chat.
	_ = s.EachDelivery("hook/staff", func(d *messages.Delivery) bool {
		if d.GetLiveChat() != "staff" || d.GetEvent().GetSeq() != d.GetSeq() || d.GetConversation() != "hr1" {
			t.Errorf("delivery %v", d)
		}
		return true
	})

	// Sent: deleted with the log; a second index changes nothing.
	var done []*messages.Delivery
	_ = s.EachDelivery("hook/all", func(d *messages.Delivery) bool { done = append(done, d); return true })
	log := &messages.WebhookLog{Attempts: []*messages.WebhookAttempt{{Id: "x", Ok: true}}}
	putSync(t, func(cb func(error)) { s.WriteDeliveries("hook/all", nil, done, nil, log, cb) })
	woken = nil
	mu.Unlock()
	indexAll(t, s)
	mu.Lock()
	if got := pending(t, s, "hook/all"); len(got) != 0 || len(woken) != 0 {
		t.Errorf("after sending: %v, woken %v", got, woken)
	}
	if l, _ := s.DeliveryLog("hook/all"); len(l.GetAttempts()) != 1 {
		t.Errorf("log %v", l)
	}
	// A rebuilt index (a new version) does not deliver the logs again.
	s.Close()
	s = openTest(t, dir)
	defer s.Close()
	if err := s.DropHistory(); err != nil {
		t.Fatal(err)
	}
	if err := s.rebuildIfNeeded(); err != nil {
		t.Fatal(err)
	}
	indexAll(t, s)
	if got := pending(t, s, "hook/all"); len(got) != 0 {
		t.Errorf("after a rebuild: %v", got)
	}
	// Deleting an endpoint deletes its deliveries and log.
	putSync(t, func(cb func(error)) { s.DeleteWebhook("closed", cb) })
	if got := pending(t, s, "hook/closed"); len(got) != 0 {
		t.Errorf("after the delete: %v", got)
	}
	if hs, _ := s.Webhooks(); slices.ContainsFunc(hs, func(h *messages.WebhookEndpoint) bool { return h.GetId() == "closed" }) {
		t.Error("the endpoint is still there")
	}
}

// setupDeliveryTargets stores TestDeliveryRound's department hr (live
// chat staff), its webhook endpoints and its API and WhatsApp channels.
func setupDeliveryTargets(t *testing.T, s *Store) {
	t.Helper()
	putSync(t, func(done func(error)) { s.PutDepartment(&messages.Department{Id: "hr", LiveChat: "staff"}, done) })
	for _, h := range []*messages.WebhookEndpoint{
		{Id: "all", Enabled: true},
		{Id: "closed", Enabled: true, Events: []string{messages.EventChatClosed}},
		{Id: "staff", Enabled: true, LiveChat: "staff"},
		{Id: "off", Enabled: false},
	} {
		putSync(t, func(done func(error)) { s.PutWebhook(h, true, done) })
	}
	putSync(t, func(done func(error)) {
		s.putOne(channelKey("api"), &messages.Channel{Id: "api", Kind: messages.ChannelKind_CHANNEL_KIND_API, Enabled: true}, done)
	})
	putSync(t, func(done func(error)) {
		s.putOne(channelKey("wa"), &messages.Channel{Id: "wa", Kind: messages.ChannelKind_CHANNEL_KIND_WHATSAPP}, done)
	})
}

// appendDeliveryStories appends TestDeliveryRound's four chats: sales1,
// hr1, api1 (channel api) and wa1 (channel wa, its agent's message).
func appendDeliveryStories(t *testing.T, s *Store) {
	t.Helper()
	sales := storyChat("sales1", "sales", "v1", 1000, "hello", "psst")
	hr := storyChat("hr1", "hr", "v2", 2000, "my payslip", "psst")
	api := storyChat("api1", "sales", "v3", 3000, "from the api", "psst")
	api[0].GetCreated().Channel = "api"
	wa := storyChat("wa1", "sales", "v4", 4000, "from whatsapp", "psst")
	wa[0].GetCreated().Channel = "wa"
	wa = append(wa[:4], &messages.ChatEvent{ChatId: "wa1", Seq: 5, Kind: &messages.ChatEvent_Message{Message: &messages.ChatMessage{From: agentP, Text: "hi"}}})
	for _, evs := range [][]*messages.ChatEvent{sales, hr, api, wa} {
		appendSync(t, s, evs[0].GetChatId(), evs, nil, false)
	}
}

// A new offline message is delivered to the matching endpoints in its
// own batch; its answer (a rewrite) is not delivered again.
func TestOfflineDeliveries(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	var woken int
	s.SetDeliveryWake(func(ds []*messages.Delivery) { woken += len(ds) })
	putSync(t, func(done func(error)) { s.PutWebhook(&messages.WebhookEndpoint{Id: "all", Enabled: true}, true, done) })
	putSync(t, func(done func(error)) {
		s.PutWebhook(&messages.WebhookEndpoint{Id: "chats", Enabled: true, Events: []string{messages.EventChatMessage}}, true, done)
	})
	o := &messages.OfflineMessage{Id: "o1", Department: "sales", Text: "call me", AtMs: 5}
	putSync(t, func(done func(error)) { s.WriteMail(nil, nil, []*messages.OfflineMessage{o}, done) })
	if got := pending(t, s, "hook/all"); fmt.Sprint(got) != "[offline/o1 offline.message]" || woken != 1 {
		t.Fatalf("pending %v, woken %d", got, woken)
	}
	if got := pending(t, s, "hook/chats"); len(got) != 0 {
		t.Errorf("the chats-only endpoint: %v", got)
	}
	answered := &messages.OfflineMessage{Id: "o1", Department: "sales", Text: "call me", AtMs: 5, Answered: true}
	putSync(t, func(done func(error)) { s.WriteMail(nil, nil, []*messages.OfflineMessage{answered}, done) })
	if woken != 1 {
		t.Errorf("the answer was delivered: woken %d", woken)
	}
}

// Creating a webhook or a channel clears its id's deliveries in the same
// batch (leftovers of a deleted one); replacing one keeps them.
func TestCreateTargetClearsLeftovers(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	for _, c := range []struct {
		target string
		put    func(create bool, done func(error))
	}{
		{messages.WebhookTarget("h"), func(create bool, done func(error)) {
			s.PutWebhook(&messages.WebhookEndpoint{Id: "h", Enabled: true}, create, done)
		}},
		{messages.ChannelTarget("c"), func(create bool, done func(error)) {
			s.PutChannel(&messages.Channel{Id: "c", Enabled: true}, create, done)
		}},
	} {
		leave := func() {
			d := &messages.Delivery{Id: "chat/1", Target: c.target, Conversation: "chat", Seq: 1, Type: messages.EventChatMessage}
			putSync(t, func(done func(error)) { s.WriteDeliveries(c.target, []*messages.Delivery{d}, nil, nil, nil, done) })
		}
		leave()
		putSync(t, func(done func(error)) { c.put(true, done) })
		if got := pending(t, s, c.target); len(got) != 0 {
			t.Errorf("%s created with leftovers: %v", c.target, got)
		}
		leave()
		putSync(t, func(done func(error)) { c.put(false, done) })
		if got := pending(t, s, c.target); len(got) != 1 {
			t.Errorf("%s replaced: its deliveries %v, want the one", c.target, got)
		}
	}
}
