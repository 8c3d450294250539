package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// Where switchboard simulate reads its traffic: a stopped broker's data
// folder (the routing journal, and the chats' logs for their stays), or
// a traffic file that -export wrote (JSON lines, each a SimRecord in
// protojson: the journal's entries in order, then the chats).

// openData opens a stopped broker's data folder.
func openData(dir string, stderr io.Writer) (*persistence.Store, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("simulate: -data %s is not a data folder", dir)
	}
	st, err := persistence.Open(dir, persistence.Options{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return nil, fmt.Errorf("simulate: cannot open the data folder %s (is its broker still running? stop it first, or simulate from a traffic file it exported): %w", dir, err)
	}
	return st, nil
}

// storeTraffic reads the journal and, for each chat it names, the chat's
// stays from its log.
func storeTraffic(st *persistence.Store) (*actors.Traffic, error) {
	t := &actors.Traffic{Chats: map[string]*messages.SimChat{}}
	err := st.EachRoutingInput(time.Time{}, time.Time{}, func(_ uint64, in *messages.RoutingInput) bool {
		t.Inputs = append(t.Inputs, in)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("simulate: read the routing journal: %w", err)
	}
	for _, in := range t.Inputs {
		id := in.GetAdmit().GetChatId()
		if id == "" {
			id = in.GetEnqueue().GetChat().GetChatId()
		}
		if id == "" || t.Chats[id] != nil {
			continue
		}
		evs, err := st.ChatEvents(id, 0)
		if err != nil {
			return nil, fmt.Errorf("simulate: read chat %s: %w", id, err)
		}
		t.Chats[id] = chatStays(id, evs)
	}
	return t, nil
}

// chatStays are a chat's stays with agents, from its log: each
// assignment, until a transfer, a requeue or the close.
func chatStays(id string, evs []*messages.ChatEvent) *messages.SimChat {
	c := &messages.SimChat{ChatId: id}
	var open *messages.SimStay
	var since int64
	dept := ""
	end := func(at int64) *messages.SimStay {
		s := open
		if s != nil {
			s.HandlingMs, open = max(at-since, 0), nil
			c.Stays = append(c.Stays, s)
		}
		return s
	}
	for _, ev := range evs {
		switch k := ev.GetKind().(type) {
		case *messages.ChatEvent_Created:
			dept = k.Created.GetDepartment()
		case *messages.ChatEvent_Assigned:
			end(ev.GetAtMs())
			open, since = &messages.SimStay{Department: dept, AgentId: k.Assigned.GetAgentId()}, ev.GetAtMs()
		case *messages.ChatEvent_Transferred:
			to := k.Transferred.GetToDepartment()
			if to == "" {
				to = dept
			}
			if s := end(ev.GetAtMs()); s != nil {
				s.TransferredTo, s.ToAgent = to, k.Transferred.GetToAgentId()
			}
			dept = to
		case *messages.ChatEvent_Requeued:
			if s := end(ev.GetAtMs()); s != nil {
				s.Requeued = true
			}
		case *messages.ChatEvent_Closed:
			end(ev.GetAtMs())
		}
	}
	return c
}

// writeTraffic writes t as a traffic file.
func writeTraffic(w io.Writer, t *actors.Traffic) error {
	bw := bufio.NewWriter(w)
	line := func(r *messages.SimRecord) error {
		b, err := protojson.Marshal(r)
		if err != nil {
			return err
		}
		bw.Write(b)
		return bw.WriteByte('\n')
	}
	for _, in := range t.Inputs {
		if err := line(&messages.SimRecord{Record: &messages.SimRecord_Input{Input: in}}); err != nil {
			return err
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.Chats)) {
		if err := line(&messages.SimRecord{Record: &messages.SimRecord_Chat{Chat: t.Chats[id]}}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// readTraffic reads a traffic file.
func readTraffic(path string) (*actors.Traffic, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("simulate: -traffic: %w", err)
	}
	defer f.Close()
	t := &actors.Traffic{Chats: map[string]*messages.SimChat{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		r := &messages.SimRecord{}
		if err := protojson.Unmarshal(sc.Bytes(), r); err != nil {
			return nil, fmt.Errorf("simulate: -traffic %s line %d: %w", path, n, err)
		}
		switch x := r.GetRecord().(type) {
		case *messages.SimRecord_Input:
			t.Inputs = append(t.Inputs, x.Input)
		case *messages.SimRecord_Chat:
			t.Chats[x.Chat.GetChatId()] = x.Chat
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("simulate: -traffic %s: %w", path, err)
	}
	return t, nil
}
