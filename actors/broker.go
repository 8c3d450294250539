package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// Store is what the actors need from storage. Writes are asynchronous:
// done is called once the write is durable (or failed), from another
// goroutine, in submission order. persistence.Store implements it.
type Store interface {
	AppendChat(chatID string, events []*messages.ChatEvent, open *messages.OpenChat, closed bool, done func(error))
	ChatEvents(chatID string, afterSeq uint64) ([]*messages.ChatEvent, error)
	EachChatEvent(chatID string, afterSeq uint64, fn func(*messages.ChatEvent) error) error
	OpenChats() ([]*messages.OpenChat, error)
	OpenChat(chatID string) (*messages.OpenChat, error)
	LastChatSeq(chatID string) (uint64, error)
	SearchChats(q *messages.ChatHistoryQuery, allow func(*messages.ChatHistoryEntry) bool) (*messages.ChatHistoryPage, error)
	DeleteChat(chatID string) error

	AppendAudit(e *messages.AuditEntry, done func(error))
	RevokeSession(sid string, until time.Time) error
	SessionRevoked(sid string) (bool, error)
	Audit(from, to time.Time, keep func(*messages.AuditEntry) bool, limit int) ([]*messages.AuditEntry, error)

	SaveAgentSnapshot(snap *messages.AgentSnapshot, done func(error))
	AgentSnapshot(id string) (*messages.AgentSnapshot, error)

	PutDepartment(d *messages.Department, done func(error))
	DeleteDepartment(id string, done func(error))
	PutLanguage(l *messages.Language, done func(error))
	DeleteLanguage(code string, done func(error))
	PutAgent(a *messages.Agent, previousLogin string, done func(error))
	DeleteAgent(a *messages.Agent, done func(error))
	Department(id string) (*messages.Department, error)
	Departments() ([]*messages.Department, error)
	Language(code string) (*messages.Language, error)
	Languages() ([]*messages.Language, error)
	Agent(id string) (*messages.Agent, error)
	AgentByLogin(login string) (*messages.Agent, error)
	Agents() ([]*messages.Agent, error)
	PutAgentRecords(as []*messages.Agent, done func(error))
	PutSettings(x *messages.Settings, done func(error))
	Settings() (*messages.Settings, error)
	PutSignIn(x *messages.SignInSettings, done func(error))
	SignIn() (*messages.SignInSettings, error)
	PutEmailSettings(x *messages.EmailSettings, done func(error))
	EmailSettings() (*messages.EmailSettings, error)
	WriteMail(put []*messages.OutboxMail, sent []string, offline []*messages.OfflineMessage, done func(error))
	Outbox() ([]*messages.OutboxMail, error)
	OfflineMessages() ([]*messages.OfflineMessage, error)
	OfflineMessage(id string) (*messages.OfflineMessage, error)
	PutRole(r *messages.Role, done func(error))
	DeleteRole(id string, done func(error))
	Role(id string) (*messages.Role, error)
	Roles() ([]*messages.Role, error)
	PutCanned(r *messages.CannedReply, done func(error))
	DeleteCanned(r *messages.CannedReply, done func(error))
	// CannedReplies: one department's (agentID empty), one agent's own
	// (department empty), or all (both empty).
	CannedReplies(department, agentID string) ([]*messages.CannedReply, error)

	PutFile(f *messages.StoredFile, data []byte) error
	File(chatID, fileID string) (*messages.StoredFile, error)
	EachFileChunk(f *messages.StoredFile, fn func([]byte) error) error
	DeleteFile(chatID, fileID string) error
	PutVisitorContext(c *messages.VisitorContext, done func(error))
	VisitorContext(visitorID string) (*messages.VisitorContext, error)

	PutLiveChat(x *messages.LiveChat, done func(error))
	DeleteLiveChat(id string, done func(error))
	LiveChat(id string) (*messages.LiveChat, error)
	LiveChats() ([]*messages.LiveChat, error)
	PutChannel(c *messages.Channel, create bool, done func(error))
	DeleteChannel(id string, done func(error))
	Channel(id string) (*messages.Channel, error)
	Channels() ([]*messages.Channel, error)
	DeliveryRef(target, ref string) (*messages.DeliveryRef, error)

	AppendStats(ev *messages.StatsEvent, done func(error))
	// The routing journal and the chats' decisions (issue 20).
	AppendRouting(in *messages.RoutingInput, stored []*messages.RoutingDecision, done func(error))
	RoutingDecisions(chatID string) ([]*messages.RoutingDecision, error)

	// The delivery outbox (deliver_outbox.go) and webhooks.
	DeliveryTargets() ([]string, error)
	EachDelivery(target string, fn func(*messages.Delivery) bool) error
	WriteDeliveries(target string, put, done []*messages.Delivery, refs map[string]*messages.DeliveryRef, log *messages.WebhookLog, cb func(error))
	DeliveryLog(target string) (*messages.WebhookLog, error)
	DropDeliveries(target string, done func(error))
	PutWebhook(h *messages.WebhookEndpoint, create bool, done func(error))
	DeleteWebhook(id string, done func(error))
	Webhook(id string) (*messages.WebhookEndpoint, error)
	Webhooks() ([]*messages.WebhookEndpoint, error)
	StatsReport(q *messages.StatsQuery) (*messages.StatsReport, error)
}

