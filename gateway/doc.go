// Package gateway is Switchboard's edge: HTTP and websockets. It
// authenticates, decodes frames, and bridges each socket to its actor; it
// serves the admin API and chat records. It holds no chat state.
//
// Concurrency contract: each websocket connection has two goroutines, a
// reader that decodes frames and sends commands to actors, and a writer,
// the only one that writes to the socket. Actors reach a connection through
// its PID, a Process that puts envelopes on a bounded outbound queue and
// never blocks: a client that cannot keep up is closed with CloseSlowClient
// and resumes by sequence when it reconnects.
package gateway
