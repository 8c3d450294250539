package actors

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"hash/fnv"
	"log/slog"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The routing journal (issue 20): a queue records each input it handles
// that can change a routing decision, stripped to what the rules read,
// with the decisions it made handling it. Replaying the inputs through
// the same code (queue.handle, with a host that keeps the recorded clock)
// gives the same decisions: that is how `switchboard simulate` replays a
// period, and how its test proves it.
//
// The journal entry of an input is submitted to the store before anything
// the queue sent while handling it is let go (brokerHost holds the
// sends), and the store commits requests in submission order: whatever a
// chat stores because of a decision (its assignment) lands after the
// decision, so after a kill -9 a chat's routing story is complete up to
// what was acknowledged.

// maxStoredDecisions bounds the decisions kept under one chat per stay in
// a line; ASSIGNED is always kept.
const maxStoredDecisions = 200

// routingRecorder writes a broker's journal.
type routingRecorder struct {
	store Store
	log   *slog.Logger
	done  func(error) // stored: one function for every entry
	// key: a random key of this broker's run for the address hashes,
	// never stored. An address's count in a line matters only while its
	// queue runs, and a queue's restart is a new start in the journal,
	// so the hashes need only agree within a run; without the key a hash
	// of an IPv4 address is reversed by trying them all.
	key []byte
}

func newRoutingRecorder(store Store, log *slog.Logger) *routingRecorder {
	r := &routingRecorder{store: store, log: log, key: make([]byte, 32)}
	rand.Read(r.key)
	r.done = r.stored
	return r
}

func (r *routingRecorder) addressKey() []byte { return r.key }

func (r *routingRecorder) record(in *messages.RoutingInput, stored []*messages.RoutingDecision) {
	r.store.AppendRouting(in, stored, r.done)
}

// stored hears how an entry's commit went.
func (r *routingRecorder) stored(err error) {
	if err != nil {
		r.log.Warn("routing: journal entry not stored", "err", err)
	}
}

// recording is the journal entry a queue is building while it handles one
// input (nil: the input is not one, or recording is off).
type recording struct {
	in      *messages.RoutingInput
	stored  []*messages.RoutingDecision
	ignored bool // the queue ignored the input: nothing to keep
}

// ignore says the input changed nothing (r may be nil).
func (r *recording) ignore() {
	if r != nil {
		r.ignored = true
	}
}

// begin starts the journal entry of msg, if msg is a routing input and
// the host keeps a journal.
func (q *queue) begin(msg any) {
	q.rec = nil
	if q.host.journal() == nil {
		return
	}
	in := journalInput(msg, q.host.journal().addressKey())
	if in == nil {
		return
	}
	in.AtNs = q.host.Now().UnixNano()
	in.Department = q.id
	q.rec = &recording{in: in}
}

// end completes the entry (the settings a start or a directory change
// loaded) and hands it to the journal.
func (q *queue) end(msg any) {
	r := q.rec
	if r == nil || r.ignored {
		q.rec = nil
		return
	}
	q.rec = nil
	switch msg.(type) {
	case *actor.Started, *messages.DirectoryChanged:
		_, started := msg.(*actor.Started)
		r.in.Input = &messages.RoutingInput_Settings{Settings: &messages.RoutingSettings{
			Department: q.dept, LinePerAddress: uint32(max(q.host.LinePerAddress(), 0)), Started: started}}
	}
	q.host.journal().record(r.in, r.stored)
}

// decide records a decision about w's chat (w may be nil for a refused
// request: chatID names it). It is kept under the chat unless the chat's
// stay in line has reached maxStoredDecisions (ASSIGNED always is).
func (q *queue) decide(w *waiting, chatID string, d *messages.RoutingDecision) {
	r := q.rec
	if r == nil {
		return
	}
	d.AtMs = q.host.Now().UnixMilli()
	d.ChatId = chatID
	d.Department = q.id
	d.Policy = policyName(q.dept.GetPolicy())
	d.SettingsVersion = q.version
	if w != nil {
		d.Position, d.LineLength = q.line.position(w), uint32(len(q.line.waiting))
	}
	r.in.Decisions = append(r.in.Decisions, &messages.RoutingDecision{Kind: d.GetKind(), ChatId: chatID, AgentId: d.GetAgentId(), Refusal: d.GetRefusal()})
	switch {
	case w == nil:
		return // a refused request has no chat to keep it under
	case w.decisions >= maxStoredDecisions && d.GetKind() != messages.RoutingDecisionKind_ROUTING_DECISION_KIND_ASSIGNED:
		return
	}
	w.decisions++
	d.Truncated = w.decisions == maxStoredDecisions
	r.stored = append(r.stored, d)
}

// note records a decision of kind about w's chat when a journal entry is
// being built; the decision and its words (detail) are made only then,
// so that routing without records allocates nothing for them.
func (q *queue) note(w *waiting, chatID string, kind messages.RoutingDecisionKind, agent string, detail func() string) {
	if q.rec == nil {
		return
	}
	q.decide(w, chatID, &messages.RoutingDecision{Kind: kind, AgentId: agent, Detail: detail()})
}

