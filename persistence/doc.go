// Package persistence keeps Switchboard's durable state in Pebble: chat
// logs, the open-chats index, agent snapshots, the directory (departments,
// languages, staff, roles, settings), the audit log, logged-out sessions
// and secrets. The key layout lives in keys.go, with its own tests;
// Options (options.go) holds the settings with their defaults and checks.
//
// Concurrency contract: reads are safe from any goroutine. Writes are
// asynchronous: one writer goroutine commits them in synced batches (group
// commit) and calls each write's done callback, in submission order, once
// it is on disk (or failed). A write refused at once (store closed, disk
// low: ErrClosed, ErrDiskLow) has its callback called on the submitter's
// goroutine, before submit returns. Callbacks must not block. Nothing is
// acknowledged to a user before its write is synced.
//
// While storage is faulty (a full disk, an I/O error), writes fail fast
// with ErrUnavailable and the store reopens Pebble by itself as writes
// come in. Tests inject such faults with package persistence/faultfs,
// which the broker's binary does not contain.
//
// It imports only messages of ours (actors/lint_test.go's TestLayers):
// actors reach it through their Store interface.
package persistence
