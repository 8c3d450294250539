// Package gateway is Switchboard's edge: HTTP and websockets. It
// authenticates, decodes frames, and bridges each socket to its actor; it
// serves the admin API and chat records. It holds no chat state.
//
// Concurrency contract: each websocket connection has one goroutine for
// its whole life, the reader (wsConn.serve), which decodes frames, checks
// them against the table of client commands (commands.go) and sends them
// to actors. A second, the writer, is the only one that writes to the
// socket; it runs only while the connection's outbox has something to
// write and for a moment after, so an idle connection holds one
// goroutine. Actors reach a connection through its PID, a Process that
// puts envelopes on the bounded outbox and never blocks: a client that
// cannot keep up is closed with CloseSlowClient and resumes by sequence
// when it reconnects. Timers (Hello, frame, login hours) only close the
// socket or check it again. Each field of wsConn and outbox says which
// goroutine writes it.
package gateway
