package actors

import (
	"fmt"
	"strings"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/switchboard-chat/switchboard/messages"
)

// directory is the single writer of the directory ("directory/main"):
// departments, languages and staff accounts. It validates each change
// against its in-memory copy (so two changes in flight cannot both pass a
// uniqueness check), stores it, answers once it is durable, and then tells
// the running actors to reload.
//
// Each kind of admin command has its handler, in a file by concern
// (directory_departments.go, directory_site.go, directory_roles.go,
// directory_agents.go): it validates, applies the change to the copy and
// returns the change to store, or a refusal.
type directory struct {
	b      *Broker
	self   *actor.PID
	deps   map[string]*messages.Department
	langs  map[string]*messages.Language
	agents map[string]*messages.Agent
	logins map[string]string         // strings.ToLower(login) -> agent id, as persistence keys it
	roles  map[string]*messages.Role // custom roles
	signIn *messages.SignInSettings
	// canned: the shortcuts of each scope's canned replies
	// ("dep/<id>", "agent/<id>").
	canned map[string]map[string]bool
	// liveChats: the stored live chats ("main" only once stored).
	liveChats map[string]*messages.LiveChat
	// channels: every channel, secrets included (directory_channels.go).
	channels map[string]*messages.Channel
	token    uint64
	waiting  map[uint64]*adminWait
}

type adminWait struct {
	reply  *actor.PID
	notify []Name // told DirectoryChanged once stored
}

// change is an admin command that passed and is applied to the
// directory's copy: the write that stores it, and the actors to tell once
// it is stored.
type change struct {
	write  func(done func(error))
	notify []Name
}

// refuse is a typed refusal about field (the JSON name of the field it is
// about, "" when none): forms show it next to the field.
func refuse(field string, code messages.ErrorCode, format string, args ...any) *messages.Error {
	return messages.FieldErrorf(code, field, format, args...)
}

func (d *directory) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		d.self = ctx.Self()
		d.waiting = map[uint64]*adminWait{}
		d.reload(ctx)
	case *actor.Stopping, *actor.Stopped, *actor.Restarting:
	case *messages.AdminCommand:
		d.command(ctx, m)
	case *messages.Persisted:
		d.persisted(ctx, m)
	default:
		ctx.Logger().Warn("directory: unexpected message", "type", fmt.Sprintf("%T", m))
	}
}

func (d *directory) reload(ctx actor.Context) {
	d.deps, d.langs, d.agents, d.logins = map[string]*messages.Department{}, map[string]*messages.Language{}, map[string]*messages.Agent{}, map[string]string{}
	d.roles = map[string]*messages.Role{}
	deps, err1 := d.b.store.Departments()
	langs, err2 := d.b.store.Languages()
	agents, err3 := d.b.store.Agents()
	roles, err4 := d.b.store.Roles()
	for _, x := range roles {
		d.roles[x.GetId()] = x
	}
	var err5 error
	d.signIn, err5 = d.b.store.SignIn()
	err6 := d.loadCanned()
	lcs, err7 := d.b.store.LiveChats()
	d.liveChats = map[string]*messages.LiveChat{}
	for _, x := range lcs {
		d.liveChats[x.GetId()] = x
	}
	d.channels = map[string]*messages.Channel{}
	chs, err8 := d.b.store.Channels()
	for _, x := range chs {
		d.channels[x.GetId()] = x
	}
	for _, err := range []error{err1, err2, err3, err4, err5, err6, err7, err8} {
		if err != nil {
			panic(fmt.Errorf("directory: load: %w", err)) // the supervisor restarts us
		}
	}
	for _, x := range deps {
		d.deps[x.GetId()] = x
	}
	for _, x := range langs {
		d.langs[x.GetCode()] = x
	}
	for _, x := range agents {
		d.agents[x.GetId()] = x
		d.logins[strings.ToLower(x.GetLogin())] = x.GetId()
	}
}

// command validates and applies one admin command, and stores it; the
// answer waits for the write (persisted).
func (d *directory) command(ctx actor.Context, m *messages.AdminCommand) {
	if e := d.rankCheck(m); e != nil {
		ctx.Respond(&messages.AdminReply{Error: e})
		return
	}
	d.token++
	c, e := d.apply(m)
	switch {
	case e != nil:
		ctx.Respond(&messages.AdminReply{Error: e})
	case c == nil: // nothing to change
		ctx.Respond(&messages.AdminReply{})
	default:
		d.waiting[d.token] = &adminWait{reply: ctx.Sender(), notify: c.notify}
		c.write(d.b.notifier(d.self, d.token))
	}
}

