package actors

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

var languageCode = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)

// directory is the single writer of the directory ("directory/main"):
// departments, languages and staff accounts. It validates each change
// against its in-memory copy (so two changes in flight cannot both pass a
// uniqueness check), stores it, answers once it is durable, and then tells
// the running actors to reload.
type directory struct {
	b       *Broker
	self    *actor.PID
	deps    map[string]*messages.Department
	langs   map[string]*messages.Language
	agents  map[string]*messages.Agent
	logins  map[string]string         // strings.ToLower(login) -> agent id, as persistence keys it
	roles   map[string]*messages.Role // custom roles
	token   uint64
	waiting map[uint64]*adminWait
}

type adminWait struct {
	reply  *actor.PID
	notify []string // "<kind>/<id>" to tell DirectoryChanged once stored
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
		for _, name := range w.notify {
			ctx.Send(d.b.pidByName(name), &messages.DirectoryChanged{})
		}
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
	for _, err := range []error{err1, err2, err3, err4} {
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

func (d *directory) command(ctx actor.Context, m *messages.AdminCommand) {
	reply := ctx.Sender()
	// refuse answers a typed error about field (the JSON name of the
	// field it is about, "" when none): forms show it next to the field.
	refuse := func(field string, code messages.ErrorCode, format string, args ...any) {
		ctx.Respond(&messages.AdminReply{Error: messages.FieldErrorf(code, field, format, args...)})
	}
	if e := d.rankCheck(m); e != nil {
		ctx.Respond(&messages.AdminReply{Error: e})
		return
	}
	d.token++
	w := &adminWait{reply: reply}
	done := d.b.notifier(d.self, d.token)
	switch body := m.GetBody().(type) {
	case *messages.AdminCommand_PutDepartment:
		x := body.PutDepartment
		if !ValidName(x.GetId()) {
			refuse("id", codeInvalid, "department id must be 1-64 of a-z 0-9 - _ .")
			return
		}
		if _, ok := messages.RoutingPolicy_name[int32(x.GetPolicy())]; !ok {
			refuse("policy", codeInvalid, "unknown routing policy %d", x.GetPolicy())
			return
		}
		if x.GetQueueLimit() > 100000 {
			refuse("queue_limit", codeInvalid, "queue_limit is at most 100000")
			return
		}
		if x.GetOfferTimeoutMs() > 3600000 {
			refuse("offer_timeout_ms", codeInvalid, "offer_timeout_ms is at most 3600000")
			return
		}
		if e := ValidateAccess(&messages.AccessRules{LoginHours: x.GetBusinessHours(), TimeZone: x.GetTimeZone()}); e != nil {
			refuse(nested(e, "", "business_hours"), codeInvalid, "business hours: %s", e.GetMessage())
			return
		}
		if e := CheckLook(x.GetLook()); e != nil {
			ctx.Respond(&messages.AdminReply{Error: e})
			return
		}
		for _, f := range []struct {
			name string
			ids  []string
		}{{"supervisors", x.GetSupervisors()}, {"managers", x.GetManagers()}} {
			for _, id := range f.ids {
				if d.agents[id] == nil {
					refuse(f.name, codeInvalid, "no agent %q (supervisors and managers are staff ids)", id)
					return
				}
			}
		}
		if x.GetName() == "" {
			x.Name = x.GetId()
		}
		d.deps[x.GetId()] = x
		w.notify = []string{KindGroup + "/" + x.GetId(), KindQueue + "/" + x.GetId()}
		d.waiting[d.token] = w
		d.b.store.PutDepartment(x, done)
	case *messages.AdminCommand_DeleteDepartment:
		id := body.DeleteDepartment
		if d.deps[id] == nil {
			refuse("", codeNotFound, "no department %q", id)
			return
		}
		for _, a := range d.agents {
			if slices.Contains(a.GetDepartments(), id) {
				refuse("", codeConflict, "department %q still has members (%s); remove them first", id, a.GetId())
				return
			}
		}
		delete(d.deps, id)
		w.notify = []string{KindGroup + "/" + id, KindQueue + "/" + id}
		d.waiting[d.token] = w
		d.b.store.DeleteDepartment(id, done)
	case *messages.AdminCommand_PutLanguage:
		x := body.PutLanguage
		if !languageCode.MatchString(x.GetCode()) {
			refuse("code", codeInvalid, "language code must look like en or pt-BR")
			return
		}
		if x.GetName() == "" {
			x.Name = x.GetCode()
		}
		d.langs[x.GetCode()] = x
		d.waiting[d.token] = w
		d.b.store.PutLanguage(x, done)
	case *messages.AdminCommand_DeleteLanguage:
		code := body.DeleteLanguage
		if d.langs[code] == nil {
			refuse("", codeNotFound, "no language %q", code)
			return
		}
		delete(d.langs, code)
		d.waiting[d.token] = w
		d.b.store.DeleteLanguage(code, done)
	case *messages.AdminCommand_SetDisplayName:
		x := body.SetDisplayName
		a := d.agents[x.GetAgentId()]
		name := strings.TrimSpace(x.GetDisplayName())
		switch {
		case a == nil:
			refuse("", codeNotFound, "no agent %q", x.GetAgentId())
			return
		case name == "":
			refuse("display_name", codeInvalid, "a display name is 1 to %d bytes of UTF-8", MaxNameBytes)
			return
		}
		if err := CheckText("display_name", name, MaxNameBytes); err != nil {
			refuse("display_name", err.GetCode(), "%s", err.GetMessage())
			return
		}
		next := proto.Clone(a).(*messages.Agent)
		next.DisplayName = name
		d.agents[next.GetId()] = next
		w.notify = []string{KindAgent + "/" + next.GetId()}
		d.waiting[d.token] = w
		d.b.store.PutAgentRecords([]*messages.Agent{next}, done)
	case *messages.AdminCommand_SetQueueOnline:
		x := body.SetQueueOnline
		dep := d.deps[x.GetDepartment()]
		if dep == nil {
			refuse("", codeNotFound, "no department %q", x.GetDepartment())
			return
		}
		if dep.GetChatEnabled() == x.GetOnline() {
			ctx.Respond(&messages.AdminReply{})
			return
		}
		next := proto.Clone(dep).(*messages.Department)
		next.ChatEnabled, next.OnlineChangedBy = x.GetOnline(), x.GetBy()
		d.deps[next.GetId()] = next
		w.notify = []string{KindGroup + "/" + next.GetId(), KindQueue + "/" + next.GetId()}
		d.waiting[d.token] = w
		d.b.store.PutDepartment(next, done)
	case *messages.AdminCommand_PutSettings:
		if bad := invalidOrigin(body.PutSettings.GetWidgetOrigins()); bad != "" {
			refuse("widget_origins", codeInvalid, "widget_origins: %q is not an origin like https://shop.example.com or http://localhost:8081 (at most 64)", bad)
			return
		}
		d.waiting[d.token] = w
		d.b.store.PutSettings(body.PutSettings, done)
	case *messages.AdminCommand_PutRole:
		x := body.PutRole
		switch {
		case !ValidName(x.GetId()):
			refuse("id", codeInvalid, "role id must be 1-64 of a-z 0-9 - _ .")
			return
		case BuiltinRoles[x.GetId()] != nil:
			refuse("", codeConflict, "%q is a built-in role and cannot be changed", x.GetId())
			return
		}
		if bad := validPermissions(x.GetPermissions()); bad != "" {
			refuse("permissions", codeInvalid, "unknown permission %q; permissions are %s", bad, strings.Join(permissionNames(AllPermissions), ", "))
			return
		}
		if e := ValidateAccess(x.GetAccess()); e != nil {
			refuse(nested(e, "access.", ""), codeInvalid, "%s", e.GetMessage())
			return
		}
		x.Permissions = slices.Compact(slices.Sorted(slices.Values(x.GetPermissions())))
		x.Builtin = false
		if x.GetName() == "" {
			x.Name = x.GetId()
		}
		d.roles[x.GetId()] = x
		for _, a := range d.agents {
			if RoleOf(a) == x.GetId() {
				w.notify = append(w.notify, KindAgent+"/"+a.GetId())
			}
		}
		d.waiting[d.token] = w
		d.b.store.PutRole(x, done)
	case *messages.AdminCommand_DeleteRole:
		id := body.DeleteRole
		switch {
		case BuiltinRoles[id] != nil:
			refuse("", codeConflict, "%q is a built-in role and cannot be removed", id)
			return
		case d.roles[id] == nil:
			refuse("", codeNotFound, "no role %q", id)
			return
		}
		for _, a := range d.agents {
			if RoleOf(a) == id {
				refuse("", codeConflict, "role %q is still given to %s; change theirs first", id, a.GetId())
				return
			}
		}
		delete(d.roles, id)
		d.waiting[d.token] = w
		d.b.store.DeleteRole(id, done)
	case *messages.AdminCommand_TransferOwner:
		var owner *messages.Agent
		for _, a := range d.agents {
			if RoleOf(a) == RoleOwner {
				owner = a
			}
		}
		to := d.agents[body.TransferOwner]
		switch {
		case owner == nil:
			refuse("", codeConflict, "there is no owner yet; give one account the owner role")
			return
		case to == nil:
			refuse("", codeNotFound, "no agent %q", body.TransferOwner)
			return
		case to.GetSuspended():
			refuse("", codeConflict, "%s is suspended", to.GetId())
			return
		case to.GetId() == owner.GetId():
			refuse("", codeConflict, "%s is the owner already", to.GetId())
			return
		}
		was, now := proto.Clone(owner).(*messages.Agent), proto.Clone(to).(*messages.Agent)
		was.Role, now.Role = RoleAdministrator, RoleOwner
		d.agents[was.GetId()], d.agents[now.GetId()] = was, now
		w.notify = []string{KindAgent + "/" + was.GetId(), KindAgent + "/" + now.GetId()}
		d.waiting[d.token] = w
		d.b.store.PutAgentRecords([]*messages.Agent{was, now}, done)
	case *messages.AdminCommand_PutAgent:
		d.putAgent(ctx, body.PutAgent, w, done, refuse)
	case *messages.AdminCommand_DeleteAgent:
		a := d.agents[body.DeleteAgent]
		if a == nil {
			refuse("", codeNotFound, "no agent %q", body.DeleteAgent)
			return
		}
		if RoleOf(a) == RoleOwner {
			refuse("", codeConflict, "%s is the owner; the owner hands ownership on first", a.GetId())
			return
		}
		delete(d.agents, a.GetId())
		delete(d.logins, strings.ToLower(a.GetLogin()))
		w.notify = []string{KindAgent + "/" + a.GetId()}
		d.waiting[d.token] = w
		d.b.store.DeleteAgent(a, done)
	default:
		refuse("", codeInvalid, "empty admin command")
	}
}

func (d *directory) putAgent(ctx actor.Context, x *messages.Agent, w *adminWait, done func(error), refuse func(string, messages.ErrorCode, string, ...any)) {
	switch {
	case !ValidName(x.GetId()):
		refuse("id", codeInvalid, "agent id must be 1-64 of a-z 0-9 - _ .")
		return
	case x.GetLogin() == "" || len(x.GetLogin()) > 254:
		refuse("login", codeInvalid, "login is required (at most 254 bytes)")
		return
	case x.GetPasswordHash() == "" && d.agents[x.GetId()] == nil:
		refuse("password", codeInvalid, "password is required")
		return
	case x.GetMaxChats() > 100:
		refuse("max_chats", codeInvalid, "max_chats is at most 100")
		return
	case x.GetAvatarUrl() != "" && (!strings.HasPrefix(x.GetAvatarUrl(), "https://") || len(x.GetAvatarUrl()) > 2048):
		refuse("avatar_url", codeInvalid, "avatar_url must be an https URL of at most 2048 bytes")
		return
	}
	if e := ValidateAccess(x.GetAccess()); e != nil {
		refuse(nested(e, "access.", ""), codeInvalid, "%s", e.GetMessage())
		return
	}
	if e := ValidateAccess(&messages.AccessRules{LoginHours: x.GetSchedule().GetShifts(), TimeZone: x.GetSchedule().GetTimeZone()}); e != nil {
		refuse(nested(e, "schedule.", "shifts"), codeInvalid, "schedule: %s", e.GetMessage())
		return
	}
	role := RoleOf(x)
	if BuiltinRoles[role] == nil && d.roles[role] == nil {
		refuse("role", codeInvalid, "no role %q", role)
		return
	}
	if old := d.agents[x.GetId()]; RoleOf(old) == RoleOwner && role != RoleOwner && old != nil {
		refuse("role", codeConflict, "%s is the owner; the owner hands ownership on (POST /admin/owner)", x.GetId())
		return
	}
	if role == RoleOwner {
		for _, a := range d.agents {
			if a.GetId() != x.GetId() && RoleOf(a) == RoleOwner {
				refuse("role", codeConflict, "%s is already the owner; there is one, who hands ownership on (POST /admin/owner)", a.GetId())
				return
			}
		}
	}
	if owner, ok := d.logins[strings.ToLower(x.GetLogin())]; ok && owner != x.GetId() {
		refuse("login", codeConflict, "login %q is taken", x.GetLogin())
		return
	}
	for _, dep := range x.GetDepartments() {
		if d.deps[dep] == nil {
			refuse("departments", codeInvalid, "no department %q", dep)
			return
		}
	}
	for _, l := range x.GetLanguages() {
		if d.langs[l] == nil {
			refuse("languages", codeInvalid, "no language %q", l)
			return
		}
	}
	if err := CheckText("display_name", x.GetDisplayName(), MaxNameBytes); err != nil {
		refuse("display_name", err.GetCode(), "%s", err.GetMessage())
		return
	}
	if x.GetDisplayName() == "" {
		x.DisplayName = x.GetId()
	}
	prev := ""
	old := d.agents[x.GetId()]
	if old != nil {
		prev = old.GetLogin()
		delete(d.logins, strings.ToLower(prev))
		x.SessionsAfterMs = max(x.GetSessionsAfterMs(), old.GetSessionsAfterMs())
	}
	if x.GetPasswordHash() == "" {
		// No new password: the account keeps its own, as the directory
		// has it now (a hash the caller read earlier could be older than
		// a change made since, and would bring the old password back).
		x.PasswordHash = old.GetPasswordHash()
	}
	x.SessionEpoch = old.GetSessionEpoch()
	if old == nil || x.GetPasswordHash() != old.GetPasswordHash() {
		// A new account starts a new epoch (tokens of an earlier account
		// under the same id stay dead), and a new password ends every
		// session of the old one.
		x.SessionEpoch = d.b.newID('e', d.b.clock.Now())
	}
	if x.GetSuspended() && !old.GetSuspended() {
		// Suspension ends every session: tokens issued before now fail.
		x.SessionsAfterMs = d.b.clock.Now().UnixMilli()
	}
	d.agents[x.GetId()] = x
	d.logins[strings.ToLower(x.GetLogin())] = x.GetId()
	w.notify = []string{KindAgent + "/" + x.GetId()}
	d.waiting[d.token] = w
	d.b.store.PutAgent(x, prev, done)
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
