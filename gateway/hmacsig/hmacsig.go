package hmacsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed request.
const (
	HeaderTimestamp = "X-Switchboard-Timestamp"
	HeaderSignature = "X-Switchboard-Signature"
)

// MaxSkew is how far a signed request's timestamp may be from the
// receiver's clock, either way.
const MaxSkew = 5 * time.Minute

// Errors of Verify. ErrStale: the timestamp is missing, malformed or
// further than MaxSkew from now. ErrSignature: the signature is missing
// or does not match.
var (
	ErrStale     = errors.New("hmacsig: the timestamp is missing or further than 5 minutes from now")
	ErrSignature = errors.New("hmacsig: the signature does not match")
)

// Sign returns the X-Switchboard-Signature value of body sent at ts.
func Sign(secret []byte, ts time.Time, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, strconv.FormatInt(ts.Unix(), 10), body))
}

// SetHeaders signs body into h, stamped at ts.
func SetHeaders(h http.Header, secret []byte, ts time.Time, body []byte) {
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Sign(secret, ts, body))
}

// Verify checks a request's headers against its raw body and now.
func Verify(h http.Header, secret []byte, body []byte, now time.Time) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrStale
	}
	if d := now.Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrStale
	}
	got, ok := strings.CutPrefix(h.Get(HeaderSignature), "sha256=")
	sig, err := hex.DecodeString(got)
	if !ok || err != nil || len(secret) == 0 || !hmac.Equal(sig, mac(secret, ts, body)) {
		return ErrSignature
	}
	return nil
}

// VerifyBody checks a bare body signature "sha256=<hex HMAC-SHA256(secret,
// body)>", with no timestamp (WhatsApp's X-Hub-Signature-256).
func VerifyBody(header string, secret []byte, body []byte) error {
	got, ok := strings.CutPrefix(header, "sha256=")
	sig, err := hex.DecodeString(got)
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	if !ok || err != nil || len(secret) == 0 || !hmac.Equal(sig, m.Sum(nil)) {
		return ErrSignature
	}
	return nil
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
