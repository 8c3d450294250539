package actors

import (
	"regexp"
	"slices"
	"strings"

	"github.com/switchboard-chat/switchboard/messages"
)

// The bounds of a department's widget look.
const (
	maxLookLanguages     = 32
	maxLookTitleBytes    = 80
	maxLookGreetingBytes = 500
)

var lookColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// CheckLook validates a department's widget look: a #rrggbb colour (or
// none) and its texts per language code, bounded (INVALID_ARGUMENT).
func CheckLook(l *messages.WidgetLook) *messages.Error {
	if l.GetColor() != "" && !lookColor.MatchString(l.GetColor()) {
		return messages.FieldErrorf(codeInvalid, "look.color", "look.color must be #rrggbb, like #1a73e8")
	}
	for _, texts := range []struct {
		field string
		m     map[string]string
		max   int
	}{{"look.title", l.GetTitle(), maxLookTitleBytes}, {"look.greeting", l.GetGreeting(), maxLookGreetingBytes}} {
		if len(texts.m) > maxLookLanguages {
			return messages.FieldErrorf(codeInvalid, texts.field, "%s has %d languages; at most %d", texts.field, len(texts.m), maxLookLanguages)
		}
		for code, s := range texts.m {
			if !languageCode.MatchString(code) {
				return messages.FieldErrorf(codeInvalid, texts.field, "%s: %q is not a language code like en or pt-BR", texts.field, code)
			}
			if e := CheckText(texts.field+"."+code, s, texts.max); e != nil {
				return messages.FieldErrorf(codeInvalid, texts.field, "%s", e.GetMessage())
			}
		}
	}
	return nil
}

// WidgetDepartment is what the public widget configuration says of one
// department: never staff, only whether it takes chats now and its look.
type WidgetDepartment struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Open: chat-enabled (its queue online), within business hours, and
	// live chat not switched off.
	Open bool `json:"open"`
	// Closed for its business hours: when it opens next (epoch ms).
	OpensAtMs int64                `json:"opens_at_ms,omitempty"`
	Look      *messages.WidgetLook `json:"look,omitempty"`
}

// WidgetLanguage is one language visitors may chat in.
type WidgetLanguage struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// WidgetConfig is the public configuration the visitor widget reads
// before a chat (GET /api/widget/config).
type WidgetConfig struct {
	// The live chat the widget is bound to (issue 19): only its
	// departments are offered, with its look where theirs says nothing.
	LiveChat     string               `json:"live_chat"`
	LiveChatName string               `json:"live_chat_name"`
	Internal     bool                 `json:"internal,omitempty"`
	Look         *messages.WidgetLook `json:"look,omitempty"`
	Departments  []WidgetDepartment   `json:"departments"`
	Languages    []WidgetLanguage     `json:"languages"`
	LiveChatOff  bool                 `json:"live_chat_off,omitempty"`
}

// WidgetConfig reads, from the store only, the departments of live chat
// lc with whether each takes chats now (the same rules the group actor
// applies to a request), and the enabled languages.
func (b *Broker) WidgetConfig(lc *messages.LiveChat) (*WidgetConfig, error) {
	settings, err := b.Settings()
	if err != nil {
		return nil, err
	}
	deps, err := b.store.Departments()
	if err != nil {
		return nil, err
	}
	langs, err := b.store.Languages()
	if err != nil {
		return nil, err
	}
	now := b.clock.Now()
	out := &WidgetConfig{LiveChat: lc.GetId(), LiveChatName: lc.GetName(), Internal: lc.GetKind() == messages.LiveChatKind_LIVE_CHAT_KIND_INTERNAL,
		Look: lc.GetLook(), Departments: []WidgetDepartment{}, Languages: []WidgetLanguage{}, LiveChatOff: settings.GetLiveChatOff()}
	for _, d := range deps {
		if LiveChatOf(d) != lc.GetId() {
			continue
		}
		wd := WidgetDepartment{ID: d.GetId(), Name: d.GetName(), Look: lookOf(d.GetLook(), lc.GetLook())}
		if d.GetChatEnabled() && !settings.GetLiveChatOff() {
			open, next := BusinessHours(d.GetBusinessHours(), d.GetTimeZone(), now)
			wd.Open = open
			if !open && !next.IsZero() {
				wd.OpensAtMs = next.UnixMilli()
			}
		}
		out.Departments = append(out.Departments, wd)
	}
	for _, l := range langs {
		if l.GetChatEnabled() {
			out.Languages = append(out.Languages, WidgetLanguage{Code: l.GetCode(), Name: l.GetName()})
		}
	}
	slices.SortFunc(out.Departments, func(a, b WidgetDepartment) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(out.Languages, func(a, b WidgetLanguage) int { return strings.Compare(a.Code, b.Code) })
	return out, nil
}

// lookOf is a department's look in the widget: what it sets itself, and
// its live chat's look for what it leaves out (the colour, the title or
// the greeting).
func lookOf(own, lc *messages.WidgetLook) *messages.WidgetLook {
	if lc == nil {
		return own
	}
	out := &messages.WidgetLook{Color: own.GetColor(), Title: own.GetTitle(), Greeting: own.GetGreeting()}
	if out.Color == "" {
		out.Color = lc.GetColor()
	}
	if len(out.Title) == 0 {
		out.Title = lc.GetTitle()
	}
	if len(out.Greeting) == 0 {
		out.Greeting = lc.GetGreeting()
	}
	if out.Color == "" && len(out.Title) == 0 && len(out.Greeting) == 0 {
		return nil
	}
	return out
}
