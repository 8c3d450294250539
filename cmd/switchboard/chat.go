package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// runChat is the terminal client: play a visitor or an agent against a
// running broker. Lines typed are messages; lines starting with / are
// commands (/help lists them). It reconnects by itself (chatconn.go) and
// returns when stdin ends, on /quit, or when the broker ends the session.
func runChat(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("switchboard chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	as := fs.String("as", "visitor", "visitor or agent")
	addr := fs.String("addr", env("SWITCHBOARD_ADDR", defaultAddr), "broker address, or several separated by commas (the nodes of a cluster):\n"+
		"tried in the order given at start, then the next one, cycling, after each drop (env SWITCHBOARD_ADDR)")
	dept := fs.String("department", "sales", "visitor: department to ask")
	lang := fs.String("language", "en", "visitor: language")
	name := fs.String("name", "Visitor", "visitor: your name")
	login := fs.String("login", "", "agent: login")
	password := fs.String("password", "", "agent: password")
	auto := fs.Bool("auto", false, "agent: accept every offer at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *as != "visitor" && *as != "agent" {
		return fmt.Errorf("-as must be visitor or agent")
	}
	addrs, err := splitAddrs(*addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := newChatSession(addrs, stdout, *as == "agent")
	s.auto, s.login, s.password = *auto, *login, *password
	c, w, err := s.start(ctx)
	if err != nil {
		return err
	}
	s.attach(ctx, c, w)
	go s.run(ctx, c)
	defer func() {
		cancel() // run closes the socket normally and returns
		<-s.done
	}()
	if s.agent {
		s.printf("Logged in as %s. You are available; offers appear here (/accept, or start with -auto). /help lists the commands.\n", w.GetDisplayName())
		s.command(ctx, "/available", &messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}})
	} else if s.chat() == "" {
		s.printf("Asking %s for a chat in %s... (/help lists the commands)\n", *dept, *lang)
		s.command(ctx, "the chat request", &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: *dept, Language: *lang, Name: *name}}})
	}

	lines := make(chan string)
	go func() {
		defer close(lines)
		in := bufio.NewScanner(stdin)
		for in.Scan() {
			select {
			case lines <- in.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-s.done:
			return s.endErr
		case <-ctx.Done():
			return ctx.Err()
		case line, ok := <-lines:
			if !ok || strings.TrimSpace(line) == "/quit" {
				return s.finish()
			}
			s.input(ctx, strings.TrimSpace(line))
		}
	}
}

// finish waits a little for the lines not yet stored (stdin may end right
// after the last one) and says which were not, rather than losing them
// silently.
func (s *chatSession) finish() error {
	for deadline := time.Now().Add(5 * time.Second); s.unsent() > 0 && time.Now().Before(deadline); {
		select {
		case <-s.done:
			deadline = time.Now()
		case <-time.After(20 * time.Millisecond):
		}
	}
	if n := s.unsent(); n > 0 {
		return fmt.Errorf("%d line(s) typed were not confirmed by the broker before the client stopped", n)
	}
	return nil
}

// input carries out one typed line.
func (s *chatSession) input(ctx context.Context, line string) {
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch {
	case line == "":
	case cmd == "/help":
		if s.agent {
			s.printf(agentHelp)
		} else {
			s.printf(visitorHelp)
		}
	case cmd == "/close":
		if id := s.needChat(); id != "" {
			s.command(ctx, "/close", &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: id}}})
		}
	case !strings.HasPrefix(line, "/"):
		if id := s.needChat(); id != "" {
			s.say(ctx, id, line, false)
		}
	case s.agent && s.agentCommand(ctx, cmd, arg):
	default:
		s.printf("! unknown command %s: /help lists the commands\n", cmd)
	}
}

const visitorHelp = `Type a line and press Enter to send it to the agent.
  /close   end the chat
  /quit    leave (the chat goes on without you until it closes)
  /help    this list
`

const agentHelp = `Lines you type go to the current chat (each line shown is marked [visitor/id seq]).
  /chats               your open chats; * marks the current one
  /chat ID             write to another chat: ID is the id, its last 5 characters
                       (as shown in brackets), a prefix of it, or the visitor's name
  /accept, /decline    answer the last offer (or /accept ID)
  /close               close the current chat
  /targets             departments and colleagues to transfer to
  /transfer AGENT, /transfer @DEPARTMENT   hand the current chat on
  /invite AGENT        invite a colleague into the current chat
  /join ID, /watch ID  join a chat visibly, or watch it invisibly
  /whisper TEXT        a line only staff in the current chat see
  /leave               leave the current chat (a guest or watcher)
  /takeover ID         take a chat over from its agent
  /monitor DEPT...     watch departments live (/monitor alone stops)
  /online DEPT, /offline DEPT   open or close a department's queue
  /quit, /help
`

