package actors

// Scenario tests: routing and chat stories under testdata/, in pebble's
// datadriven style. Each file is a story; each step drives the actors
// through the harness and lists what the stand-ins received, one message
// a line. `go test ./actors -run TestScenarios -rewrite` rewrites the
// expected output after a deliberate change (read the diff before
// committing it).
//
// Commands:
//
//	new real=chat,queue,...     a fresh harness: these kinds run for real
//	seed                        input: a DirectoryView (protojson) written to storage
//	send to=kind/id type=Name [conn=c] [sender=c] [show=p1,p2] [hide=p1,p2]
//	                            input: the message (protojson); conn fills the
//	                            message's conn field with the stand-in conn/c,
//	                            sender makes conn/c the sender (for replies)
//	tick 30s [show=...]         move the clock; due timers fire in order
//	stop to=kind/id             stop an actor (it reloads from storage next time)
//	recover                     Broker.Recover after a restart
//	fail-writes / heal-writes   storage refuses every write, or works again
//	timers                      the armed timers, as offsets from now
//	log chat=id                 the chat's stored events, one a line
//	open-chats                  the open-chats index
//
// More commands: config, put-department, view (harness_routing_test.go);
// directory, audit and the visitor= option (harness_chat_test.go).

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/switchboard-chat/switchboard/messages"
)

func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var h *harness
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd == "new" {
				h = newHarness(t, argList(d, "real")...)
				return ""
			}
			if h == nil {
				d.Fatalf(t, "start the file with: new real=...")
			}
			return h.step(t, d)
		})
	})
}

func (h *harness) step(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "seed":
		v := &messages.DirectoryView{}
		parse(t, d, v)
		h.seed(v)
		return ""
	case "send":
		return h.sendStep(t, d)
	case "tick":
		dur, err := time.ParseDuration(d.CmdArgs[0].Key)
		if err != nil {
			d.Fatalf(t, "tick: %v", err)
		}
		h.advance(dur)
		return h.output(d)
	case "stop":
		kind, id := actorOf(t, d)
		h.stop(kind, id)
		return h.output(d)
	case "recover":
		q, a, err := h.b.Recover()
		h.drain()
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("queued %d, active %d\n", q, a) + h.output(d)
	case "fail-writes":
		h.store.fail = fmt.Errorf("disk on fire")
		return ""
	case "heal-writes":
		h.store.fail = nil
		return ""
	case "timers":
		return fmt.Sprintln(h.clock.pending())
	case "log":
		return h.chatLog(t, d)
	case "open-chats":
		return h.openChats(t)
	}
	if out, ok := h.routingStep(t, d); ok {
		return out
	}
	if out, ok := h.chatStep(t, d); ok {
		return out
	}
	d.Fatalf(t, "unknown command %q", d.Cmd)
	return ""
}

func (h *harness) sendStep(t *testing.T, d *datadriven.TestData) string {
	kind, id := actorOf(t, d)
	var name string
	d.ScanArgs(t, "type", &name)
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName("switchboard.v1." + name))
	if err != nil {
		d.Fatalf(t, "type %s: %v", name, err)
	}
	msg := mt.New().Interface()
	parse(t, d, msg)
	if d.HasArg("conn") {
		var c string
		d.ScanArgs(t, "conn", &c)
		fd := msg.ProtoReflect().Descriptor().Fields().ByName("conn")
		if fd == nil {
			d.Fatalf(t, "%s has no conn field", name)
		}
		msg.ProtoReflect().Set(fd, protoreflect.ValueOfMessage(h.conn(c).ProtoReflect()))
	}
	if d.HasArg("sender") {
		var c string
		d.ScanArgs(t, "sender", &c)
		h.send(kind, id, msg, h.conn(c))
	} else {
		h.send(kind, id, msg, nil)
	}
	return h.output(d)
}

// output lists what the stand-ins received, filtered by show= (only names
// with these prefixes) and hide= (not these).
func (h *harness) output(d *datadriven.TestData) string {
	show, hide := argList(d, "show"), argList(d, "hide")
	var b strings.Builder
	for _, dl := range h.take() {
		if (len(show) > 0 && !hasPrefix(dl.to, show)) || hasPrefix(dl.to, hide) {
			continue
		}
		dl, ok := asVisitor(d, dl)
		if !ok {
			b.WriteString(dl.to + " <- (dropped)\n")
			continue
		}
		b.WriteString(format(dl))
		b.WriteByte('\n')
	}
	return b.String()
}

func (h *harness) chatLog(t *testing.T, d *datadriven.TestData) string {
	var id string
	d.ScanArgs(t, "chat", &id)
	return jsonLines(h.store.ChatEvents(id, 0))
}

func (h *harness) openChats(t *testing.T) string {
	return jsonLines(h.store.OpenChats())
}

// jsonLines prints records one a line (compactJSON), or the read's error.
func jsonLines[T proto.Message](ms []T, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(compactJSON(m))
		b.WriteByte('\n')
	}
	return b.String()
}

func hasPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func argList(d *datadriven.TestData, key string) []string {
	for _, a := range d.CmdArgs {
		if a.Key == key {
			var out []string
			for _, v := range a.Vals {
				out = append(out, strings.Split(v, ",")...)
			}
			return out
		}
	}
	return nil
}

func actorOf(t *testing.T, d *datadriven.TestData) (kind, id string) {
	var to string
	d.ScanArgs(t, "to", &to)
	kind, id, ok := strings.Cut(to, "/")
	if !ok {
		d.Fatalf(t, "to=%q: want kind/id", to)
	}
	return kind, id
}

func parse(t *testing.T, d *datadriven.TestData, m proto.Message) {
	in := strings.TrimSpace(d.Input)
	if in == "" {
		return
	}
	if err := protojson.Unmarshal([]byte(in), m); err != nil {
		d.Fatalf(t, "input: %v", err)
	}
}
