package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/actors"
	"github.com/switchboard-chat/switchboard/gateway"
	"github.com/switchboard-chat/switchboard/messages"
)

type demoAgent struct {
	id, login, password, name string
	departments, languages    []string
	max                       uint32
	role                      string // "" is the agent role
}

// The demo directory: what a newcomer needs to try a chat at once.
var (
	demoDepartments = []*messages.Department{
		{Id: "sales", Name: "Sales", ChatEnabled: true},
		{Id: "support", Name: "Support", ChatEnabled: true},
	}
	demoLanguages = []*messages.Language{
		{Code: "en", Name: "English", ChatEnabled: true},
		{Code: "es", Name: "Español", ChatEnabled: true},
	}
	demoAgents = []demoAgent{
		{"alice", "alice@demo", "alice-demo-pw", "Alice", []string{"sales"}, []string{"en"}, 3, ""},
		{"bob", "bob@demo", "bob-demo-pw", "Bob", []string{"support"}, []string{"en", "es"}, 3, ""},
		{"carmen", "carmen@demo", "carmen-demo-pw", "Carmen", []string{"sales", "support"}, []string{"es", "en"}, 2, ""},
		// A supervisor to try monitoring, whispers, take-over and queue
		// control with: an administrator sees and manages every department.
		{"dana", "dana@demo", "dana-demo-pw", "Dana", nil, []string{"en", "es"}, 2, "administrator"},
	}
)

// seedDemo creates, through the same validated path as the admin API, every
// demo record that is absent, and prints the demo credentials.
func (m *Main) seedDemo(ctx context.Context) error {
	view, err := m.broker.DirectoryView()
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, d := range view.GetDepartments() {
		have["d/"+d.GetId()] = true
	}
	for _, l := range view.GetLanguages() {
		have["l/"+l.GetCode()] = true
	}
	for _, a := range view.GetAgents() {
		have["a/"+a.GetId()] = true
	}
	admin := func(cmd *messages.AdminCommand) error {
		cmd.By = actors.CallerAdmin // the operator asked for the demo
		return m.broker.Admin(ctx, cmd)
	}
	for _, d := range demoDepartments {
		if !have["d/"+d.GetId()] {
			if err := admin(&messages.AdminCommand{Body: &messages.AdminCommand_PutDepartment{PutDepartment: d}}); err != nil {
				return err
			}
		}
	}
	for _, l := range demoLanguages {
		if !have["l/"+l.GetCode()] {
			if err := admin(&messages.AdminCommand{Body: &messages.AdminCommand_PutLanguage{PutLanguage: l}}); err != nil {
				return err
			}
		}
	}
	fmt.Fprintln(m.cfg.Out, "Demo directory: departments sales, support; languages en, es. Demo agents:")
	for _, a := range demoAgents {
		if !have["a/"+a.id] {
			hash, err := gateway.HashPassword(a.password, m.cfg.Password)
			if err != nil {
				return err
			}
			rec := &messages.Agent{Id: a.id, Login: a.login, PasswordHash: hash, DisplayName: a.name,
				Departments: a.departments, Languages: a.languages, MaxChats: a.max, ChatAgent: true, Role: a.role}
			if err := admin(&messages.AdminCommand{Body: &messages.AdminCommand_PutAgent{PutAgent: rec}}); err != nil {
				return err
			}
		}
		if a.role != "" {
			fmt.Fprintf(m.cfg.Out, "  %-12s password %-15s %s: supervises and manages every department, up to %d chats\n", a.login, a.password, a.role, a.max)
			continue
		}
		fmt.Fprintf(m.cfg.Out, "  %-12s password %-15s %v, speaks %v, up to %d chats\n", a.login, a.password, a.departments, a.languages, a.max)
	}
	return nil
}

// demoOrigin is the origin the demo customer page is opened at: the
// broker's port under the name localhost, another site for the browser
// than 127.0.0.1, as a customer's domain is.
func demoOrigin(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return "http://localhost:" + port
}

// seedDemoOrigin lists the demo customer page's origin in
// Settings.widget_origins when absent, so the widget may be framed there.
func (m *Main) seedDemoOrigin(ctx context.Context) error {
	set, err := m.broker.Settings()
	if err != nil {
		return err
	}
	origin := demoOrigin(m.Addr())
	if slices.Contains(set.GetWidgetOrigins(), origin) {
		return nil
	}
	next := proto.Clone(set).(*messages.Settings)
	next.WidgetOrigins = append(next.WidgetOrigins, origin)
	return m.broker.Admin(ctx, &messages.AdminCommand{By: actors.CallerAdmin,
		Body: &messages.AdminCommand_PutSettings{PutSettings: next}})
}

// demoPage is the demo customer's page at /demo/: an ordinary page whose
// one line embeds the widget from the broker's own address.
const demoPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo shop</title>
</head>
<body>
<h1>Demo shop</h1>
<p>This page stands for a customer's website at %[2]s. It embeds the chat widget with one line:</p>
<pre>&lt;script src="%[1]s/widget.js" async&gt;&lt;/script&gt;</pre>
<p>Press the button in the corner to chat. Log in to the console at <a href="%[1]s/">%[1]s/</a> as alice@demo (password alice-demo-pw), set yourself available, and answer.</p>
<script src="%[1]s/widget.js" async></script>
</body>
</html>
`

// withDemoPage serves the demo customer page at /demo/ in front of the
// broker's routes.
func withDemoPage(next http.Handler, addr string) http.Handler {
	_, port, _ := net.SplitHostPort(addr)
	broker := "http://127.0.0.1:" + port
	body := fmt.Sprintf(demoPage, broker, demoOrigin(addr))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/demo/" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src "+broker+"; frame-src "+broker+"; base-uri 'none'; form-action 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		fmt.Fprint(w, body)
	})
}
