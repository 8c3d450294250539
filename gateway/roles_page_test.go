package gateway

import (
	"os"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/actors"
)

// The console's roles page offers every permission the broker knows: a
// permission missing there could not be granted from the console, and a
// saved role would lose it.
func TestRolesPageListsEveryPermission(t *testing.T) {
	src, err := os.ReadFile("web/console/admin/roles.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range actors.AllPermissions {
		if !strings.Contains(string(src), "['"+string(p)+"',") {
			t.Errorf("the roles page does not offer %s", p)
		}
	}
}
