package hmacsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"text":"hi"}`)
	now := time.Unix(1_800_000_000, 0)
	h := http.Header{}
	SetHeaders(h, secret, now, body)
	// The documented scheme, computed by hand.
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("1800000000." + string(body)))
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); h.Get(HeaderSignature) != want {
		t.Fatalf("signature %q, want %q", h.Get(HeaderSignature), want)
	}
	for _, c := range []struct {
		name   string
		secret string
		body   string
		now    time.Time
		want   error
	}{
		{"good", "s3cret", string(body), now, nil},
		{"late within skew", "s3cret", string(body), now.Add(MaxSkew), nil},
		{"replayed", "s3cret", string(body), now.Add(MaxSkew + time.Second), ErrStale},
		{"from the future", "s3cret", string(body), now.Add(-MaxSkew - time.Second), ErrStale},
		{"other body", "s3cret", `{"text":"hI"}`, now, ErrSignature},
		{"other secret", "other", string(body), now, ErrSignature},
		{"no secret", "", string(body), now, ErrSignature},
	} {
		if err := Verify(h, []byte(c.secret), []byte(c.body), c.now); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if err := Verify(http.Header{}, secret, body, now); !errors.Is(err, ErrStale) {
		t.Errorf("no headers: %v", err)
	}
}

func TestVerifyBody(t *testing.T) {
	secret, body := []byte("app"), []byte(`{"object":"whatsapp_business_account"}`)
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	good := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if err := VerifyBody(good, secret, body); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "sha256=", good[7:], good + "00", "sha1=" + good[7:]} {
		if VerifyBody(bad, secret, body) == nil {
			t.Errorf("%q verified", bad)
		}
	}
	if VerifyBody(good, secret, append(body, ' ')) == nil {
		t.Error("a changed body verified")
	}
}
