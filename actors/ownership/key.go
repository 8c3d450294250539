package ownership

import (
	"errors"
	"fmt"
	"strings"
)

// Key returns the etcd key that records who owns the actor kind/id:
// Prefix + kind + "/" + id. A kind never holds a "/", so a key splits
// back into kind and id unambiguously (an id may hold one). It returns an
// *Error with ErrInvalidKey for an empty kind or id, or a kind with a
// "/".
func (d *Directory) Key(kind, id string) (string, error) {
	return key(d.cfg.Prefix, "key", kind, id)
}

// key is Key for the call op, which names the call in the error.
func key(prefix, op, kind, id string) (string, error) {
	var why string
	switch {
	case kind == "":
		why = "empty kind"
	case strings.Contains(kind, "/"):
		why = fmt.Sprintf("kind %q holds a /", kind)
	case id == "":
		why = fmt.Sprintf("empty id (kind %q)", kind)
	default:
		return prefix + kind + "/" + id, nil
	}
	return "", &Error{Op: op, Code: ErrInvalidKey, Cause: errors.New(why)}
}
