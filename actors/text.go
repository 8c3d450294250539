package actors

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/messages"
)

// CheckText is the one rule for the text people type: message text,
// display names, visitor names and emails. It must be valid UTF-8, at most
// max bytes, and free of control characters other than newline and tab:
// no escape sequences (a terminal would run them: a window title, hidden
// text), no carriage returns or backspaces that redraw a line, and no
// bidirectional overrides that reorder what is shown. Field names the
// field in the error.
func CheckText(field, s string, max int) *messages.Error {
	switch {
	case len(s) > max:
		return errorf(codeTooLarge, "%s is %d bytes; at most %d", field, len(s), max)
	case !utf8.ValidString(s):
		return errorf(codeInvalid, "%s is not UTF-8", field)
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || IsBidiControl(r)) {
			return errorf(codeInvalid, "%s holds a control character (%U); only newline and tab are allowed", field, r)
		}
	}
	return nil
}

// IsBidiControl reports the invisible characters that reorder text
// (embeddings, overrides, isolates and marks).
func IsBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// CleanText makes outside text (a channel's customer messages and names,
// which the customer's app may fill with direction marks and control
// characters) pass CheckText: invalid UTF-8 and what CheckText refuses
// are dropped, and the rest cut to at most max bytes on a character's
// boundary.
func CleanText(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || IsBidiControl(r)) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