// Clock tells the time and runs timers. Tests inject a fake one.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d; stop cancels it.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
func (systemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// Kinds of actors, as used in their names (Name).
const (
	KindChat      = "chat"
	KindQueue     = "queue"
	KindGroup     = "group"
	KindAgent     = "agent"
	KindVisitor   = "visitor"
	KindDirectory = "directory"
	// KindMail is the outbox and the offline messages ("mail/main").
	KindMail = "mail"
	// KindDelivery is the delivery outbox of one target: "delivery/hook/<id>",
	// "delivery/channel/<id>" (deliver_outbox.go).
	KindDelivery = "delivery"
)

// Broker owns the actor system and is the one lookup from kind and id to an
// actor. It is immutable after New and safe from any goroutine.
type Broker struct {
	store  Store
	clock  Clock
	log    *slog.Logger
	system *actor.ActorSystem
	root   *actor.RootContext
	// props makes one activation's props: carry is what the mailbox
	// starts with (see retire).
	props map[string]func(id string, carry []interface{}) *actor.Props

	// dispatcher runs every mailbox; the actor-level test harness swaps in
	// its own (harness_test.go) to run actors on the test's goroutine.
	// It must never run a mailbox inline on Schedule's caller: Broker.PID
	// holds an activation stripe's lock across SpawnNamed, and the
	// actor's Started takes it again to keep its PID (activation.go).
	dispatcher actor.Dispatcher
	// newID makes chat ids and session epochs (NewID); the harness makes
	// them predictable.
	newID      func(prefix byte, now time.Time) string
	activation *activation

	agentGrace, visitorGrace time.Duration
	silentWait               time.Duration
	linePerAddress           int
	routing                  *routingRecorder // nil: decisions are not recorded
	tracing                  tracing
	metrics                  *Metrics      // nil: off
	mailer                   Mailer        // nil: no email sent
	channelSender            ChannelSender // nil: WhatsApp replies wait in the outbox
	mailRetry, mailRetryMax  time.Duration
	webhooks                 WebhookSender // nil: webhooks wait in the outbox
	deliveryRetry            time.Duration
	deliveryRetryMax         time.Duration
	hookDisableAfter         time.Duration
	deliveriesInFlight       int
	deliveriesInMemory       int
}

// New builds a Broker. Call Recover before serving traffic.
func New(cfg Config) (*Broker, error) {
	if cfg.Store == nil {
		return nil, errors.New("actors: Config.Store is required")
	}
	if err := cfg.EnsureDefaults().Validate(); err != nil {
		return nil, err
	}
	b := &Broker{store: cfg.Store, clock: cfg.Clock, log: cfg.Logger, system: cfg.ActorSystem,
		agentGrace: cfg.AgentGrace, visitorGrace: cfg.VisitorGrace, silentWait: cfg.SilentWait, linePerAddress: cfg.LinePerAddress, tracing: newTracing(cfg.TracerProvider), metrics: cfg.Metrics,
		mailer: cfg.Mailer, channelSender: cfg.ChannelSender, mailRetry: cfg.MailRetry, mailRetryMax: cfg.MailRetryMax,
		webhooks: cfg.Webhooks, deliveryRetry: cfg.DeliveryRetry, deliveryRetryMax: cfg.DeliveryRetryMax,
		hookDisableAfter: cfg.WebhookDisableAfter, deliveriesInFlight: cfg.DeliveriesInFlight,
		deliveriesInMemory: cfg.DeliveriesInMemory}
	if cfg.RecordRouting {
		b.routing = newRoutingRecorder(cfg.Store, cfg.Logger)
	}
	if b.system == nil {
		sysLog := RedactedLogger(b.log)
		b.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return sysLog }))
	}
	b.root = b.system.Root
	b.newID = NewID
	b.dispatcher = newWorkerDispatcher(300)
	b.activation = newActivation()
	b.props = map[string]func(string, []interface{}) *actor.Props{
		KindChat: func(id string, carry []interface{}) *actor.Props {
			return b.newProps(Name{KindChat, id}, carry, func() actor.Actor { return &chat{b: b, id: id} })
		},
		KindQueue: func(id string, carry []interface{}) *actor.Props {
			return b.newProps(Name{KindQueue, id}, carry, func() actor.Actor { return newQueue(b, id) })
		},
		KindGroup: func(id string, carry []interface{}) *actor.Props {
			return b.newProps(Name{KindGroup, id}, carry, func() actor.Actor { return &group{b: b, id: id} })
		},
		KindAgent: func(id string, carry []interface{}) *actor.Props {
			return b.newProps(Name{KindAgent, id}, carry, func() actor.Actor { return newAgent(b, id) })
		},
		KindVisitor: func(id string, carry []interface{}) *actor.Props {
			return b.newProps(Name{KindVisitor, id}, carry, func() actor.Actor { return newVisitor(b, id) })
		},
		KindDirectory: func(id string, carry []interface{}) *actor.Props {
			return b.newProps(Name{KindDirectory, id}, carry, func() actor.Actor { return &directory{b: b} })
		},
		KindMail: func(id string, carry []interface{}) *actor.Props {
			return b.newProps(Name{KindMail, id}, carry, func() actor.Actor { return newOutbox(b) })
		},
		KindDelivery: func(id string, carry []interface{}) *actor.Props {
			return b.newProps(Name{KindDelivery, id}, carry, func() actor.Actor { return newOutlet(b, id) })
		},
	}
	return b, nil
}

