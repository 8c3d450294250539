package actors

// Harness commands for the chat, staff and directory stories (see
// scenario_test.go for the others):
//
//	directory [show=departments,languages,agents,roles,settings]
//	                            what the directory holds in storage, one record a line
//	audit                       the audit log since the last `audit`, one entry a line
//
// and, on every command that lists deliveries, visitor=name1,name2: the
// deliveries to these names (a visitor's connection or actor) are shown as
// the visitor's socket gets them, through VisitorView (no internal event,
// visitor_seq as seq, staff as refs), or as "(dropped)" when the visitor
// gets nothing of them.

import (
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// harnessView is the visitor view the stories show: a fixed key, so the
// staff refs in the expected output are stable.
var harnessView = NewVisitorView([]byte("harness"))

// chatStep runs the commands of this file; ok is false for any other.
func (h *harness) chatStep(t *testing.T, d *datadriven.TestData) (out string, ok bool) {
	switch d.Cmd {
	case "directory":
		return h.directoryDump(d), true
	case "audit":
		return h.auditDump(), true
	}
	return "", false
}

// directoryDump prints the stored directory, the parts named by show=
// (all of them without it).
func (h *harness) directoryDump(d *datadriven.TestData) string {
	show := argList(d, "show")
	var b strings.Builder
	parts := []struct {
		name, label string // show= name, and the word each line starts with
		list        func() ([]proto.Message, error)
	}{
		{"departments", "department", func() ([]proto.Message, error) { return records(h.store.Departments()) }},
		{"languages", "language", func() ([]proto.Message, error) { return records(h.store.Languages()) }},
		{"agents", "agent", func() ([]proto.Message, error) { return records(h.store.Agents()) }},
		{"roles", "role", func() ([]proto.Message, error) { return records(h.store.Roles()) }},
		{"settings", "settings", func() ([]proto.Message, error) { return one(h.store.Settings()) }},
		{"signin", "signin", func() ([]proto.Message, error) { return one(h.store.SignIn()) }},
	}
	for _, p := range parts {
		if len(show) > 0 && !hasPrefix(p.name, show) {
			continue
		}
		xs, err := p.list()
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		for _, x := range xs {
			b.WriteString(p.label + " " + compactJSON(x) + "\n")
		}
	}
	return b.String()
}

// one turns a stored record into a listing of it (none when absent).
func one[T proto.Message](x T, err error) ([]proto.Message, error) {
	if err != nil || !x.ProtoReflect().IsValid() {
		return nil, err
	}
	return []proto.Message{x}, nil
}

// records turns a store listing into messages.
func records[T proto.Message](xs []T, err error) ([]proto.Message, error) {
	out := make([]proto.Message, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out, err
}

// auditDump prints the audit entries written since the last call. The
// harness clock never goes back, so "since" is a time and the entries
// come oldest first.
func (h *harness) auditDump() string {
	es, err := h.b.AuditLog(time.UnixMilli(0), h.clock.Now().Add(time.Millisecond), nil, 1<<20)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	for i, e := range es {
		if i < h.audited {
			continue
		}
		b.WriteString(compactJSON(e) + "\n")
	}
	h.audited = len(es)
	return b.String()
}

// asVisitor returns dl as the visitor sees it when its name is among
// visitor=; ok is false when the visitor gets nothing of it.
func asVisitor(d *datadriven.TestData, dl delivery) (delivery, bool) {
	if !hasPrefix(dl.to, argList(d, "visitor")) {
		return dl, true
	}
	switch m := dl.msg.(type) {
	case *messages.Envelope:
		if v := harnessView.Envelope(m); v != nil {
			return delivery{to: dl.to, msg: v}, true
		}
		return dl, false
	case *messages.ChatEvent:
		if v := harnessView.Event(m); v != nil {
			return delivery{to: dl.to, msg: v}, true
		}
		return dl, false
	case *messages.ReplayBatch:
		out := &messages.ReplayBatch{ChatId: m.GetChatId(), NotFound: m.GetNotFound(), Unavailable: m.GetUnavailable(), More: m.GetMore()}
		for _, ev := range m.GetEvents() {
			if v := harnessView.Event(ev); v != nil {
				out.Events = append(out.Events, v)
			}
		}
		return delivery{to: dl.to, msg: out}, true
	}
	return dl, true
}
