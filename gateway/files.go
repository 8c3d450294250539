package gateway

// Attachments over HTTP: a chat's visitor (resume token) or staff
// (session token) upload a file; its bytes are checked (size, sniffed
// type), stored in Pebble under the chat's prefix, and only then linked
// into the chat as a ChatAttachment event by the chat's actor. The bytes
// never pass through an actor, so an upload does not hold up the chat's
// other messages. Files are served to whoever may read the chat.

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// fileCSP is the Content-Security-Policy of a served file: nothing in it
// runs or loads anything, even when a browser opens it as a page.
const fileCSP = "default-src 'none'; img-src 'self'; sandbox"

// maxFileName bounds a file's name as kept, in bytes.
const maxFileName = 255

// inlineTypes are shown in the page (pictures); every other file is a
// download.
var inlineTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}

// uploadRoute is the one route whose body may be larger than
// maxBodyBytes (up to MaxAttachmentBytes: see ServeHTTP).
const uploadRoute = "POST /api/chats/{id}/files"

func (s *Server) fileRoutes() {
	s.route(uploadRoute, s.uploadFile)
	s.route("GET /api/chats/{id}/files/{file}", s.serveFile)
	s.route("GET /api/chats/{id}/visitor", s.visitorInfo)
}

// uploadFile: POST /api/chats/{id}/files?name=<file name>, the file's
// bytes as the body. Answered 201 with the attachment once it is stored
// and linked into the chat.
func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request) {
	c, e := s.chatCaller(r)
	if e == nil && c.admin {
		e = errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "the admin credential takes no part in chats; send files as a participant")
	}
	if e == nil && c.agent != nil && !c.perms.Has(actors.PermAttach) {
		e = errf(messages.ErrorCode_ERROR_CODE_FORBIDDEN, "your role may not send files (%s)", actors.PermAttach)
		s.audit(s.clientAddr(r), "permission.denied", c.agent.GetId(), r.PathValue("id"), e.GetMessage(), false)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	chatID := r.PathValue("id")
	if !actors.ValidID(chatID) {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no chat %q", chatID))
		return
	}
	// Whether the caller may send a file to this chat now, before a byte
	// of it is read: a refused upload stores nothing. A visitor's files
	// share the chat requests' budget per address (30 a minute by
	// default), so one address cannot fill the disk in a loop.
	addr := s.clientAddr(r)
	if c.agent == nil && !s.addrs.allowChat(addr, s.b.Now()) {
		s.cfg.Metrics.limit(limitChatRequests)
		writeError(w, rateLimited("too many files and chat requests from your address; try again in a minute"))
		return
	}
	if _, err := s.b.AttachFile(r.Context(), chatID, c.who, addr, &messages.AttachFile{Check: true}); err != nil {
		writeError(w, err)
		return
	}
	data, ctype, e := s.readFile(r)
	if e != nil {
		if e.GetField() == "content_type" {
			writeProto(w, http.StatusUnsupportedMediaType, e)
		} else {
			writeError(w, e)
		}
		return
	}
	f := &messages.StoredFile{ChatId: chatID, FileId: actors.NewID('f', s.b.Now()), Name: fileName(r.URL.Query().Get("name")),
		ContentType: ctype, Size: uint64(len(data)), AtMs: s.b.Now().UnixMilli(), From: c.who}
	if err := s.b.PutFile(f, data); err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "the file could not be stored; try again"))
		return
	}
	ack, err := s.b.AttachFile(r.Context(), chatID, c.who, addr, &messages.AttachFile{FileId: f.GetFileId(), Name: f.GetName(),
		ContentType: ctype, Size: f.GetSize()})
	if err != nil {
		// Not linked (the chat closed meanwhile): not kept either.
		if derr := s.b.DeleteFile(chatID, f.GetFileId()); derr != nil {
			s.cfg.Logger.Warn("attachment: delete an unlinked file", "chat", chatID, "file", f.GetFileId(), "err", derr)
		}
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, uploadAnswer{FileID: f.GetFileId(), Name: f.GetName(), ContentType: ctype, Size: f.GetSize(),
		Seq: ack.GetSeq(), URL: "/api/chats/" + chatID + "/files/" + f.GetFileId()})
}

