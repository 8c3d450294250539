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
	want := func(p string) bool { return len(show) == 0 || hasPrefix(p, show) }
	var b strings.Builder
	line := func(kind string, m proto.Message) {
		b.WriteString(kind + " " + compactJSON(m) + "\n")
	}
	fail := func(err error) string { return "error: " + err.Error() + "\n" }
	if want("departments") {
		xs, err := h.store.Departments()
		if err != nil {
			return fail(err)
		}
		for _, x := range xs {
			line("department", x)
		}
	}
	if want("languages") {
		xs, err := h.store.Languages()
		if err != nil {
			return fail(err)
		}
		for _, x := range xs {
			line("language", x)
		}
	}
	if want("agents") {
		xs, err := h.store.Agents()
		if err != nil {
			return fail(err)
		}
		for _, x := range xs {
			line("agent", x)
		}
	}
	if want("roles") {
		xs, err := h.store.Roles()
		if err != nil {
			return fail(err)
		}
		for _, x := range xs {
			line("role", x)
		}
	}
	if want("settings") {
		x, err := h.store.Settings()
		if err != nil {
			return fail(err)
		}
		if x != nil {
			line("settings", x)
		}
	}
	return b.String()
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
