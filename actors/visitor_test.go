package actors

import (
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
	"github.com/switchboard-chat/switchboard/persistence"
)

// A page reload without a chat: the old socket's detach and the new
// socket's attach reach the visitor actor back to back. The actor, unused
// between the two, must welcome the new socket (stopping at the detach
// dropped the attach queued behind it).
func TestVisitorWelcomesAnAttachRightAfterTheLastDetach(t *testing.T) {
	store, err := persistence.Open(t.TempDir(), persistence.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	br, err := New(Config{Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Shutdown()
	welcomed := make(chan string, 4)
	conn := func(name string) *messages.ConnAttach {
		return &messages.ConnAttach{Conn: attachConn(br, func(env *messages.Envelope) {
			if env.GetWelcome() != nil {
				welcomed <- name
			}
		})}
	}
	const id = "v01reload000000000000000000000"
	first := conn("first")
	br.Send(KindVisitor, id, first)
	awaitWelcome(t, welcomed, "first")
	pid := br.PID(KindVisitor, id)
	br.root.Send(pid, &messages.ConnDetach{Conn: first.GetConn()})
	br.root.Send(pid, conn("second"))
	awaitWelcome(t, welcomed, "second")
}

func awaitWelcome(t *testing.T, welcomed chan string, want string) {
	t.Helper()
	select {
	case got := <-welcomed:
		if got != want {
			t.Fatalf("welcomed %s, want %s", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s was never welcomed", want)
	}
}
