package messages

import (
	"fmt"
	"strings"
)

// Error makes *Error a Go error, so that a typed error can travel through Go
// code unchanged and reach the wire or the HTTP API as data. Check for it
// with errors.As.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.GetCode(), e.GetMessage())
}

// Errorf builds a typed error that retrying will not fix.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: message(format, args)}
}

// FieldErrorf builds a typed error about one field of what was sent
// (its JSON name, nested with dots), that retrying will not fix.
func FieldErrorf(code ErrorCode, field, format string, args ...any) *Error {
	return &Error{Code: code, Message: message(format, args), Field: field}
}

// TemporaryErrorf builds a typed error that retrying later may fix.
func TemporaryErrorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: message(format, args), Temporary: true}
}

// message formats an error message as valid UTF-8: it often quotes what
// the client sent, and protobuf strings must be UTF-8 or the error itself
// cannot be encoded (found by FuzzAdminAPI).
func message(format string, args []any) string {
	return strings.ToValidUTF8(fmt.Sprintf(format, args...), "\uFFFD")
}
