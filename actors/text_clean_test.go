package actors

import (
	"strings"
	"testing"
)

// TestCleanText: what CleanText leaves passes CheckText, keeps the text's
// letters, and is cut on a character's boundary.
func TestCleanText(t *testing.T) {
	for _, c := range []struct {
		in, want string
		max      int
	}{
		{"\u200fשלום\u200e world\u061c\a", "שלום world", 100},
		{"line\r\nnext\ttab\x1b[2J", "line\nnext\ttab[2J", 100},
		{"bad \xff utf8", "bad  utf8", 100},
		{"a" + strings.Repeat("é", 10), "a" + strings.Repeat("é", 4), 10},
		{"\u202egnp.exe", "gnp.exe", 100},
	} {
		got := CleanText(c.in, c.max)
		if got != c.want || CheckText("x", got, c.max) != nil {
			t.Errorf("CleanText(%q, %d) = %q, want %q (%v)", c.in, c.max, got, c.want, CheckText("x", got, c.max))
		}
	}
}
