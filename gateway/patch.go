package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

// The admin API's PATCH routes: a JSON merge patch (RFC 7396) on the
// resource's PUT form. The current record is read, the patch merged into
// it (a key set to null removes that field, an object merges into the
// object, anything else replaces), and the result goes through the very
// PUT handler of the resource, with its checks and its audit entry.
func (s *Server) patchRoutes() {
	s.route("PATCH /admin/departments/{id}", s.admin(s.patch(func(v *messages.DirectoryView, id string) proto.Message {
		return find(v.GetDepartments(), func(x *messages.Department) bool { return x.GetId() == id })
	}, s.putDepartment)))
	s.route("PATCH /admin/languages/{id}", s.admin(s.patch(func(v *messages.DirectoryView, id string) proto.Message {
		return find(v.GetLanguages(), func(x *messages.Language) bool { return x.GetCode() == id })
	}, s.putLanguage)))
	s.route("PATCH /admin/roles/{id}", s.admin(s.patch(func(v *messages.DirectoryView, id string) proto.Message {
		return find(v.GetRoles(), func(x *messages.Role) bool { return x.GetId() == id })
	}, s.putRole)))
	s.route("PATCH /admin/settings", s.admin(s.patch(func(v *messages.DirectoryView, _ string) proto.Message {
		if v.GetSettings() == nil {
			return &messages.Settings{}
		}
		return v.GetSettings()
	}, s.putSettings)))
	s.route("PATCH /admin/agents/{id}", s.admin(s.patchAgent))
}

// protoOut writes a record in the form its PUT reads.
var protoOut = protojson.MarshalOptions{UseProtoNames: true}

// find returns the first x of xs with match, or nil.
func find[T proto.Message](xs []T, match func(T) bool) proto.Message {
	for _, x := range xs {
		if match(x) {
			return x
		}
	}
	return nil
}

// patch serves the PATCH of a directory resource that current finds in
// the directory (nil: there is none, NOT_FOUND).
func (s *Server) patch(current func(*messages.DirectoryView, string) proto.Message, put http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := s.b.DirectoryView()
		if err != nil {
			writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the directory now"))
			return
		}
		cur := current(v, r.PathValue("id"))
		if cur == nil {
			writeError(w, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no %s", r.URL.Path))
			return
		}
		data, err := protoOut.Marshal(cur)
		if err != nil {
			writeError(w, err)
			return
		}
		s.mergeAndPut(w, r, data, put)
	}
}

// patchAgent patches an account's PUT form (AgentInput): the password hash
// is never part of it; "password" sets a new password.
func (s *Server) patchAgent(w http.ResponseWriter, r *http.Request) {
	a, err := s.b.Agent(r.PathValue("id"))
	switch {
	case err != nil:
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read accounts now"))
		return
	case a == nil:
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no agent %q", r.PathValue("id")))
		return
	}
	in := AgentInput{Login: a.GetLogin(), DisplayName: a.GetDisplayName(), Departments: a.GetDepartments(), Languages: a.GetLanguages(),
		MaxChats: a.GetMaxChats(), ChatAgent: a.GetChatAgent(), AutoAccept: a.GetAutoAccept(), Suspended: a.GetSuspended(),
		Role: a.GetRole(), AvatarURL: a.GetAvatarUrl()}
	for _, f := range []struct {
		m   proto.Message
		out *json.RawMessage
	}{{a.GetAccess(), &in.Access}, {a.GetSchedule(), &in.Schedule}} {
		if proto.Size(f.m) > 0 {
			if *f.out, err = protoOut.Marshal(f.m); err != nil {
				writeError(w, err)
				return
			}
		}
	}
	data, err := json.Marshal(in)
	if err != nil {
		writeError(w, err)
		return
	}
	s.mergeAndPut(w, r, data, s.putAgent)
}

// mergeAndPut merges the request's patch into current (JSON) and hands the
// result to put as its body.
func (s *Server) mergeAndPut(w http.ResponseWriter, r *http.Request, current []byte, put http.HandlerFunc) {
	body, err := readBody(r)
	if err != nil {
		writeError(w, err)
		return
	}
	patch, err := decodeAny(body)
	if err != nil {
		writeError(w, err)
		return
	}
	if _, ok := patch.(map[string]any); !ok {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "a merge patch is a JSON object"))
		return
	}
	cur, err := decodeAny(current)
	if err != nil {
		writeError(w, err)
		return
	}
	merged, err := json.Marshal(mergePatch(cur, patch))
	if err != nil {
		writeError(w, err)
		return
	}
	r2 := r.Clone(r.Context())
	r2.Body, r2.ContentLength = io.NopCloser(bytes.NewReader(merged)), int64(len(merged))
	put(w, r2)
}

// decodeAny decodes one JSON value, keeping numbers as written.
func decodeAny(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid JSON body: %v", err)
	}
	if dec.More() {
		return nil, errf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "invalid JSON body: trailing data")
	}
	return v, nil
}

// mergePatch applies a JSON merge patch (RFC 7396) to target and returns
// the result; target may be changed.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}
