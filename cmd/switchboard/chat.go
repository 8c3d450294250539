package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// runChat is the terminal client: play a visitor or an agent against a
// running broker. Lines typed are messages; lines starting with / are
// commands (/help lists them).
func runChat(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("switchboard chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	as := fs.String("as", "visitor", "visitor or agent")
	addr := fs.String("addr", env("SWITCHBOARD_ADDR", "127.0.0.1:8080"), "broker address")
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
	c, err := gateway.Dial(ctx, "ws://"+*addr+"/ws/"+*as, gateway.ClientOptions{JSON: true})
	if err != nil {
		return err
	}
	defer c.Close()
	s := &chatSession{c: c, out: stdout, agent: *as == "agent", auto: *auto}
	hello := &messages.Hello{}
	if s.agent {
		hello.Login, hello.Password = *login, *password
	}
	w, err := c.Hello(ctx, hello)
	if err != nil {
		return err
	}
	for _, ch := range w.GetChats() {
		s.current = ch.GetChatId()
	}
	go s.show(ctx)
	if s.agent {
		s.printf("Logged in as %s. You are available; offers appear here (/accept, or start with -auto).\n", w.GetDisplayName())
		s.send(ctx, &messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}})
	} else if s.current == "" {
		s.printf("Asking %s for a chat in %s...\n", *dept, *lang)
		s.send(ctx, &messages.Envelope{Body: &messages.Envelope_RequestChat{RequestChat: &messages.RequestChat{Department: *dept, Language: *lang, Name: *name}}})
	}
	in := bufio.NewScanner(stdin)
	n := 0
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		switch {
		case line == "":
		case line == "/quit":
			return nil
		case line == "/help":
			s.printf("/accept, /decline (agent), /chat ID (switch chat), /close, /quit; anything else is a message\n" +
				"agents: /targets, /transfer AGENT or /transfer @DEPARTMENT, /invite AGENT, /join ID, /watch ID (invisibly),\n" +
				"        /whisper TEXT, /leave, /takeover ID, /monitor DEPARTMENT, /online DEPARTMENT, /offline DEPARTMENT\n")
		case line == "/accept" || line == "/decline":
			id := s.lastOffer()
			if line == "/accept" {
				s.send(ctx, &messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: id}}})
			} else {
				s.send(ctx, &messages.Envelope{Body: &messages.Envelope_DeclineOffer{DeclineOffer: &messages.DeclineOffer{ChatId: id}}})
			}
		case strings.HasPrefix(line, "/chat "):
			s.setCurrent(strings.TrimSpace(strings.TrimPrefix(line, "/chat ")))
		case s.agent && strings.HasPrefix(line, "/") && s.together(ctx, line):
		case line == "/close":
			s.send(ctx, &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: s.chat()}}})
		default:
			n++
			s.send(ctx, &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{
				ChatId: s.chat(), ClientMsgId: fmt.Sprintf("cli-%d", n), Text: line}}})
		}
	}
	return in.Err()
}

// together sends the agent's working-together commands; it reports
// whether line was one.
func (s *chatSession) together(ctx context.Context, line string) bool {
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	var env *messages.Envelope
	switch cmd {
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
		env = &messages.Envelope{Body: &messages.Envelope_JoinChat{JoinChat: &messages.JoinChat{ChatId: arg, Invisible: cmd == "/watch"}}}
	case "/whisper":
		env = &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: s.chat(), Text: arg, Whisper: true}}}
	case "/leave":
		env = &messages.Envelope{Body: &messages.Envelope_LeaveChat{LeaveChat: &messages.LeaveChat{ChatId: s.chat()}}}
	case "/takeover":
		env = &messages.Envelope{Body: &messages.Envelope_TakeOver{TakeOver: &messages.TakeOver{ChatId: arg}}}
	case "/monitor":
		env = &messages.Envelope{Body: &messages.Envelope_Monitor{Monitor: &messages.Monitor{Departments: strings.Fields(arg)}}}
	case "/online", "/offline":
		env = &messages.Envelope{Body: &messages.Envelope_SetQueueOnline{SetQueueOnline: &messages.SetQueueOnline{Department: arg, Online: cmd == "/online"}}}
	default:
		return false
	}
	s.send(ctx, env)
	return true
}

type chatSession struct {
	c     *gateway.Client
	out   io.Writer
	agent bool
	auto  bool

	mu      sync.Mutex
	current string
	offer   string
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
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.out, format, args...)
}

func (s *chatSession) chat() string      { s.mu.Lock(); defer s.mu.Unlock(); return s.current }
func (s *chatSession) lastOffer() string { s.mu.Lock(); defer s.mu.Unlock(); return s.offer }
func (s *chatSession) setCurrent(id string) {
	s.mu.Lock()
	s.current = id
	s.mu.Unlock()
	s.printf("(now talking in chat %s)\n", id)
}

func (s *chatSession) send(ctx context.Context, env *messages.Envelope) {
	if _, err := s.c.Send(ctx, env); err != nil {
		s.printf("! %v\n", err)
	}
}

