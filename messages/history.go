package messages

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// The history index's posting lists, as ChatHistoryQuery names them in
// all and any: one place for the names that the store writes and its
// callers ask for. A chat is in "all"; in HistoryDepartment for each
// department it has been in; HistoryAgent for each agent who took part;
// HistoryVisitor; HistoryTag for each tag it has; HistoryState;
// HistoryRating; HistoryWord for each word of its text.
const HistoryAll = "all"

func HistoryDepartment(id string) string { return "d=" + id }
func HistoryAgent(id string) string      { return "a=" + id }
func HistoryVisitor(id string) string    { return "v=" + id }
func HistoryTag(tag string) string       { return "g=" + tag }
func HistoryWord(w string) string        { return "w=" + w }
func HistoryState(s ChatState) string    { return "s=" + strconv.Itoa(int(s)) }
func HistoryRating(r RatingScore) string { return "r=" + strconv.Itoa(int(r)) }

// maxWordBytes: longer words (hashes, base64) are not indexed.
const maxWordBytes = 64

// HistoryWords calls fn with each word of text, lower-cased: runs of letters and
// digits, at most maxWordBytes long (longer ones are skipped).
func HistoryWords(text string, fn func(string)) {
	start := -1
	emit := func(end int) {
		if start >= 0 && end-start <= maxWordBytes {
			fn(strings.ToLower(text[start:end]))
		}
		start = -1
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		emit(i)
	}
	emit(len(text))
}

// HistoryQueryWords splits a search into the words the index has: what a search
// for q matches is the chats that have every one of them.
func HistoryQueryWords(q string) []string {
	var out []string
	HistoryWords(q, func(w string) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	})
	return out
}
