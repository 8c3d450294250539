package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/messages"
)

// The webhook routes (issue 19): endpoints that get a live chat's events,
// signed (gateway/hooks), from the delivery outbox (actors/deliver_*.go).
// Each endpoint's record is written by its own outbox actor; its secret
// is write-only. Admin permission; every change audited.

func (s *Server) webhookRoutes() {
	s.route("GET /admin/webhooks", s.admin(s.listWebhooks))
	s.route("POST /admin/webhooks", s.admin(s.createWebhook))
	s.route("GET /admin/webhooks/{id}", s.admin(s.getWebhook))
	s.route("PUT /admin/webhooks/{id}", s.admin(s.putWebhook))
	s.route("DELETE /admin/webhooks/{id}", s.admin(s.deleteWebhook))
	s.route("GET /admin/webhooks/{id}/deliveries", s.admin(s.webhookDeliveries))
	s.route("POST /admin/webhooks/{id}/test", s.admin(s.testWebhook))
}

// webhookIn is an endpoint as the API takes it: enabled absent means
// true for a new endpoint and unchanged for a replaced one; secret absent
// keeps the stored one while the url stays (actors.KeepSecret).
type webhookIn struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Secret      string   `json:"secret"`
	LiveChat    string   `json:"live_chat"`
	Events      []string `json:"events"`
	Enabled     *bool    `json:"enabled"`
	Description string   `json:"description"`
}

func (in *webhookIn) endpoint(enabled bool) *messages.WebhookEndpoint {
	if in.Enabled != nil {
		enabled = *in.Enabled
	}
	return &messages.WebhookEndpoint{Id: in.ID, Url: strings.TrimSpace(in.URL), Secret: in.Secret, LiveChat: in.LiveChat,
		Events: in.Events, Enabled: enabled, Description: in.Description}
}

func unavailable(what string) *messages.Error {
	return messages.TemporaryErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "cannot read %s now; try again", what)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	hs, err := s.b.Webhooks()
	if err != nil {
		writeError(w, unavailable("the webhooks"))
		return
	}
	writeProto(w, http.StatusOK, &messages.WebhookList{Webhooks: hs})
}

// webhook is the endpoint of the path's id, or a typed error written.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) (*messages.WebhookEndpoint, bool) {
	id := r.PathValue("id")
	if e := actors.CheckWebhookID(id); e != nil {
		writeError(w, e)
		return nil, false
	}
	h, err := s.b.WebhookByID(id)
	switch {
	case err != nil:
		writeError(w, unavailable("the webhook"))
		return nil, false
	case h == nil:
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "no webhook %s", id))
		return nil, false
	}
	return h, true
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	if h, ok := s.webhook(w, r); ok {
		writeProto(w, http.StatusOK, h)
	}
}

// createWebhook is POST /admin/webhooks: a new endpoint (id given or
// made), 201 with it.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookIn
	if !readJSON(w, r, &in) {
		return
	}
	if in.ID == "" {
		in.ID = actors.NewID('h', s.b.Now())
	}
	s.runWebhook(w, r, in.ID, "admin.webhook.create", http.StatusCreated,
		&messages.WebhookCommand{Create: true, Body: &messages.WebhookCommand_Put{Put: in.endpoint(true)}})
}

// putWebhook is PUT /admin/webhooks/{id}: the endpoint replaced (enabling
// it again resumes its waiting deliveries).
func (s *Server) putWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookIn
	if !readJSON(w, r, &in) {
		return
	}
	id := r.PathValue("id")
	if in.ID != "" && in.ID != id {
		writeError(w, messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "id", "the id in the body differs from the path"))
		return
	}
	in.ID = id
	cur, ok := s.webhook(w, r)
	if !ok {
		return
	}
	s.runWebhook(w, r, id, "admin.webhook.put", http.StatusOK,
		&messages.WebhookCommand{Body: &messages.WebhookCommand_Put{Put: in.endpoint(cur.GetEnabled())}})
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if e := actors.CheckWebhookID(id); e != nil {
		writeError(w, e)
		return
	}
	if s.runWebhook(w, r, id, "admin.webhook.delete", 0, &messages.WebhookCommand{Body: &messages.WebhookCommand_Delete{Delete: true}}) {
		w.WriteHeader(http.StatusNoContent)
	}
}