// agentCommand carries out an agent's command; it reports whether cmd
// was one.
func (s *chatSession) agentCommand(ctx context.Context, cmd, arg string) bool {
	var env *messages.Envelope
	switch cmd {
	case "/chats":
		s.listChats()
		return true
	case "/chat":
		if arg == "" {
			s.listChats()
		} else if id := s.findChat(arg); id != "" {
			s.setCurrent(id)
		}
		return true
	case "/accept", "/decline":
		id := arg
		if id == "" {
			id = s.lastOffer()
		}
		if cmd == "/accept" {
			s.follow(id)
			env = &messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: id}}}
		} else {
			env = &messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: id}}}
		}
	case "/whisper":
		if id := s.needChat(); id != "" && arg != "" {
			s.say(ctx, id, arg, true)
		}
		return true
	case "/targets":
		env = &messages.Envelope{Body: &messages.Envelope_ListTransferTargets{ListTransferTargets: &messages.ListTransferTargets{}}}
	case "/transfer":
		t := &messages.TransferChat{ChatId: s.chat(), ToAgent: arg}
		if d, ok := strings.CutPrefix(arg, "@"); ok {
			t.ToAgent, t.ToDepartment = "", d
		}
		env = &messages.Envelope{Body: &messages.Envelope_TransferChat{TransferChat: t}}
	case "/invite":
		env = &messages.Envelope{Body: &messages.Envelope_InviteAgent{InviteAgent: &messages.InviteAgent{ChatId: s.chat(), AgentId: arg}}}
	case "/join", "/watch":
		s.follow(arg)
		env = &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: arg, Invisible: cmd == "/watch"}}}
	case "/leave":
		env = &messages.Envelope{Body: &messages.Envelope_LeaveChat{LeaveChat: &messages.LeaveChat{ChatId: s.chat()}}}
	case "/takeover":
		s.follow(arg)
		env = &messages.Envelope{Body: &messages.Envelope_TakeOver{TakeOver: &messages.TakeOver{ChatId: arg}}}
	case "/monitor":
		env = &messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: strings.Fields(arg)}}}
	case "/online", "/offline":
		env = &messages.Envelope{Body: &messages.Envelope_SetQueueOnline{SetQueueOnline: &messages.SetQueueOnline{Department: arg, Online: cmd == "/online"}}}
	default:
		return false
	}
	s.command(ctx, cmd, env)
	return true
}

// splitAddrs reads -addr: one broker address or several separated by
// commas; an empty one (",," or a trailing comma) is a mistake, said so.
func splitAddrs(list string) ([]string, error) {
	addrs := strings.Split(list, ",")
	for i, a := range addrs {
		addrs[i] = strings.TrimSpace(a)
		if addrs[i] == "" {
			return nil, fmt.Errorf("-addr %q: an empty address in the list", list)
		}
	}
	return addrs, nil
}

type chatSession struct {
	addrs           []string // the brokers, in the order -addr gives them
	at              int      // addrs[at] is the last one dialled (start and run only)
	out             io.Writer
	agent, auto     bool
	login, password string
	runID           string // starts every client_msg_id this run sends

	outMu sync.Mutex // serialises writes to out

	mu           sync.Mutex
	c            *gateway.Client // nil while disconnected
	me           string          // the agent's id
	resumeToken  string
	sessionToken string
	chats        map[string]*chatInfo // the open chats this session is in
	cursors      map[string]uint64    // chat -> the last seq shown
	current      string               // where typed lines go
	followID     string               // a chat the agent asked for: current once it is theirs
	offer        string
	outbox       []*outgoing          // lines not yet stored, in the order typed
	sent         map[uint64]*outgoing // ref -> line, on the current connection
	n            int
	welcomedOnce bool
	endErr       error
	done         chan struct{} // closed when run ends
}

// chatInfo is what the client knows of one chat.
type chatInfo struct {
	id, visitor, department string
}

func newChatSession(addrs []string, out io.Writer, agent bool) *chatSession {
	var b [4]byte
	rand.Read(b[:])
	return &chatSession{addrs: addrs, out: out, agent: agent, runID: "cli-" + hex.EncodeToString(b[:]),
		chats: map[string]*chatInfo{}, cursors: map[string]uint64{}, sent: map[uint64]*outgoing{}, done: make(chan struct{})}
}

