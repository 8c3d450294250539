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