// show prints what the broker sends until the socket closes.
func (s *chatSession) show(ctx context.Context) {
	for {
		env, err := s.c.Recv(ctx)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				s.printf("! connection ended: %v\n", err)
			}
			return
		}
		switch b := env.GetBody().(type) {
		case *messages.Envelope_Error:
			s.printf("! %s: %s\n", b.Error.GetCode(), b.Error.GetMessage())
		case *messages.Envelope_ChatRefused:
			s.printf("! refused (%s): %s\n", b.ChatRefused.GetReason(), b.ChatRefused.GetMessage())
		case *messages.Envelope_QueueUpdate:
			s.printf("… you are number %d in the queue\n", b.QueueUpdate.GetPosition())
		case *messages.Envelope_Offer:
			s.mu.Lock()
			s.offer = b.Offer.GetChatId()
			s.mu.Unlock()
			s.printf("* offer: chat %s from %s in %s (%s). /accept or /decline\n", b.Offer.GetChatId(), b.Offer.GetVisitorName(), b.Offer.GetDepartment(), b.Offer.GetLanguage())
			if s.auto {
				s.send(ctx, &messages.Envelope{Body: &messages.Envelope_AcceptOffer{AcceptOffer: &messages.AcceptOffer{ChatId: b.Offer.GetChatId()}}})
			}
		case *messages.Envelope_OfferWithdrawn:
			s.printf("* offer for %s withdrawn: %s\n", b.OfferWithdrawn.GetChatId(), b.OfferWithdrawn.GetReason())
		case *messages.Envelope_Chat:
			ch := b.Chat
			if ch.GetState() == messages.ChatState_CHAT_STATE_CLOSED {
				s.printf("* chat %s closed\n", ch.GetChatId())
			} else if s.chat() != ch.GetChatId() {
				s.setCurrent(ch.GetChatId())
			}
		case *messages.Envelope_Event:
			s.printEvent(b.Event)
		case *messages.Envelope_Invitation:
			inv := b.Invitation
			s.printf("* %s invites you to chat %s (%s, %s): /join %s\n", inv.GetBy().GetDisplayName(), inv.GetChatId(), inv.GetVisitorName(), inv.GetDepartment(), inv.GetChatId())
		case *messages.Envelope_QueueState:
			s.printf("* the %s queue is now %s (by %s)\n", b.QueueState.GetDepartment(), map[bool]string{true: "online", false: "offline"}[b.QueueState.GetOnline()], b.QueueState.GetBy())
		case *messages.Envelope_AgentState:
			if r := b.AgentState.GetReason(); r != "" {
				s.printf("* %s\n", r)
			}
		case *messages.Envelope_TransferTargets:
			for _, d := range b.TransferTargets.GetDepartments() {
				s.printDepartment(d)
			}
		case *messages.Envelope_DepartmentView:
			s.printDepartment(b.DepartmentView)
		case *messages.Envelope_TypingNotice:
			if b.TypingNotice.GetTyping() {
				s.printf("  (%s is typing)\n", b.TypingNotice.GetFrom().GetDisplayName())
			}
		}
	}
}

func (s *chatSession) printEvent(ev *messages.ChatEvent) {
	switch k := ev.GetKind().(type) {
	case *messages.ChatEvent_Created:
		s.printf("[%d] chat %s started in %s\n", ev.GetSeq(), ev.GetChatId(), k.Created.GetDepartment())
	case *messages.ChatEvent_Message:
		who, whisper := "", ""
		if k.Message.GetFrom().GetKind() == messages.ParticipantKind_PARTICIPANT_KIND_VISITOR {
			who = visitorMark
		}
		if ev.GetInternal() {
			whisper = " (whisper)"
		}
		s.printf("[%d] %s%s%s: %s\n", ev.GetSeq(), who, k.Message.GetFrom().GetDisplayName(), whisper, k.Message.GetText())
	case *messages.ChatEvent_Assigned:
		s.printf("[%d] %s joined the chat\n", ev.GetSeq(), k.Assigned.GetAgentName())
	case *messages.ChatEvent_Transferred:
		to := k.Transferred.GetToAgentName()
		if to == "" {
			to = k.Transferred.GetToDepartment()
		}
		s.printf("[%d] transferred to %s\n", ev.GetSeq(), to)
	case *messages.ChatEvent_Member:
		m := k.Member
		how := strings.ToLower(strings.TrimPrefix(m.GetAction().String(), "MEMBER_ACTION_"))
		if m.GetInvisible() {
			how += " (invisibly)"
		}
		s.printf("[%d] %s %s\n", ev.GetSeq(), m.GetWho().GetDisplayName(), how)
	case *messages.ChatEvent_Closed:
		s.printf("[%d] chat closed by %s\n", ev.GetSeq(), k.Closed.GetBy().GetDisplayName())
	}
}

// printDepartment prints a department's view: its line, chats and agents.
func (s *chatSession) printDepartment(d *messages.DepartmentView) {
	s.printf("# %s (%s): %d waiting\n", d.GetName(), map[bool]string{true: "online", false: "offline"}[d.GetOnline()], d.GetWaitingCount())
	for _, c := range d.GetWaiting() {
		s.printf("#   waiting %s %s for %ds\n", c.GetChatId(), c.GetVisitorName(), (d.GetAtMs()-c.GetCreatedAtMs())/1000)
	}
	for _, c := range d.GetActive() {
		s.printf("#   chat %s %s with %s\n", c.GetChatId(), c.GetVisitorName(), c.GetAgentName())
	}
	for _, a := range d.GetAgents() {
		s.printf("#   agent %s %s %d/%d\n", a.GetAgentId(), strings.ToLower(strings.TrimPrefix(a.GetStatus().String(), "AGENT_STATUS_")), a.GetLoad(), a.GetMaxChats())
	}
}
