package actors

import (
	"context"
	"fmt"
	"log/slog"
)

// RedactedLogger is l for the actor system: Proto.Actor logs the message
// that reached a dead letter or made an actor fail (slog.Any("message",
// m)), and a message here can be a chat message or a login. Such an
// attribute is logged as its Go type only ("*messages.ChatCommand"): the
// logs never carry what users wrote or typed as a password.
func RedactedLogger(l *slog.Logger) *slog.Logger { return slog.New(redactHandler{l.Handler()}) }

type redactHandler struct{ next slog.Handler }

func (h redactHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	return h.next.Enabled(ctx, lv)
}

func (h redactHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return redactHandler{h.next.WithAttrs(red)}
}

func (h redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{h.next.WithGroup(name)}
}

// redactAttr keeps only the type of a "message" attribute's value (and of
// one in a group).
func redactAttr(a slog.Attr) slog.Attr {
	switch v := a.Value.Resolve(); {
	case v.Kind() == slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, x := range g {
			red[i] = redactAttr(x)
		}
		return slog.Group(a.Key, red...)
	case a.Key == "message" && v.Kind() == slog.KindAny:
		return slog.String(a.Key, fmt.Sprintf("%T", v.Any()))
	}
	return a
}
