package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/switchboard-chat/switchboard/messages"
)

var benchLanguages = []string{"en", "es", "de", "fr", "sv"}

// benchAgent is one agent of the harness's directory, with the department
// and language its "own" visitors ask for: every agent brings at most as
// many chats to a pool it belongs to as it can take, so every chat of a
// message phase finds an agent.
type benchAgent struct {
	ID, Login, Password string
	Departments         []string
	Languages           []string
	MaxChats            int
	HomeDept, HomeLang  string
}

func benchDirectory(p Profile, password string) (depts []string, agents []benchAgent) {
	for i := 0; i < p.Departments; i++ {
		if i < len(p.DepartmentNames) {
			depts = append(depts, p.DepartmentNames[i])
		} else {
			depts = append(depts, fmt.Sprintf("bench-d%d", i))
		}
	}
	langs := benchLanguages[:p.Languages]
	for i := 0; i < p.Agents; i++ {
		a := benchAgent{ID: fmt.Sprintf("bench-a%04d", i), Password: password, MaxChats: 2 + i%4,
			Departments: []string{depts[i%len(depts)]}, Languages: []string{langs[0]}}
		a.Login = a.ID + "@bench.invalid"
		if i%3 == 1 && len(depts) > 1 {
			a.Departments = append(a.Departments, depts[(i+1)%len(depts)])
		}
		for k := 1; k < len(langs); k++ {
			if i%(k+1) == 1 {
				a.Languages = append(a.Languages, langs[k])
			}
		}
		a.HomeDept = a.Departments[0]
		a.HomeLang = a.Languages[(i/len(depts))%len(a.Languages)]
		agents = append(agents, a)
	}
	return depts, agents
}

// admin is a small client of the broker's admin API.
type admin struct {
	base, token string
}

func (a admin) put(ctx context.Context, path string, body any) error {
	data, err := json.Marshal(body)
	if raw, ok := body.(rawJSON); ok {
		data, err = []byte(raw), nil
	}
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, a.base+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT %s: %s: %s", path, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// setUp creates the harness's departments, languages and agents, then logs
// every agent in and makes them available.
func (r *runner) setUp(ctx context.Context) error {
	r.phase.Store("setup")
	pw := make([]byte, 12)
	rand.Read(pw)
	depts, agents := benchDirectory(r.cfg.Profile, "pw-"+hex.EncodeToString(pw))
	ad := admin{base: "http://" + r.addr, token: r.adminToken}
	for _, l := range benchLanguages[:r.cfg.Profile.Languages] {
		if err := ad.put(ctx, "/admin/languages/"+l, map[string]any{"name": l, "chat_enabled": true}); err != nil {
			return err
		}
	}
	for _, d := range depts {
		if err := ad.put(ctx, "/admin/departments/"+d, benchDepartment(d, 30*time.Second)); err != nil {
			return err
		}
	}
	err := parallel(ctx, len(agents), 8, func(i int) error {
		a := agents[i]
		return ad.put(ctx, "/admin/agents/"+a.ID, map[string]any{"login": a.Login, "password": a.Password,
			"display_name": "Bench " + a.ID, "departments": a.Departments, "languages": a.Languages,
			"max_chats": a.MaxChats, "chat_agent": true})
	})
	if err != nil {
		return err
	}
	r.agentDefs = agents
	r.agents = make([]*peer, len(agents))
	return parallel(ctx, len(agents), 8, func(i int) error {
		p := r.sim.newPeer(kindAgent)
		if err := p.connect(ctx, "/ws/agent", &messages.Hello{Login: agents[i].Login, Password: agents[i].Password}); err != nil {
			return fmt.Errorf("agent %s: %w", agents[i].ID, err)
		}
		if _, err := p.call(ctx, &messages.Envelope{Body: &messages.Envelope_SetStatus{SetStatus: &messages.SetStatus{
			Status: messages.AgentStatus_AGENT_STATUS_AVAILABLE}}}); err != nil {
			return fmt.Errorf("agent %s: set status: %w", agents[i].ID, err)
		}
		r.agents[i] = p
		return nil
	})
}

// parallel runs f(0..n-1) on up to workers goroutines and returns the
// first error.
func parallel(ctx context.Context, n, workers int, f func(i int) error) error {
	jobs := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// benchDepartment is a bench department's settings, with its offer
// timeout.
func benchDepartment(id string, offerTimeout time.Duration) map[string]any {
	return map[string]any{"name": id, "chat_enabled": true, "queue_limit": 100000, "offer_timeout_ms": offerTimeout.Milliseconds()}
}
