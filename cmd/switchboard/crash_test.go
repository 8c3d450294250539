package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

// TestMain lets the test binary run as the broker itself, so crash tests
// kill a real child process without building anything.
func TestMain(m *testing.M) {
	if os.Getenv("SWITCHBOARD_TEST_CHILD") == "1" {
		args := strings.Fields(os.Getenv("SWITCHBOARD_TEST_ARGS"))
		if err := run(context.Background(), args, os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	stopBrowser()
	os.Exit(code)
}

type child struct {
	cmd  *exec.Cmd
	addr string
}

// startChild runs a broker child process on dir and waits until it listens.
func startChild(t *testing.T, dir string, extra ...string) *child {
	return startChildAt(t, dir, "127.0.0.1:0", extra...)
}

// startChildAt runs a broker child process on dir listening on addr (a
// restarted broker that clients reconnect to), with extra flags.
func startChildAt(t *testing.T, dir, addr string, extra ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SWITCHBOARD_TEST_CHILD=1",
		"SWITCHBOARD_TEST_ARGS=-demo -addr "+addr+" -log warn -limit-frames -1 -limit-conns -1 -limit-chats -1 -limit-hellos -1 -line-per-address -1 -data "+dir+" "+strings.Join(extra, " "),
		"SWITCHBOARD_ADMIN_TOKEN="+testAdminToken, "SWITCHBOARD_ARGON2_MEMORY_KIB=64")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = tlogWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd}
	t.Cleanup(func() { c.kill() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "Listening on http://"); ok {
				found <- addr
			}
		}
	}()
	select {
	case c.addr = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("child broker did not start")
	}
	return c
}

func (c *child) kill() {
	if c.cmd.ProcessState == nil {
		c.cmd.Process.Signal(syscall.SIGKILL)
		c.cmd.Wait()
	}
}

// record fetches a chat's record with the admin credential.
func record(t *testing.T, addr, chat string) *messages.ChatRecord {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/chats/"+chat, nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var raw json.RawMessage
	json.NewDecoder(res.Body).Decode(&raw)
	rec := &messages.ChatRecord{}
	if err := protoIn.Unmarshal(raw, rec); err != nil {
		t.Fatalf("record %s: %d %s: %v", chat, res.StatusCode, raw, err)
	}
	return rec
}

// TestKill9LosesNothingAcknowledged drives a chat and a queue against a
// broker child, kills it with SIGKILL in the middle of a stream of
// messages, restarts it on the same folder and checks: every acknowledged
// message is in the transcript and reaches the other side on resume, the
// queue kept its order, the chat kept its agent, the agent's load matches.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	var acked, recovered int
	const cycles = 4
	for cycle := 0; cycle < cycles; cycle++ {
		t.Run(fmt.Sprint("cycle", cycle), func(t *testing.T) {
			a, r := kill9Cycle(t, dir)
			acked, recovered = acked+a, recovered+r
		})
	}
	// go test -v -run TestKill9 ./cmd/switchboard prints what it tried.
	t.Logf("crash test: %d SIGKILL cycles, %d messages acknowledged before the kills, %d of them found in the transcripts and delivered on resume",
		cycles, acked, recovered)
}

