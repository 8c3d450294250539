// Package persistence keeps Switchboard's durable state in Pebble: chat
// logs, the open-chats index, agent snapshots, the directory and secrets.
// The key layout lives in keys.go, with its own tests.
//
// Concurrency contract: reads are safe from any goroutine. Writes are
// asynchronous: one writer goroutine commits them in synced batches (group
// commit) and calls each write's done callback, in submission order, once
// it is on disk. Callbacks run on the writer goroutine and must not block.
// Nothing is acknowledged to a user before its write is synced.
package persistence