// printf prints a line; every string argument (names, texts, reasons: all
// of it from the broker, some of it typed by a visitor) goes through
// clean first.
func (s *chatSession) printf(format string, args ...any) {
	for i, a := range args {
		if str, ok := a.(string); ok {
			args[i] = clean(str)
		}
	}
	s.outMu.Lock()
	defer s.outMu.Unlock()
	fmt.Fprintf(s.out, format, args...)
}

func (s *chatSession) chat() string      { s.mu.Lock(); defer s.mu.Unlock(); return s.current }
func (s *chatSession) lastOffer() string { s.mu.Lock(); defer s.mu.Unlock(); return s.offer }
func (s *chatSession) follow(id string)  { s.mu.Lock(); defer s.mu.Unlock(); s.followID = id }

// needChat returns the current chat, or says there is none and returns "".
func (s *chatSession) needChat() string {
	if id := s.chat(); id != "" {
		return id
	}
	if s.agent {
		s.printf("! no current chat: choose one with /chat ID (/chats lists them); the line was not sent\n")
	} else {
		s.printf("! you are not in a chat now; the line was not sent\n")
	}
	return ""
}

// setCurrent makes id the chat typed lines go to, and says so.
func (s *chatSession) setCurrent(id string) {
	s.mu.Lock()
	s.current = id
	label, about := s.labelOf(id), s.about(id)
	s.mu.Unlock()
	s.printf("(your lines now go to chat %s: %s)\n", label, about)
}

// about describes a chat in a few words. s.mu is held.
func (s *chatSession) about(id string) string {
	ch := s.chats[id]
	if ch == nil {
		return id
	}
	return fmt.Sprintf("%s in %s, %s", ch.visitor, ch.department, ch.id)
}

// listChats prints the agent's open chats, the current one marked.
func (s *chatSession) listChats() {
	s.mu.Lock()
	var rows []string
	for id := range s.chats {
		mark := " "
		if id == s.current {
			mark = "*"
		}
		rows = append(rows, fmt.Sprintf("%s %s  %s", mark, s.labelOf(id), s.about(id)))
	}
	s.mu.Unlock()
	sort.Strings(rows)
	if len(rows) == 0 {
		s.printf("(no open chats)\n")
	}
	for _, r := range rows {
		s.printf("%s\n", r)
	}
}

// findChat resolves what the agent typed after /chat to one open chat:
// its id, its short id or label as shown, a prefix of the id, or the
// visitor's name. It says why when none or several match.
func (s *chatSession) findChat(q string) string {
	s.mu.Lock()
	var hits []string
	for id, ch := range s.chats {
		if id == q || strings.EqualFold(s.labelOf(id), q) || strings.EqualFold(ch.visitor, q) ||
			len(q) >= 3 && (strings.HasPrefix(id, q) || strings.HasSuffix(id, q)) {
			hits = append(hits, id)
		}
	}
	var labels []string
	for _, id := range hits {
		labels = append(labels, s.labelOf(id))
	}
	s.mu.Unlock()
	switch {
	case len(hits) == 1:
		return hits[0]
	case len(hits) > 1:
		sort.Strings(labels)
		s.printf("! %s matches several chats (%s): give more of the id\n", q, strings.Join(labels, ", "))
	case actors.ValidID(q):
		return q // a chat this client has not heard of yet: the broker decides
	default:
		s.printf("! no open chat matches %s (/chats lists them)\n", q)
	}
	return ""
}

// welcomed takes in a welcome: the tokens to come back with, the chats
// open now (a chat that ended while the client was away is said to have
// ended), the current chat and the pending offers.
func (s *chatSession) welcomed(w *messages.Welcome) {
	s.mu.Lock()
	if t := w.GetResumeToken(); t != "" {
		s.resumeToken = t
	}
	if t := w.GetSessionToken(); t != "" {
		s.sessionToken = t
	}
	if id := w.GetAgentId(); id != "" {
		s.me = id
	}
	open := map[string]bool{}
	for _, sum := range w.GetChats() {
		open[sum.GetChatId()] = true
		s.note(sum)
	}
	var gone []string
	for id := range s.chats {
		if !open[id] {
			gone = append(gone, s.labelOf(id))
			s.drop(id)
		}
	}
	first := !s.welcomedOnce
	s.welcomedOnce = true
	if first || !s.agent {
		for _, sum := range w.GetChats() {
			s.current = sum.GetChatId()
		}
	}
	current := s.current
	s.mu.Unlock()
	for _, l := range gone {
		s.printf("* chat %s ended while you were disconnected\n", l)
	}
	if s.agent && first && current != "" {
		s.listChats()
		s.setCurrent(current)
	}
}