// kill9Cycle returns how many messages were acknowledged before the kill
// and how many of those were found and delivered after the restart.
func kill9Cycle(t *testing.T, dir string) (ackedN, recoveredN int) {
	ch := startChild(t, dir)
	// Queue three support chats (nobody in support is online).
	var queued []string
	for i := 0; i < 3; i++ {
		v, _ := newVisitor(t, ch.addr, false)
		queued = append(queued, mustChatID(t, requestChat(t, v, "support", "en", fmt.Sprint("waiting ", i))))
	}
	v, vw := newVisitor(t, ch.addr, true)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", "hello"))
	a, aw := newAgent(t, ch.addr, "alice@demo", "alice-demo-pw", true)
	accept(t, a, awaitOffer(t, a).GetChatId())
	awaitEvent(t, v, chat, func(ev *messages.ChatEvent) bool { return ev.GetAssigned() != nil })

	acked, n := streamUntilKill(t, ch.kill, v, a, chat)

	ch = startChild(t, dir)
	last := checkStoredAfterKill(t, ch.addr, chat, acked)
	recovered := visitorResumesAfterKill(t, ch.addr, vw, chat, last, acked)
	a2 := agentResumesAfterKill(t, ch.addr, aw, chat, last)
	checkSupportQueueKept(t, ch.addr, queued)
	// Close the chat so the next cycle starts with Alice free.
	if _, err := a2.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_CloseChat{CloseChat: &messages.CloseChat{ChatId: chat}}}); err != nil {
		t.Fatal(err)
	}
	t.Logf("acknowledged before SIGKILL: %d; transcript after restart: %d events", n, last)
	ch.kill()
	return n, recovered
}

// streamUntilKill streams messages from both sides without waiting,
// collecting acks, and kills the broker at a random moment: after 20 to
// 400 acknowledgements. It returns the acknowledged messages by seq and
// how many there were at the kill.
func streamUntilKill(t *testing.T, kill func(), v, a *gateway.Client, chat string) (map[uint64]string, int) {
	var mu sync.Mutex
	acked := map[uint64]string{}
	var wg sync.WaitGroup
	stream := func(c *gateway.Client, who string) {
		defer wg.Done()
		refs := map[uint64]string{}
		for i := 0; ; i++ {
			text := fmt.Sprintf("%s %d", who, i)
			ref, err := c.Send(context.Background(), &messages.Envelope{Body: &messages.Envelope_SendMessage{SendMessage: &messages.SendMessage{ChatId: chat, ClientMsgId: text, Text: text}}})
			if err != nil {
				return
			}
			refs[ref] = text
			// Take the acks that have come.
			for c.Pending() > 0 {
				env, err := c.Recv(context.Background())
				if err != nil {
					return
				}
				if ack := env.GetAck(); ack != nil && refs[env.GetRef()] != "" {
					mu.Lock()
					acked[ack.GetSeq()] = refs[env.GetRef()]
					mu.Unlock()
				}
			}
			if c.Closed() != nil {
				return
			}
		}
	}
	wg.Add(2)
	go stream(v, "visitor")
	go stream(a, "agent")
	killAt := 20 + rand.IntN(380)
	eventually(t, "some acknowledged messages", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= killAt })
	kill()
	wg.Wait()
	mu.Lock()
	n := len(acked)
	mu.Unlock()
	return acked, n
}

// checkStoredAfterKill: the transcript has no gap and holds every
// acknowledged message; the chat is still active. It returns the last seq.
func checkStoredAfterKill(t *testing.T, addr, chat string, acked map[uint64]string) uint64 {
	t.Helper()
	rec := record(t, addr, chat)
	stored := map[uint64]string{}
	var last uint64
	for _, ev := range rec.GetTranscript() {
		if ev.GetSeq() != last+1 {
			t.Fatalf("transcript has seq %d after %d", ev.GetSeq(), last)
		}
		last = ev.GetSeq()
		stored[ev.GetSeq()] = ev.GetMessage().GetText()
	}
	for seq, text := range acked {
		if stored[seq] != text {
			t.Fatalf("acknowledged message %d %q is stored as %q", seq, text, stored[seq])
		}
	}
	if rec.GetState() != messages.ChatState_CHAT_STATE_ACTIVE {
		t.Fatalf("chat state after restart: %v", rec.GetState())
	}
	return last
}

