package actors

// Harness commands for the routing stories (testdata/routing, queue,
// agent, visitor), kept apart from scenario_test.go so that stories of
// other kinds can grow their own:
//
//	config [agent-grace=60s] [visitor-grace=60s] [silent-wait=10m] [line-per-address=10]
//	                            the broker's Config knobs, set before the
//	                            first message (they default as in New)
//	put-department              input: a Department (protojson) written to
//	                            storage, then DirectoryChanged sent to its
//	                            group and queue (and to= names, if given),
//	                            as the directory does after an edit
//	view to=queue/id as=m1      the queue's DepartmentView, asked as agent
//	                            m1 would (ViewQuery; m1 must be a stand-in)

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/switchboard-chat/switchboard/messages"
)

// routingStep runs the commands above; ok is false for any other.
func (h *harness) routingStep(t *testing.T, d *datadriven.TestData) (out string, ok bool) {
	switch d.Cmd {
	case "config":
		h.config(t, d)
		return "", true
	case "put-department":
		dep := &messages.Department{}
		parse(t, d, dep)
		h.store.PutDepartment(dep, func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		})
		names := departmentNames(dep.GetId())
		for _, to := range argList(d, "to") {
			kind, id, _ := strings.Cut(to, "/")
			names = append(names, Name{Kind: kind, ID: id})
		}
		for _, n := range names {
			h.b.root.Send(h.b.pidOf(n), &messages.DirectoryChanged{})
		}
		h.drain()
		return h.output(d), true
	case "view":
		kind, id := actorOf(t, d)
		var as string
		d.ScanArgs(t, "as", &as)
		h.send(kind, id, &messages.ViewQuery{AgentId: as}, nil)
		return h.output(d), true
	}
	return "", false
}

func (h *harness) config(t *testing.T, d *datadriven.TestData) {
	for _, a := range d.CmdArgs {
		if len(a.Vals) != 1 {
			d.Fatalf(t, "config %s: want one value", a.Key)
		}
		v := a.Vals[0]
		switch a.Key {
		case "line-per-address":
			n, err := strconv.Atoi(v)
			if err != nil {
				d.Fatalf(t, "config %s: %v", a.Key, err)
			}
			h.b.linePerAddress = n
			continue
		}
		dur, err := time.ParseDuration(v)
		if err != nil {
			d.Fatalf(t, "config %s: %v", a.Key, err)
		}
		switch a.Key {
		case "agent-grace":
			h.b.agentGrace = dur
		case "visitor-grace":
			h.b.visitorGrace = dur
		case "silent-wait":
			h.b.silentWait = dur
		default:
			d.Fatalf(t, "config: unknown %s", a.Key)
		}
	}
}
