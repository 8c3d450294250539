package actors

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// NewID returns a fresh id: prefix, 12 hex digits of milliseconds since the
// epoch (so ids sort by creation time), then 16 random hex digits.
func NewID(prefix byte, now time.Time) string {
	var buf [14]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		buf[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(buf[6:]); err != nil {
		panic("actors: no randomness: " + err.Error())
	}
	return string(prefix) + hex.EncodeToString(buf[:])
}

// ValidID reports whether s is a well-formed generated id (see NewID).
// Commands naming any other chat id are refused before an actor is touched.
func ValidID(s string) bool {
	if len(s) != 29 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ValidName reports whether s may name a department or a staff account:
// 1 to 64 of a-z, 0-9, '-', '_' and '.', starting with a letter or digit.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '-' || c == '_' || c == '.')
		if !ok {
			return false
		}
	}
	return true
}