// runWebhook runs cmd on endpoint id's actor, audits it, and answers the
// endpoint with status (0: the caller answers).
func (s *Server) runWebhook(w http.ResponseWriter, r *http.Request, id, kind string, status int, cmd *messages.WebhookCommand) bool {
	cmd.By = caller(r)
	var h *messages.WebhookEndpoint
	err := s.checkWebhookLiveChat(cmd.GetPut().GetLiveChat())
	if err == nil {
		h, err = s.b.Webhook(r.Context(), id, cmd)
	}
	if err != nil {
		s.audit(s.clientAddr(r), kind, caller(r), id, err.Error(), false)
		writeError(w, err)
		return false
	}
	detail := ""
	if h != nil {
		detail = webhookDetail(h)
	}
	s.audit(s.clientAddr(r), kind, caller(r), id, detail, true)
	if status != 0 {
		writeProto(w, status, h)
	}
	return true
}

// webhookDetail is what the audit log says of an endpoint (never its
// secret).
func webhookDetail(h *messages.WebhookEndpoint) string {
	on := "disabled"
	if h.GetEnabled() {
		on = "enabled"
	}
	return on + " " + h.GetUrl() + " live_chat=" + orAll(h.GetLiveChat()) + " events=" + orAll(strings.Join(h.GetEvents(), ","))
}

func orAll(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// webhookDeliveries is GET /admin/webhooks/{id}/deliveries: the
// endpoint's last tries (actors.DeliveryLogSize at most), newest first.
func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request) {
	h, ok := s.webhook(w, r)
	if !ok {
		return
	}
	log, err := s.b.WebhookLog(h.GetId())
	if err != nil {
		writeError(w, unavailable("the delivery log"))
		return
	}
	slices.Reverse(log.Attempts)
	writeProto(w, http.StatusOK, log)
}

// testWebhook is POST /admin/webhooks/{id}/test: one webhook.test event
// posted at once to the endpoint, signed with its secret; the answer
// says what the receiver answered.
func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) {
	h, ok := s.webhook(w, r)
	if !ok {
		return
	}
	if s.cfg.PostWebhook == nil {
		writeError(w, errf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "this broker posts no webhooks"))
		return
	}
	secret, err := s.b.WebhookSecret(h.GetId())
	if err != nil {
		writeError(w, unavailable("the webhook"))
		return
	}
	now := s.b.Now()
	d := &messages.Delivery{Id: "test/" + actors.NewID('t', now), Type: messages.EventWebhookTest, AtMs: now.UnixMilli(),
		Conversation: "test", Target: messages.WebhookTarget(h.GetId()), LiveChat: h.GetLiveChat()}
	ctx, cancel := context.WithTimeout(r.Context(), testTimeout)
	defer cancel()
	status, perr := s.cfg.PostWebhook(ctx, h.GetUrl(), secret, d)
	if perr != nil {
		e := probeError("url", "the endpoint did not take the test event", perr)
		if errors.Is(perr, context.DeadlineExceeded) {
			e = messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_UNAVAILABLE, "url", "the endpoint did not answer in %s", testTimeout)
		}
		s.audit(s.clientAddr(r), "admin.webhook.test", caller(r), h.GetId(), e.GetMessage(), false)
		writeError(w, e)
		return
	}
	s.audit(s.clientAddr(r), "admin.webhook.test", caller(r), h.GetId(), "delivered", true)
	writeJSON(w, http.StatusOK, map[string]any{"id": d.GetId(), "status": status, "message": "the endpoint took the test event"})
}

// checkWebhookLiveChat refuses a live_chat filter naming no live chat
// (the webhook's actor checks its form; the live chats are the
// directory's). Empty: every live chat.
func (s *Server) checkWebhookLiveChat(id string) error {
	if id == "" || !actors.ValidName(id) {
		return nil
	}
	x, err := s.b.LiveChat(id)
	switch {
	case err != nil:
		return unavailable("the live chats")
	case x == nil:
		return messages.FieldErrorf(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT, "live_chat", "no live chat %q (as for a department)", id)
	}
	return nil
}
