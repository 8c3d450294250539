package actors

import (
	"slices"
	"strings"

	"github.com/switchboard-chat/switchboard/messages"
)

// Limits on canned replies: a text is at most MaxCannedBytes; a
// department, and each agent, keeps at most MaxCannedPerScope.
const (
	MaxCannedBytes    = 4 << 10
	MaxCannedPerScope = 200
	maxShortcutBytes  = 32
)

// The placeholders a canned reply's text may hold, filled in when it is
// expanded for a chat.
const (
	PlaceholderVisitor    = "{visitor.name}"
	PlaceholderAgent      = "{agent.name}"
	PlaceholderDepartment = "{department.name}"
)

var placeholders = []string{PlaceholderVisitor, PlaceholderAgent, PlaceholderDepartment}

// validShortcut: 1-32 of a-z 0-9 - _, starting with a letter or digit.
func validShortcut(s string) bool {
	return len(s) <= maxShortcutBytes && ValidName(s) && !strings.Contains(s, ".")
}

// CheckCanned checks a canned reply as stored: its scope (exactly one of
// department and agent_id), its shortcut and its text, whose placeholders
// must all be known. The error names the field.
func CheckCanned(r *messages.CannedReply) *messages.Error {
	switch {
	case (r.GetDepartment() == "") == (r.GetAgentId() == ""):
		return refuse("department", codeInvalid, "a canned reply belongs to a department or to an agent (agent_id), one of them")
	case !validShortcut(r.GetShortcut()):
		return refuse("shortcut", codeInvalid, "a shortcut is 1-%d of a-z 0-9 - _ (written without the #)", maxShortcutBytes)
	case strings.TrimSpace(r.GetText()) == "":
		return refuse("text", codeInvalid, "text is empty")
	}
	if e := CheckText("text", r.GetText(), MaxCannedBytes); e != nil {
		e.Field = "text"
		return e
	}
	if p := unknownPlaceholder(r.GetText()); p != "" {
		return refuse("text", codeInvalid, "unknown placeholder %s; the placeholders are %s", p, strings.Join(placeholders, ", "))
	}
	return nil
}

// unknownPlaceholder is the first {name} in text (name: letters, digits,
// '.' and '_') that is not a placeholder, or "". Other braces are text.
func unknownPlaceholder(text string) string {
	for i := strings.IndexByte(text, '{'); i >= 0; {
		rest := text[i:]
		if end := strings.IndexByte(rest, '}'); end > 1 && isPlaceholderName(rest[1:end]) {
			if p := rest[:end+1]; !slices.Contains(placeholders, p) {
				return p
			}
		}
		next := strings.IndexByte(text[i+1:], '{')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return ""
}

func isPlaceholderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// CannedVars are what a canned reply's placeholders stand for in one chat.
type CannedVars struct {
	Visitor, Agent, Department string
}

// ExpandCanned fills in text's placeholders (in one pass: a value that
// looks like a placeholder stays as it is).
func ExpandCanned(text string, v CannedVars) string {
	return strings.NewReplacer(PlaceholderVisitor, v.Visitor, PlaceholderAgent, v.Agent, PlaceholderDepartment, v.Department).Replace(text)
}

// effectiveCanned is the replies an agent uses in a department: their own,
// and the department's whose shortcut is not one of their own (their own
// replaces it).
func effectiveCanned(own, dept []*messages.CannedReply) []*messages.CannedReply {
	out := append([]*messages.CannedReply(nil), own...)
	mine := map[string]bool{}
	for _, r := range own {
		mine[r.GetShortcut()] = true
	}
	for _, r := range dept {
		if !mine[r.GetShortcut()] {
			out = append(out, r)
		}
	}
	return out
}
