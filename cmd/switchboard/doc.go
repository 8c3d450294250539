// Command switchboard runs the Switchboard live-chat broker, a terminal
// chat client to try it, and the load harness.
//
//	switchboard [-addr 127.0.0.1:8080] [-data ./data] [-demo] [flags]
//	switchboard chat -as visitor|agent ...
//	switchboard bench -profile smoke|standard|soak -out DIR
//	switchboard simulate -data DIR -check | -export FILE | [changes] (simulate.go)
//	switchboard reindex -data DIR
//
// ("bench-echo" and "bench-hold" are the harness's child processes.)
//
// Configuration: every broker flag but -demo has a SWITCHBOARD_* environment
// variable, named in its -help text, that sets its default; SWITCHBOARD_
// ADMIN_TOKEN (the first admin credential) and SWITCHBOARD_ARGON2_MEMORY_KIB
// (cheap password hashing, for tests) are variables only. parseServe
// (config.go) reads both into Config, and a malformed value stops the
// broker with a message that names the flag or variable and the value.
// As in every package's Config, 0 means the default (each flag's default
// is the owning package's Default constant) and a negative value turns a
// limit off: -limit-frames -1, -silent-wait -1s.
//
// Main (app.go) is one running broker: storage, actors, gateway and the
// HTTP listener, started in that order. Close stops the listener, closes
// every socket (gateway), drains and closes storage (every write in
// flight is committed and its actor told), and stops the actors last. The
// end-to-end tests start the broker through the same Main. Main's own
// methods are safe from any goroutine; Close and a workspace reset are
// ordered by its life lock.
package main