// visitorResumesAfterKill: the visitor resumes from seq 1 and receives
// everything after, in order. It returns how many acknowledged messages
// were delivered.
func visitorResumesAfterKill(t *testing.T, addr string, vw *messages.Welcome, chat string, last uint64, acked map[uint64]string) int {
	t.Helper()
	recovered := 0
	v2 := dial(t, addr, "visitor", false)
	if _, err := v2.Hello(ctxT(t), &messages.Hello{ResumeToken: vw.GetResumeToken(), Cursors: map[string]uint64{chat: 1}}); err != nil {
		t.Fatal(err)
	}
	for want := uint64(2); want <= last; want++ {
		ev := awaitEvent(t, v2, chat, func(*messages.ChatEvent) bool { return true })
		if ev.GetSeq() != want {
			t.Fatalf("resume delivered %d, want %d", ev.GetSeq(), want)
		}
		if text, ok := acked[want]; ok && ev.GetMessage().GetText() == text {
			recovered++
		}
	}
	return recovered
}

// agentResumesAfterKill: the agent still has the chat, and their load
// says so; their resume delivers the whole transcript too.
func agentResumesAfterKill(t *testing.T, addr string, aw *messages.Welcome, chat string, last uint64) *gateway.Client {
	t.Helper()
	a2 := dial(t, addr, "agent", false)
	w, err := a2.Hello(ctxT(t), &messages.Hello{SessionToken: aw.GetSessionToken(), Cursors: map[string]uint64{chat: 0}})
	if err != nil {
		t.Fatal(err)
	}
	for want := uint64(1); want <= last; want++ {
		if ev := awaitEvent(t, a2, chat, func(*messages.ChatEvent) bool { return true }); ev.GetSeq() != want {
			t.Fatalf("agent's resume delivered %d, want %d", ev.GetSeq(), want)
		}
	}
	if len(w.GetChats()) != 1 || w.GetChats()[0].GetChatId() != chat || w.GetState().GetActiveChats() != 1 {
		t.Fatalf("agent after restart: %v", w)
	}
	if w.GetState().GetStatus() != messages.AgentStatus_AGENT_STATUS_AVAILABLE {
		t.Fatalf("agent status after restart: %v", w.GetState().GetStatus())
	}
	return a2
}

// checkSupportQueueKept: the support queue kept its order (after chats
// left by earlier cycles).
func checkSupportQueueKept(t *testing.T, addr string, queued []string) {
	t.Helper()
	bob, _ := newAgent(t, addr, "bob@demo", "bob-demo-pw", false)
	list, err := bob.Call(ctxT(t), &messages.Envelope{Body: &messages.Envelope_ListWaiting{ListWaiting: &messages.ListWaiting{Department: "support"}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range list.GetWaitingList().GetChats() {
		got = append(got, c.GetChatId())
	}
	if len(got) < 3 || strings.Join(got[len(got)-3:], ",") != strings.Join(queued, ",") {
		t.Fatalf("support queue after restart: %v; want it to end with %v", got, queued)
	}
}

// TestCleanShutdownAndRestart: SIGTERM-style shutdown closes sockets with
// going-away, and a restart in process resumes everyone.
func TestCleanShutdownAndRestart(t *testing.T) {
	dir := t.TempDir()
	m := startBroker(t, dir)
	v, vw := newVisitor(t, m.Addr(), false)
	chat := mustChatID(t, requestChat(t, v, "sales", "en", "before restart"))
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := v.Await(ctxT(t), func(*messages.Envelope) bool { return false })
	if code := gateway.CloseCode(err); code != gateway.CloseGoingAway {
		t.Fatalf("close code %v (%v), want going away", code, err)
	}
	m = startBroker(t, dir)
	v2 := dial(t, m.Addr(), "visitor", false)
	w, err := v2.Hello(ctxT(t), &messages.Hello{ResumeToken: vw.GetResumeToken()})
	if err != nil || len(w.GetChats()) != 1 || w.GetChats()[0].GetChatId() != chat || w.GetChats()[0].GetPosition() != 1 {
		t.Fatalf("after restart: %v, %v", w, err)
	}
	a, _ := newAgent(t, m.Addr(), "alice@demo", "alice-demo-pw", true)
	if o := awaitOffer(t, a); o.GetChatId() != chat {
		t.Fatalf("offered %s after restart, want %s", o.GetChatId(), chat)
	}
}
