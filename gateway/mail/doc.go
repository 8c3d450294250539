// Package mail is the broker's SMTP client: it delivers one outbox mail
// (messages.OutboxMail) through the SMTP settings the administrator set
// (STARTTLS, TLS, or no TLS to this machine only; AUTH PLAIN when a user
// is set). It decides nothing: the outbox actor keeps, retries and
// records the mails, the gateway checks the settings.
//
// It uses the standard library's net/smtp: frozen but complete for a
// client that sends (STARTTLS, AUTH PLAIN, which it refuses over a
// connection without TLS to another machine, and dot-stuffing), so the
// binary needs no other dependency for it.
//
// Concurrency: a Client is safe for use by several goroutines; Send
// tries in a goroutine of its own and calls done once.
package mail