// note records what a summary says of a chat. s.mu is held.
func (s *chatSession) note(sum *messages.ChatSummary) *chatInfo {
	ch := s.chats[sum.GetChatId()]
	if ch == nil {
		ch = &chatInfo{id: sum.GetChatId()}
		s.chats[ch.id] = ch
	}
	if n := sum.GetVisitorName(); n != "" {
		ch.visitor = n
	}
	if d := sum.GetDepartment(); d != "" {
		ch.department = d
	}
	return ch
}

// drop forgets a chat that ended or is no longer the session's; it
// reports whether it was the current one (which then is none). s.mu is
// held.
func (s *chatSession) drop(id string) bool {
	delete(s.chats, id)
	delete(s.cursors, id)
	if s.current != id {
		return false
	}
	s.current = ""
	return true
}

// mine reports whether the summary has the agent in the chat.
func (s *chatSession) mine(sum *messages.ChatSummary) bool {
	if sum.GetState() == messages.ChatState_CHAT_STATE_CLOSED {
		return false
	}
	if !s.agent || sum.GetAgentId() == s.me {
		return true
	}
	for _, p := range append(append([]*messages.Participant{}, sum.GetGuests()...), sum.GetWatchers()...) {
		if p.GetId() == s.me {
			return true
		}
	}
	return false
}

// summary takes in a chat summary: a chat that became the session's, one
// that ended, or one that left the agent (taken over, transferred).
func (s *chatSession) summary(sum *messages.ChatSummary) {
	id := sum.GetChatId()
	s.mu.Lock()
	_, had := s.chats[id]
	label := s.labelOf(id)
	if !s.mine(sum) {
		wasCurrent := s.drop(id)
		s.mu.Unlock()
		if !had {
			return
		}
		why := "you are no longer in it"
		switch {
		case sum.GetState() == messages.ChatState_CHAT_STATE_CLOSED:
			why = "it has ended"
		case sum.GetAgentName() != "":
			why += " (" + sum.GetAgentName() + " has it now)"
		case sum.GetState() == messages.ChatState_CHAT_STATE_QUEUED:
			why += " (it waits in " + sum.GetDepartment() + ")"
		}
		if s.agent {
			s.printf("* chat %s: %s\n", label, why)
		} else {
			s.printf("* the chat has ended\n")
		}
		if wasCurrent {
			s.noCurrent()
		}
		return
	}
	// A chat becomes the current one when the agent asked for it (accept,
	// join, take over) or had none open; else they are told and choose.
	switchTo := s.followID == id || !s.agent || len(s.chats) == 0
	s.note(sum)
	label = s.labelOf(id)
	if s.followID == id {
		s.followID = ""
	}
	s.mu.Unlock()
	switch {
	case had:
	case switchTo && s.agent:
		s.setCurrent(id)
	case switchTo:
		s.mu.Lock()
		s.current = id
		s.mu.Unlock()
	default:
		s.printf("* chat %s is yours too (%s): /chat %s to write there\n", label, sum.GetVisitorName(), shortID(id))
	}
}

// noCurrent says that typed lines go nowhere now.
func (s *chatSession) noCurrent() {
	if !s.agent {
		s.printf("(the chat has ended; lines you type are not sent. /quit to leave)\n")
		return
	}
	s.printf("(no current chat now: lines you type are not sent until you choose one with /chat ID; /chats lists them)\n")
}

// offered records and prints an offer, and accepts it with -auto.
func (s *chatSession) offered(ctx context.Context, o *messages.Offer) {
	s.mu.Lock()
	s.offer = o.GetChatId()
	s.mu.Unlock()
	s.printf("* offer: chat %s from %s in %s (%s). /accept or /decline\n", o.GetChatId(), o.GetVisitorName(), o.GetDepartment(), o.GetLanguage())
	if s.auto {
		s.command(ctx, "/accept", &messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: o.GetChatId()}}})
	}
}

// shortID is the part of a chat id shown in labels: its last 5
// characters, from the random part (the first ones are a time stamp,
// shared by chats made together).
func shortID(id string) string {
	if len(id) <= 5 {
		return id
	}
	return id[len(id)-5:]
}