type uploadAnswer struct {
	FileID      string `json:"file_id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        uint64 `json:"size"`
	Seq         uint64 `json:"seq"`
	URL         string `json:"url"`
}

// readFile reads an upload's body within MaxAttachmentBytes and sniffs its
// type; a refusal names the size (TOO_LARGE) or the type (field
// content_type).
func (s *Server) readFile(r *http.Request) ([]byte, string, *messages.Error) {
	max := s.cfg.MaxAttachmentBytes
	tooLarge := messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_TOO_LARGE, "size", "a file may be at most %d bytes", max)
	if r.ContentLength > max {
		return nil, "", tooLarge
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || int64(len(data)) > max:
		return nil, "", tooLarge
	case err != nil:
		return nil, "", errf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "cannot read the file: %v", err)
	case len(data) == 0:
		return nil, "", messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "size", "the file is empty")
	}
	ctype, e := s.fileType(data)
	if e != nil {
		return nil, "", e
	}
	return data, ctype, nil
}

// fileType is the one check of a file's type, for uploads and channels'
// inbound media alike: the type sniffed from its bytes (never the one
// claimed), refused (field content_type) unless in AttachmentTypes.
func (s *Server) fileType(data []byte) (string, *messages.Error) {
	ctype, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	if !slices.Contains(s.cfg.AttachmentTypes, ctype) {
		return ctype, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "content_type",
			"files of type %s are not accepted; accepted: %s", ctype, strings.Join(s.cfg.AttachmentTypes, ", "))
	}
	return ctype, nil
}

// fileName is a client's file name made safe to keep and show: its last
// path element, without control or bidi characters, at most maxFileName
// bytes; "file" when nothing is left.
func fileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || actors.IsBidiControl(r) || r == '"' {
			return -1
		}
		return r
	}, name)
	for len(name) > maxFileName {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	if name = strings.TrimSpace(name); name == "" || name == "." || name == "/" || name == ".." {
		return "file"
	}
	return name
}

// serveFile: GET /api/chats/{id}/files/{file}, to whoever may read the
// chat. Pictures show inline, anything else downloads; nothing in a file
// runs (nosniff, a sandboxing CSP).
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	c, e := s.chatCaller(r)
	if e != nil {
		writeError(w, e)
		return
	}
	if _, ok := s.readChat(w, r, c); !ok {
		return
	}
	f, err := s.b.File(r.PathValue("id"), r.PathValue("file"))
	if err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the file now"))
		return
	}
	if f == nil {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no file %q in chat %q", r.PathValue("file"), r.PathValue("id")))
		return
	}
	disposition := "attachment"
	if slices.Contains(inlineTypes, f.GetContentType()) {
		disposition = "inline"
	}
	h := w.Header()
	h.Set("Content-Type", f.GetContentType())
	h.Set("Content-Length", strconv.FormatUint(f.GetSize(), 10))
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.GetName()}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", fileCSP)
	h.Set("Cache-Control", "private, no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if err := s.b.EachFileChunk(f, func(b []byte) error { _, err := w.Write(b); return err }); err != nil {
		s.cfg.Logger.Warn("attachment: serve", "chat", f.GetChatId(), "file", f.GetFileId(), "err", err)
	}
}

// visitorInfo: GET /api/chats/{id}/visitor, the context of the chat's
// visitor, for the staff who may read the chat (never for visitors).
func (s *Server) visitorInfo(w http.ResponseWriter, r *http.Request) {
	c, e := s.staffCaller(r)
	if e != nil {
		writeError(w, e)
		return
	}
	rec, ok := s.readChat(w, r, c)
	if !ok {
		return
	}
	vid := chatVisitor(rec)
	info, err := s.b.VisitorContext(vid)
	if err != nil {
		writeError(w, messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read the visitor now"))
		return
	}
	if info == nil {
		info = &messages.VisitorContext{VisitorId: vid}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeProto(w, http.StatusOK, info)
}
