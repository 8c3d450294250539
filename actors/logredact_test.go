package actors

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/messages"
)

// What Proto.Actor logs about a dead letter or a failed actor names the
// message's type, never its content.
func TestRedactedLoggerHidesMessages(t *testing.T) {
	var out bytes.Buffer
	log := RedactedLogger(slog.New(slog.NewJSONHandler(&out, nil)))
	msg := &messages.SendMessage{ChatId: "c1", Text: "the-secret-words"}
	log.Info("[DeadLetter]", slog.Any("message", msg), slog.String("chat", "c1"))
	log.With(slog.Any("message", msg)).Error("[Supervision]", slog.Group("g", slog.Any("message", msg)))
	got := out.String()
	if strings.Contains(got, "the-secret-words") {
		t.Fatalf("message text in the log: %s", got)
	}
	if strings.Count(got, "*messages.SendMessage") != 3 || !strings.Contains(got, `"chat":"c1"`) {
		t.Fatalf("want the type in place of each message and other attributes kept: %s", got)
	}
}
