package actors

import (
	"slices"
	"strings"

	"github.com/switchboard-chat/switchboard/messages"
)

// Limits on tags: a department lists at most MaxDepartmentTags, a chat
// carries at most MaxChatTags, each tag is 1 to MaxTagBytes of text.
const (
	MaxDepartmentTags = 100
	MaxChatTags       = 20
	MaxTagBytes       = 40
)

// foldTag is tags after ev: the tag added (at the end, once) or removed.
// The chat's summary and its record both fold tags this way.
func foldTag(tags []string, ev *messages.ChatTagged) []string {
	i := slices.Index(tags, ev.GetTag())
	switch {
	case ev.GetRemoved() && i >= 0:
		return slices.Delete(slices.Clone(tags), i, i+1)
	case !ev.GetRemoved() && i < 0:
		return append(slices.Clone(tags), ev.GetTag())
	}
	return tags
}

// checkTag says what is wrong with one tag, as field names it.
func checkTag(field, tag string) *messages.Error {
	switch {
	case tag == "":
		return messages.FieldErrorf(codeInvalid, field, "a tag is 1 to %d bytes; this one is empty", MaxTagBytes)
	case strings.TrimSpace(tag) != tag:
		return messages.FieldErrorf(codeInvalid, field, "tag %q starts or ends with a space", tag)
	}
	if e := CheckText(field, tag, MaxTagBytes); e != nil {
		e.Field = field
		return e
	}
	return nil
}

// checkDepartmentTags checks a department's tags and require_tag.
func checkDepartmentTags(x *messages.Department) *messages.Error {
	tags := x.GetTags()
	if len(tags) > MaxDepartmentTags {
		return refuse("tags", codeInvalid, "a department has at most %d tags", MaxDepartmentTags)
	}
	for i, t := range tags {
		if e := checkTag("tags", t); e != nil {
			return e
		}
		if slices.Index(tags, t) != i {
			return refuse("tags", codeInvalid, "tag %q is listed twice", t)
		}
	}
	if x.GetRequireTag() && len(tags) == 0 {
		return refuse("require_tag", codeInvalid, "require_tag needs at least one tag in tags to choose from")
	}
	return nil
}
