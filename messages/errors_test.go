package messages

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func TestErrorsQuotingBadUTF8StillEncode(t *testing.T) {
	e := Errorf(ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "no language %q or %s", "\xff", "\xfe")
	if _, err := proto.Marshal(e); err != nil {
		t.Fatal(err)
	}
	if _, err := protojson.Marshal(TemporaryErrorf(ErrorCode_ERROR_CODE_NOT_FOUND, "%s", "a\xc0b")); err != nil {
		t.Fatal(err)
	}
}
