package main

import (
	"context"
	"fmt"

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
