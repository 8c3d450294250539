package messages

import "fmt"

// Error makes *Error a Go error, so that a typed error can travel through Go
// code unchanged and reach the wire or the HTTP API as data. Check for it
// with errors.As.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.GetCode(), e.GetMessage())
}

// Errorf builds a typed error that retrying will not fix.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// TemporaryErrorf builds a typed error that retrying later may fix.
func TemporaryErrorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Temporary: true}
}
