package main

import (
	"strings"
	"unicode"

	"github.com/switchboard-chat/switchboard/actors"
)

// What the terminal client prints comes partly from visitors, so it is
// made harmless first: a visitor must not be able to run escape sequences
// on an agent's terminal, nor forge a line that looks like the broker's
// (a whisper, a colleague's message).

// visitorMark starts every visitor's message line. Staff lines never carry
// it, and a visitor's text cannot start a line of its own (clean), so
// a line without it did not come from a visitor.
const visitorMark = "(visitor) "

// continuation starts every line of a message after its first.
const continuation = "\n      | "

// clean makes a string from the broker safe to print: control characters
// (escape sequences, carriage returns, backspaces) and bidirectional
// overrides are dropped, a tab becomes a space, and every line after the
// first starts with continuation, so that no part of a name or a message
// can pass for a line the client printed. printf applies it to every
// string it prints, once.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t':
			return ' '
		case unicode.IsControl(r) || actors.IsBidiControl(r):
			return -1
		}
		return r
	}, s)
	return strings.ReplaceAll(s, "\n", continuation)
}
