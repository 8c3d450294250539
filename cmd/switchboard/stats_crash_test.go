package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// agentTimeFields are the figures of agents' time: they run on with the
// clock after the scenario (agents offline since the restart), so two
// reads at different times differ there and nowhere else.
var agentTimeFields = []string{"available_s", "away_s", "draining_s", "offline_s", "chats_at_once_avg", "occupancy"}

// chatFigures reads /api/stats of everything for q, without the agents'
// time, as a comparable map.
func chatFigures(t *testing.T, addr string, q url.Values) map[string]any {
	t.Helper()
	code, body := statsJSON(t, addr, testAdminToken, q)
	if code != http.StatusOK {
		t.Fatalf("GET /api/stats: %d %s", code, body)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	strip := func(f any) {
		for _, k := range agentTimeFields {
			delete(f.(map[string]any), k)
		}
	}
	strip(out["total"])
	for _, b := range out["buckets"].([]any) {
		strip(b)
	}
	return out
}

// TestStatsExactAfterKill9: the scenario runs on a broker child process,
// which is killed with SIGKILL as soon as the last rating is acknowledged
// (the projection gathers for a quarter of a second after a commit, so it
// is most likely behind). After the restart, the figures are the
// scenario's, and equal those `switchboard reindex` rebuilds from the
// logs: what the crash cut short was redone, nothing twice.
func TestStatsExactAfterKill9(t *testing.T) {
	dir := t.TempDir()
	ch := startChild(t, dir)
	start := time.Now()
	statsScenario(t, ch.addr, func(time.Duration) {})
	ch.kill()
	end := time.Now()

	q := url.Values{"from": {start.Truncate(15 * time.Minute).Add(-time.Hour).UTC().Format(time.RFC3339)},
		"to": {end.Truncate(15 * time.Minute).Add(15 * time.Minute).UTC().Format(time.RFC3339)}, "tz": {"UTC"}, "bucket": {"hour"}}
	ch = startChild(t, dir)
	var after map[string]any
	eventually(t, "the scenario's figures after the restart", func() bool {
		after = chatFigures(t, ch.addr, q)
		tot := after["total"].(map[string]any)
		return tot["rated_bad"] == 1.0 && tot["closed"] == 3.0
	})
	tot := after["total"].(map[string]any)
	for k, want := range map[string]float64{"requested": 4, "queued": 3, "assigned": 3, "missed": 1, "closed": 3, "transferred_in": 1,
		"transferred_out": 1, "waits": 3, "first_responses": 2, "handled": 3, "visitor_messages": 4, "staff_messages": 2,
		"offers_declined": 1, "rated_good": 1, "rated_bad": 1, "chats_at_once_peak": 1} {
		if tot[k] != want {
			t.Errorf("after the crash, %s = %v, want %v (total %v)", k, tot[k], want, tot)
		}
	}
	// A later answer target changes no past figure: each wait was judged
	// by the target when it ended, which its event carries.
	mustAdmin(t, ch.addr, "PATCH", "/admin/departments/sales", map[string]any{"answer_target_s": 5})
	ch.kill()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SWITCHBOARD_TEST_CHILD=1", "SWITCHBOARD_TEST_ARGS=reindex -data "+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "reindexed") {
		t.Fatalf("switchboard reindex: %v\n%s", err, out)
	}
	ch = startChild(t, dir)
	rebuilt := chatFigures(t, ch.addr, q)
	a, _ := json.Marshal(after)
	b, _ := json.Marshal(rebuilt)
	if string(a) != string(b) {
		t.Fatalf("the figures kept across the crash differ from those rebuilt from the logs:\n kept   %s\n rebuilt %s", a, b)
	}
}