// supervisor restarts a failed actor (it reloads its state from the store
// in Started) up to 10 times a minute, then stops it; the next message to
// its name activates it afresh.
func supervisor() actor.SupervisorStrategy {
	return actor.NewOneForOneStrategy(10, time.Minute, func(reason interface{}) actor.Directive {
		return actor.RestartDirective
	})
}

// newProps makes the props of one activation of n: its mailbox starts
// with carry, the messages a passivated activation left (see handOn).
func (b *Broker) newProps(n Name, carry []interface{}, p actor.Producer) *actor.Props {
	s := supervisor()
	if g := b.metrics.actorGauge(n.Kind); g != nil {
		p = countedProducer(p, g)
	}
	mb := newMailbox(carry)
	inner := p
	p = func() actor.Actor { return &forgetful{Actor: inner(), b: b, n: n, mb: mb} }
	return actor.PropsFromProducer(p, actor.WithSupervisor(s), actor.WithGuardian(s), actor.WithDispatcher(b.dispatcher),
		actor.WithMailbox(func() actor.Mailbox { return mb }))
}

// PID returns the actor of this kind and id, activating it when it is not
// running. This is the only way actors and the gateway address each other.
func (b *Broker) PID(kind, id string) *actor.PID {
	n := Name{kind, id}
	s := b.activation.stripe(n)
	s.Lock()
	defer s.Unlock()
	if s.halted {
		return b.haltedPID(n)
	}
	if pid := s.live[n]; pid != nil {
		return pid // running: see activation
	}
	if _, ok := b.system.ProcessRegistry.GetLocal(n.String()); ok {
		return actor.NewPID(b.system.Address(), n.String())
	}
	var carry []interface{}
	if old := s.closing[n]; old != nil {
		// Passivated and out of the registry, its Stopped not run yet:
		// the new activation takes its messages first.
		delete(s.closing, n)
		carry = old.handOn(b.forwarder(n))
	}
	return b.spawnLocked(n, carry)
}

// spawnLocked activates n, under its stripe's lock.
func (b *Broker) spawnLocked(n Name, carry []interface{}) *actor.PID {
	mk, ok := b.props[n.Kind]
	if !ok {
		panic(fmt.Sprintf("actors: unknown kind %q", n.Kind))
	}
	name := n.String()
	pid, err := b.root.SpawnNamed(mk(n.ID, carry), name)
	if err != nil && !errors.Is(err, actor.ErrNameExists) {
		b.log.Error("actors: activate", "name", name, "err", err)
	}
	return pid
}

