package actors

// KeepSecret is the one rule for a write-only secret (an HMAC key, a
// token, a password) that the API never shows: an empty given one keeps
// the stored one, but only while the address it is used with (a URL, a
// server, a phone number) is unchanged, so that a secret never follows a
// changed address. It returns the secret to store.
func KeepSecret(given, stored string, sameAddress bool) string {
	if given == "" && sameAddress {
		return stored
	}
	return given
}
