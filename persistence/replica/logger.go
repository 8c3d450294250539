package replica

import (
	"bytes"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// hclogFor gives hashicorp/raft a logger that writes to the node's slog
// logger: warnings and errors only (Raft's info lines come at every
// election and snapshot).
func hclogFor(l *slog.Logger, name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.Warn, Output: slogWriter{l}, DisableTime: true})
}

type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Warn(string(bytes.TrimSpace(p)), "component", "raft")
	return len(p), nil
}