// retire runs at a passivated actor's Stopped, when Proto.Actor has taken
// it out of the registry: unless a new activation took them already (PID),
// the messages still in its mailbox go to a new one, in order, and every
// later post to the old mailbox follows them (see mailbox.handOn).
func (b *Broker) retire(n Name, mb *mailbox) {
	s := b.activation.stripe(n)
	s.Lock()
	defer s.Unlock()
	if s.closing[n] != mb || s.halted {
		return
	}
	delete(s.closing, n)
	if carry := mb.handOn(b.forwarder(n)); len(carry) > 0 {
		b.spawnLocked(n, carry)
	}
}

// forwarder sends a message that reached a retired mailbox to n's actor.
func (b *Broker) forwarder(n Name) func(interface{}) {
	return func(msg interface{}) { b.root.Send(b.pidOf(n), msg) }
}

// Send delivers msg to the actor of this kind and id.
func (b *Broker) Send(kind, id string, msg interface{}) {
	b.root.Send(b.PID(kind, id), msg)
}

// System returns the actor system, for the gateway to register connections.
func (b *Broker) System() *actor.ActorSystem { return b.system }

// Now is the broker's clock.
func (b *Broker) Now() time.Time { return b.clock.Now() }

// AfterFunc calls f after d on the broker's clock (tests move it by hand).
func (b *Broker) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	return b.clock.AfterFunc(d, f)
}

// notifier returns a storage callback that sends Persisted{token} to self.
// The callback runs on the writer's goroutine and touches no actor state.
func (b *Broker) notifier(self *actor.PID, token uint64) func(error) {
	return func(err error) {
		p := &messages.Persisted{Token: token}
		if err != nil {
			p.Error = messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "storage: %v", err)
		}
		b.root.Send(self, p)
	}
}

// Recover rebuilds live state from the open-chats index after a start:
// each queue gets its waiting chats in ticket order, each agent and
// visitor the chats they are in. Call it once, before serving traffic.
func (b *Broker) Recover() (queued, active int, err error) {
	// The statistics: agents are offline until they connect again.
	b.store.AppendStats(&messages.StatsEvent{AtMs: b.clock.Now().UnixMilli(), Kind: &messages.StatsEvent_Started{Started: true}}, nil)
	open, err := b.store.OpenChats()
	if err != nil {
		return 0, 0, fmt.Errorf("actors: recover: %w", err)
	}
	byDept := map[string]*messages.QueueRestore{}
	restore := func(dept string) *messages.QueueRestore {
		if byDept[dept] == nil {
			byDept[dept] = &messages.QueueRestore{}
		}
		return byDept[dept]
	}
	for _, oc := range open {
		// The entry is rewritten on state changes only; the log has the
		// last sequence.
		last, err := b.store.LastChatSeq(oc.GetChatId())
		if err != nil {
			return 0, 0, fmt.Errorf("actors: recover: %w", err)
		}
		oc.LastSeq = max(oc.GetLastSeq(), last)
		sum := openSummary(oc)
		switch oc.GetState() {
		case messages.ChatState_CHAT_STATE_ACTIVE:
			active++
			b.Send(KindAgent, oc.GetAgentId(), &messages.ChatJoined{Chat: sum})
			r := restore(oc.GetDepartment())
			r.Active = append(r.Active, oc)
		default:
			queued++
			r := restore(oc.GetDepartment())
			r.Chats = append(r.Chats, oc)
		}
		// Guests and watchers are back in the chat, and invitations
		// stand.
		for _, p := range append(slices.Clone(oc.GetGuests()), oc.GetWatchers()...) {
			b.Send(KindAgent, p.GetId(), &messages.ChatJoined{Chat: sum, Guest: true})
		}
		for _, p := range oc.GetInvited() {
			b.Send(KindAgent, p.GetId(), &messages.Invitation{ChatId: oc.GetChatId(), Department: oc.GetDepartment(), VisitorName: oc.GetVisitorName()})
		}
		spoke, err := b.visitorSpoke(oc.GetChatId())
		if err != nil {
			return 0, 0, fmt.Errorf("actors: recover: %w", err)
		}
		b.Send(KindVisitor, oc.GetVisitorId(), &messages.ChatJoined{Chat: forVisitor(sum), VisitorSpoke: spoke})
	}
	for dept, r := range byDept {
		sort.Slice(r.Chats, func(i, j int) bool { return r.Chats[i].GetTicket() < r.Chats[j].GetTicket() })
		b.Send(KindQueue, dept, r)
	}
	b.PID(KindDirectory, "main")
	b.PID(KindMail, "main") // sends what the outbox still holds
	if err := b.recoverDeliveries(); err != nil {
		return 0, 0, fmt.Errorf("actors: recover: %w", err)
	}
	// Agents with shifts run their own timers: wake them.
	agents, err := b.store.Agents()
	if err != nil {
		return 0, 0, fmt.Errorf("actors: recover: %w", err)
	}
	for _, a := range agents {
		if len(a.GetSchedule().GetShifts()) > 0 {
			b.PID(KindAgent, a.GetId())
		}
	}
	return queued, active, nil
}