// apply hands a command to the handler of its kind.
func (d *directory) apply(m *messages.AdminCommand) (*change, *messages.Error) {
	if c, e, ok := d.applyChannel(m); ok {
		return c, e
	}
	switch body := m.GetBody().(type) {
	case *messages.AdminCommand_PutDepartment:
		return d.putDepartment(body.PutDepartment)
	case *messages.AdminCommand_DeleteDepartment:
		return d.deleteDepartment(body.DeleteDepartment)
	case *messages.AdminCommand_SetQueueOnline:
		return d.setQueueOnline(body.SetQueueOnline)
	case *messages.AdminCommand_PutLanguage:
		return d.putLanguage(body.PutLanguage)
	case *messages.AdminCommand_DeleteLanguage:
		return d.deleteLanguage(body.DeleteLanguage)
	case *messages.AdminCommand_PutSettings:
		return d.putSettings(body.PutSettings)
	case *messages.AdminCommand_PutRole:
		return d.putRole(body.PutRole)
	case *messages.AdminCommand_DeleteRole:
		return d.deleteRole(body.DeleteRole)
	case *messages.AdminCommand_TransferOwner:
		return d.transferOwner(body.TransferOwner)
	case *messages.AdminCommand_PutAgent:
		return d.putAgent(body.PutAgent)
	case *messages.AdminCommand_SetDisplayName:
		return d.setDisplayName(body.SetDisplayName)
	case *messages.AdminCommand_DeleteAgent:
		return d.deleteAgent(body.DeleteAgent)
	case *messages.AdminCommand_PutSignIn:
		return d.putSignIn(body.PutSignIn)
	case *messages.AdminCommand_ExternalAccount:
		return d.externalAccount(body.ExternalAccount)
	case *messages.AdminCommand_PutCanned:
		return d.putCanned(body.PutCanned)
	case *messages.AdminCommand_DeleteCanned:
		return d.deleteCanned(body.DeleteCanned)
	case *messages.AdminCommand_PutEmail:
		return d.putEmail(body.PutEmail)
	}
	return nil, refuse("", codeInvalid, "empty admin command")
}

// applyChannel hands on the commands for the ways visitors reach us: live
// chats and channels. ok is false for any other command.
func (d *directory) applyChannel(m *messages.AdminCommand) (c *change, e *messages.Error, ok bool) {
	switch body := m.GetBody().(type) {
	case *messages.AdminCommand_PutLiveChat:
		c, e = d.putLiveChat(body.PutLiveChat)
	case *messages.AdminCommand_DeleteLiveChat:
		c, e = d.deleteLiveChat(body.DeleteLiveChat)
	case *messages.AdminCommand_PutChannel:
		c, e = d.putChannel(body.PutChannel, m.GetCreateOnly())
	case *messages.AdminCommand_DeleteChannel:
		c, e = d.deleteChannel(body.DeleteChannel)
	default:
		return nil, nil, false
	}
	return c, e, true
}

// persisted answers the command whose write is done, and tells the actors
// that follow what it changed.
func (d *directory) persisted(ctx actor.Context, m *messages.Persisted) {
	w := d.waiting[m.GetToken()]
	delete(d.waiting, m.GetToken())
	if w == nil {
		return
	}
	if m.GetError() != nil {
		d.reload(ctx) // memory is ahead of the store: start again from it
		ctx.Send(w.reply, &messages.AdminReply{Error: m.GetError()})
		return
	}
	ctx.Send(w.reply, &messages.AdminReply{})
	for _, n := range w.notify {
		ctx.Send(d.b.pidOf(n), &messages.DirectoryChanged{})
	}
}

// nested names the field of an error from ValidateAccess as the record
// spells it: prefix plus the rules' field, with login_hours called windows
// when the record names its windows otherwise (business_hours, shifts).
func nested(e *messages.Error, prefix, windows string) string {
	f := e.GetField()
	if f == "login_hours" && windows != "" {
		f = windows
	}
	return prefix + f
}
