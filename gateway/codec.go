package gateway

import (
	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

var (
	jsonIn  = protojson.UnmarshalOptions{DiscardUnknown: false}
	jsonOut = protojson.MarshalOptions{UseProtoNames: true}
)

// DecodeFrame decodes one websocket frame into an envelope: protobuf for a
// binary frame, protojson for a text frame. A frame that does not decode
// gets a typed BAD_FRAME error; an envelope without a body gets
// UNKNOWN_MESSAGE.
func DecodeFrame(typ websocket.MessageType, data []byte) (*messages.Envelope, *messages.Error) {
	env := &messages.Envelope{}
	var err error
	if typ == websocket.MessageText {
		err = jsonIn.Unmarshal(data, env)
	} else {
		err = proto.Unmarshal(data, env)
	}
	if err != nil {
		return nil, messages.Errorf(messages.ErrorCode_ERROR_CODE_BAD_FRAME, "cannot decode frame: %v", err)
	}
	if env.GetBody() == nil {
		// Unknown fields land here too: a body this version does not know.
		return env, messages.Errorf(messages.ErrorCode_ERROR_CODE_UNKNOWN_MESSAGE, "the envelope carries no message this server knows")
	}
	return env, nil
}

// EncodeFrame encodes an envelope as a frame of the given kind.
func EncodeFrame(typ websocket.MessageType, env *messages.Envelope) ([]byte, error) {
	if typ == websocket.MessageText {
		return jsonOut.Marshal(env)
	}
	return proto.Marshal(env)
}