// errSpoke ends visitorSpoke's scan at the first visitor message.
var errSpoke = errors.New("the visitor spoke")

// visitorSpoke reports whether the visitor wrote in a chat: the visitor
// actor keeps that in memory only, and a restart must not start the
// silence timer for a visitor who did (the scan stops at their first
// message, usually the chat's second event).
func (b *Broker) visitorSpoke(chatID string) (bool, error) {
	err := b.store.EachChatEvent(chatID, 0, func(ev *messages.ChatEvent) error {
		if m := ev.GetMessage(); m != nil && m.GetFrom().GetKind() == kindVisitor {
			return errSpoke
		}
		return nil
	})
	if errors.Is(err, errSpoke) {
		return true, nil
	}
	return false, err
}

// errFirst ends a scan at a chat's first event.
var errFirst = errors.New("first event read")

// chatOf reports whether chatID is a stored chat of visitor visitorID (its
// first event, created, names them): a point read, no chat actor.
func (b *Broker) chatOf(chatID, visitorID string) bool {
	owner := ""
	err := b.store.EachChatEvent(chatID, 0, func(ev *messages.ChatEvent) error {
		owner = ev.GetCreated().GetVisitorId()
		return errFirst
	})
	return (err == nil || errors.Is(err, errFirst)) && owner != "" && owner == visitorID
}

func openSummary(oc *messages.OpenChat) *messages.ChatSummary {
	return &messages.ChatSummary{
		ChatId: oc.GetChatId(), Department: oc.GetDepartment(), Language: oc.GetLanguage(),
		State: oc.GetState(), VisitorId: oc.GetVisitorId(), VisitorName: oc.GetVisitorName(),
		AgentId: oc.GetAgentId(), AgentName: oc.GetAgentName(), LastSeq: oc.GetLastSeq(),
		CreatedAtMs: oc.GetCreatedAtMs(), WorkStatus: oc.GetWorkStatus(), AssignedAtMs: oc.GetAssignedAtMs(), AgentAvatarUrl: oc.GetAgentAvatarUrl(),
		Guests: oc.GetGuests(), Watchers: oc.GetWatchers(), Invited: oc.GetInvited(), Tags: oc.GetTags(),
	}
}

// Admin applies an administrative change through the directory actor,
// which validates it, stores it and tells the running actors. It returns a
// *messages.Error for a change that was refused.
func (b *Broker) Admin(ctx context.Context, cmd *messages.AdminCommand) error {
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	res, err := b.root.RequestFuture(b.PID(KindDirectory, "main"), cmd, timeout).Result()
	if err != nil {
		return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "directory did not answer: %v", err)
	}
	reply, ok := res.(*messages.AdminReply)
	if !ok {
		return messages.Errorf(messages.ErrorCode_ERROR_CODE_INTERNAL, "unexpected reply %T", res)
	}
	if reply.GetError() != nil {
		return reply.GetError()
	}
	return nil
}

// StaffChatCommand sends staff member a's command to its chat from
// outside a socket (the HTTP API), with what a's role allows, and waits
// for the chat's answer: nil once it took effect, else its typed error.
func (b *Broker) StaffChatCommand(ctx context.Context, a *messages.Agent, perms Perms, cmd *messages.ChatCommand) error {
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	f := actor.NewFuture(b.system, timeout)
	cmd.From = &messages.Participant{Kind: kindAgent, Id: a.GetId(), DisplayName: a.GetDisplayName()}
	cmd.Conn, cmd.Departments, cmd.Perms = f.PID(), a.GetDepartments(), perms.names()
	b.Send(KindChat, cmd.GetChatId(), cmd)
	res, err := f.Result()
	if err != nil {
		return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "the chat did not answer: %v", err)
	}
	if env, _ := res.(*messages.Envelope); env.GetError() != nil {
		return env.GetError()
	}
	return nil
}

