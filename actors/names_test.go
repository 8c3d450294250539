package actors

import "testing"

func TestNameString(t *testing.T) {
	for _, c := range []struct {
		n    Name
		want string
	}{
		{Name{KindAgent, "a1"}, "agent/a1"},
		{Name{KindQueue, "sales"}, "queue/sales"},
		{Name{KindChat, "c/with/slash"}, "chat/c/with/slash"},
	} {
		if got := c.n.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestNamesOf(t *testing.T) {
	if got := departmentNames("sales"); len(got) != 2 || got[0].String() != "group/sales" || got[1].String() != "queue/sales" {
		t.Errorf("departmentNames = %v", got)
	}
	if got := agentNames("a1", "a2"); len(got) != 2 || got[0].String() != "agent/a1" || got[1].String() != "agent/a2" {
		t.Errorf("agentNames = %v", got)
	}
}
