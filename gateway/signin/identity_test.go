package signin

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/switchboard-chat/switchboard/messages"
)

func TestAccountMapsGroups(t *testing.T) {
	maps := []*messages.GroupMapping{
		{Group: "cn=Support,ou=groups,dc=x", Departments: []string{"sales"}, ChatAgent: true},
		{Group: "hr", Role: "administrator", Departments: []string{"hr", "sales"}},
		{Group: "leads", Role: "lead"},
	}
	id := Identity{Method: messages.SignInMethod_SIGN_IN_METHOD_LDAP, ExternalID: "uid=bob,dc=x", Login: "bob", DisplayName: "Bob"}
	for _, c := range []struct {
		name   string
		groups []string
		want   *messages.ExternalAccount
		err    error
	}{
		{"none", []string{"cn=other,dc=x"}, nil, ErrNoGroup},
		{"first gives the role, case aside", []string{"leads", "CN=support,OU=groups,DC=x"},
			&messages.ExternalAccount{Role: "", Departments: []string{"sales"}, ChatAgent: true}, nil},
		{"departments once each, in order", []string{"hr", "cn=support,ou=groups,dc=x", "leads"},
			&messages.ExternalAccount{Departments: []string{"sales", "hr"}, ChatAgent: true}, nil},
		{"a later mapping's role", []string{"leads"}, &messages.ExternalAccount{Role: "lead"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			id.Groups = c.groups
			got, err := Account(id, maps)
			if !errors.Is(err, c.err) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			if c.want == nil {
				return
			}
			c.want.Method, c.want.ExternalId, c.want.Login, c.want.DisplayName = id.Method, id.ExternalID, id.Login, id.DisplayName
			if !proto.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