// DirectoryView reads the whole directory (password hashes removed).
func (b *Broker) DirectoryView() (*messages.DirectoryView, error) {
	deps, err := b.store.Departments()
	if err != nil {
		return nil, err
	}
	langs, err := b.store.Languages()
	if err != nil {
		return nil, err
	}
	agents, err := b.store.Agents()
	if err != nil {
		return nil, err
	}
	for _, a := range agents {
		a.PasswordHash, a.SessionEpoch = "", ""
	}
	roles, err := b.store.Roles()
	if err != nil {
		return nil, err
	}
	for _, id := range []string{RoleOwner, RoleAdministrator, RoleAgent} {
		roles = append(roles, BuiltinRoles[id])
	}
	settings, err := b.store.Settings()
	if err != nil {
		return nil, err
	}
	lcs, err := b.LiveChats()
	if err != nil {
		return nil, err
	}
	return &messages.DirectoryView{Departments: deps, Languages: langs, Agents: agents, Roles: roles, Settings: settings, LiveChats: lcs}, nil
}

// Permissions returns what an account may do (nothing for nil).
func (b *Broker) Permissions(a *messages.Agent) (Perms, error) {
	if a == nil {
		return Perms{}, nil
	}
	role, err := b.Role(a)
	return permsOf(role), err
}

// Role returns an account's role: built in, or stored (nil for an unknown
// role, which grants nothing).
func (b *Broker) Role(a *messages.Agent) (*messages.Role, error) {
	if r := BuiltinRoles[RoleOf(a)]; r != nil {
		return r, nil
	}
	return b.store.Role(RoleOf(a))
}

// AgentByLogin returns a staff account by login, or nil.
func (b *Broker) AgentByLogin(login string) (*messages.Agent, error) {
	return b.store.AgentByLogin(login)
}

// Settings reads the site-wide settings (never nil).
func (b *Broker) Settings() (*messages.Settings, error) {
	x, err := b.store.Settings()
	if x == nil && err == nil {
		x = &messages.Settings{}
	}
	return x, err
}

// SignIn reads the directory sign-in settings (never nil), secrets
// included: for the gateway's use, never for an answer.
func (b *Broker) SignIn() (*messages.SignInSettings, error) {
	x, err := b.store.SignIn()
	if x == nil && err == nil {
		x = &messages.SignInSettings{}
	}
	return x, err
}

// Department returns a department by id, or nil.
func (b *Broker) Department(id string) (*messages.Department, error) { return b.store.Department(id) }

// Departments returns every department, by id.
func (b *Broker) Departments() ([]*messages.Department, error) { return b.store.Departments() }

// CannedReplies reads one department's canned replies (agentID empty) or
// one agent's own (department empty).
func (b *Broker) CannedReplies(department, agentID string) ([]*messages.CannedReply, error) {
	if department == "" && agentID == "" {
		return nil, nil
	}
	return b.store.CannedReplies(department, agentID)
}

// UsableCanned reads the canned replies an agent uses: their own, then
// those of each department they are in, supervise or manage.
func (b *Broker) UsableCanned(agentID string) ([]*messages.CannedReply, error) {
	a, err := b.store.Agent(agentID)
	if err != nil || a == nil {
		return nil, err
	}
	deps, err := b.cannedDepartments(a)
	if err != nil {
		return nil, err
	}
	return cannedList(b.store, agentID, deps, "")
}

// EmailSettings reads the SMTP settings and templates (never nil),
// password included: for the gateway's use, never for an answer.
func (b *Broker) EmailSettings() (*messages.EmailSettings, error) {
	x, err := b.store.EmailSettings()
	if x == nil && err == nil {
		x = &messages.EmailSettings{}
	}
	return x, err
}

// Agent returns a staff account by id, or nil.
func (b *Broker) Agent(id string) (*messages.Agent, error) { return b.store.Agent(id) }