// settingsVersion identifies the department's settings: a hash of their
// deterministic encoding (0: no department).
func settingsVersion(d *messages.Department) uint64 {
	if d == nil {
		return 0
	}
	// What the queue's rules read (a greeting's change is no new version).
	r := &messages.Department{Id: d.GetId(), ChatEnabled: d.GetChatEnabled(), Policy: d.GetPolicy(), QueueLimit: d.GetQueueLimit(),
		OfferTimeoutMs: d.GetOfferTimeoutMs(), OfflineMessages: d.GetOfflineMessages(), AnswerTargetS: d.GetAnswerTargetS()}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
	if err != nil {
		return 0
	}
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// policyName is a policy as decision records name it.
func policyName(p messages.RoutingPolicy) string {
	switch p {
	case messages.RoutingPolicy_ROUTING_POLICY_ROUND_ROBIN:
		return "round_robin"
	case messages.RoutingPolicy_ROUTING_POLICY_MANUAL:
		return "manual"
	}
	return "least_loaded"
}

// journalInput is msg as the journal keeps it: what the routing rules
// read, without the visitor's name, words or address (the address is
// kept as a hash of its line key, which counts the same), trace contexts
// or connections. nil: msg is no routing input. A start or a directory
// change is completed by end, once the settings are loaded.
func journalInput(msg any, addrKey []byte) *messages.RoutingInput {
	in := &messages.RoutingInput{}
	switch m := msg.(type) {
	case *actor.Started, *messages.DirectoryChanged:
	case *messages.StartChat:
		s := &messages.StartChat{ChatId: m.GetChatId(), VisitorId: journalVisitor(m.GetVisitorId()), Address: addressHash(addrKey, m.GetAddress()),
			Request: &messages.RequestChat{Department: m.GetRequest().GetDepartment(), Language: m.GetRequest().GetLanguage()}}
		if m.GetChannel() != nil {
			s.Channel = &messages.ChannelStart{Channel: m.GetChannel().GetChannel()}
		}
		in.Input = &messages.RoutingInput_Admit{Admit: s}
	case *messages.Enqueue:
		in.Input = &messages.RoutingInput_Enqueue{Enqueue: &messages.Enqueue{Chat: routingSummary(m.GetChat()), Ticket: m.GetTicket(), Head: m.GetHead(), Target: m.GetTarget()}}
	case *messages.QueueRestore:
		r := &messages.QueueRestore{}
		for _, oc := range m.GetChats() {
			r.Chats = append(r.Chats, routingOpen(oc))
		}
		for _, oc := range m.GetActive() {
			r.Active = append(r.Active, routingOpen(oc))
		}
		in.Input = &messages.RoutingInput_Restore{Restore: r}
	case *messages.Withdraw:
		in.Input = &messages.RoutingInput_Withdraw{Withdraw: m}
	case *messages.AgentReport:
		in.Input = &messages.RoutingInput_Report{Report: m}
	case *messages.OfferReply:
		in.Input = &messages.RoutingInput_Reply{Reply: m}
	case *messages.OfferExpired:
		in.Input = &messages.RoutingInput_Expired{Expired: m}
	case *messages.RetryDispatch:
		in.Input = &messages.RoutingInput_Retry{Retry: m}
	case *messages.PickRequest:
		in.Input = &messages.RoutingInput_Pick{Pick: m}
	case *messages.SupervisorAssign:
		in.Input = &messages.RoutingInput_Assign{Assign: &messages.SupervisorAssign{ChatId: m.GetChatId(), AgentId: m.GetAgentId(), ById: m.GetById(), ByName: m.GetByName()}}
	default:
		return nil
	}
	return in
}

// routingSummary keeps what routing reads of a chat summary.
func routingSummary(c *messages.ChatSummary) *messages.ChatSummary {
	return &messages.ChatSummary{ChatId: c.GetChatId(), VisitorId: journalVisitor(c.GetVisitorId()), Department: c.GetDepartment(),
		Language: c.GetLanguage(), State: c.GetState(), CreatedAtMs: c.GetCreatedAtMs(), AgentId: c.GetAgentId()}
}

func routingOpen(oc *messages.OpenChat) *messages.OpenChat {
	return &messages.OpenChat{ChatId: oc.GetChatId(), VisitorId: journalVisitor(oc.GetVisitorId()), Department: oc.GetDepartment(), Language: oc.GetLanguage(),
		State: oc.GetState(), Ticket: oc.GetTicket(), Head: oc.GetHead(), Target: oc.GetTarget(), AgentId: oc.GetAgentId(),
		CreatedAtMs: oc.GetCreatedAtMs(), AssignedAtMs: oc.GetAssignedAtMs()}
}

// journalVisitor is a visitor id as the journal keeps it: a colleague's
// ("staff-<id>", which the rules read: nobody is offered their own
// question), else nothing (a visitor's id leads to their record).
func journalVisitor(id string) string {
	if strings.HasPrefix(id, colleaguePrefix) {
		return id
	}
	return ""
}

// addressHash is a client address as the journal keeps it: its line
// key, as a keyed hash (HMAC-SHA256 with the run's key, 12 bytes); ""
// stays "". A nil key is for addresses that are pseudonyms already.
func addressHash(key []byte, addr string) string {
	if addr == "" || key == nil {
		return addr
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(AddressKey(addr)))
	return "h" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}