// ChatRecord builds a chat's record from its stored log, or returns nil
// when there is no such chat.
func (b *Broker) ChatRecord(chatID string) (*messages.ChatRecord, error) {
	if !ValidID(chatID) {
		return nil, nil
	}
	evs, err := b.store.ChatEvents(chatID, 0)
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	rec := &messages.ChatRecord{ChatId: chatID, Transcript: evs}
	seen := map[string]bool{}
	addP := func(p *messages.Participant) {
		key := p.GetKind().String() + "/" + p.GetId()
		if !seen[key] {
			seen[key] = true
			rec.Participants = append(rec.Participants, p)
		}
	}
	for _, ev := range evs {
		switch k := ev.GetKind().(type) {
		case *messages.ChatEvent_Created:
			rec.Department, rec.Language = k.Created.GetDepartment(), k.Created.GetLanguage()
			rec.Departments = []string{rec.Department}
			rec.State = messages.ChatState_CHAT_STATE_QUEUED
			rec.StartedAtMs = ev.GetAtMs()
			addP(&messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_VISITOR, Id: k.Created.GetVisitorId(), DisplayName: k.Created.GetVisitorName()})
		case *messages.ChatEvent_Assigned:
			rec.State = messages.ChatState_CHAT_STATE_ACTIVE
			if rec.AssignedAtMs == 0 {
				rec.AssignedAtMs = ev.GetAtMs()
			}
			addP(&messages.Participant{Kind: messages.ParticipantKind_PARTICIPANT_KIND_AGENT, Id: k.Assigned.GetAgentId(), DisplayName: k.Assigned.GetAgentName()})
		case *messages.ChatEvent_Transferred:
			rec.State = messages.ChatState_CHAT_STATE_QUEUED
			if d := k.Transferred.GetToDepartment(); d != rec.Departments[len(rec.Departments)-1] {
				rec.Departments = append(rec.Departments, d)
			}
		case *messages.ChatEvent_Requeued:
			rec.State = messages.ChatState_CHAT_STATE_QUEUED
		case *messages.ChatEvent_Member:
			if k.Member.GetAction() == messages.MemberAction_MEMBER_ACTION_JOINED {
				addP(k.Member.GetWho())
			}
		case *messages.ChatEvent_Closed:
			rec.State = messages.ChatState_CHAT_STATE_CLOSED
			rec.EndedAtMs = ev.GetAtMs()
		case *messages.ChatEvent_Tagged:
			rec.Tags = foldTag(rec.Tags, k.Tagged)
		case *messages.ChatEvent_Rated:
			rec.Rating = k.Rated
		case *messages.ChatEvent_Reopened:
			rec.State, rec.EndedAtMs = messages.ChatState_CHAT_STATE_QUEUED, 0
		}
	}
	return rec, nil
}

// Audit adds an entry to the audit log, stamped now, without waiting for
// it to be stored.
func (b *Broker) Audit(e *messages.AuditEntry) {
	capAudit(e)
	if e.GetAtMs() == 0 {
		e.AtMs = b.clock.Now().UnixMilli()
	}
	b.store.AppendAudit(e, func(err error) {
		if err != nil {
			b.log.Error("audit: not stored", "kind", e.GetKind(), "err", err)
		}
	})
}

// AuditLog reads the audit log: entries in [from, to), oldest first, that
// keep accepts, at most limit.
func (b *Broker) AuditLog(from, to time.Time, keep func(*messages.AuditEntry) bool, limit int) ([]*messages.AuditEntry, error) {
	return b.store.Audit(from, to, keep, limit)
}

// RevokeSession logs a session out for good (until its token expires).
// For the gateway, not for actors: it waits for the fsync.
func (b *Broker) RevokeSession(sid string, until time.Time) error {
	return b.store.RevokeSession(sid, until)
}

// SessionRevoked reports whether a session was logged out.
func (b *Broker) SessionRevoked(sid string) (bool, error) { return b.store.SessionRevoked(sid) }

// Shutdown shuts the actor system down. Main.Close calls it last: after
// the gateway stopped taking commands and closed its sockets, and after
// the store closed, which commits every write submitted before. A write
// an actor submits after that fails with the store's ErrClosed, so
// nothing is acknowledged that was not stored. Proto.Actor's local system
// does not stop its actors on Shutdown (it closes a channel that only
// cluster gossip reads): they stay until the process ends.
func (b *Broker) Shutdown() {
	b.system.Shutdown()
}

// pidOf is PID for a Name.
func (b *Broker) pidOf(n Name) *actor.PID { return b.PID(n.Kind, n.ID) }
