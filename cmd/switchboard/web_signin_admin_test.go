package main

import (
	"testing"
)

// TestWebAdminSignInSettings: the administrator sets directory sign-in in
// the Sign-in page. A server that does not answer is refused next to its
// field and nothing is stored; settings saved off are stored with their
// secret, which the page never shows again.
func TestWebAdminSignInSettings(t *testing.T) {
	m := startBroker(t, t.TempDir())
	base := "http://" + m.Addr()
	p := adminPage(t, base, "dana@demo", "dana-demo-pw", "signin")
	p.wait("the settings", `document.querySelector("#admin-detail[data-loaded]")`)

	p.click(adminField("ldap.enabled"))
	p.setText(adminField("ldap.url"), "ldap://127.0.0.1:1")
	p.setText(adminField("ldap.bind_dn"), "cn=switchboard,dc=example,dc=com")
	p.setText(adminField("ldap.bind_password"), "svc-secret")
	p.setText(adminField("ldap.user_base"), "ou=people,dc=example,dc=com")
	p.setText(adminField("ldap.user_filter"), "(uid={login})")
	p.setText(adminField("ldap.groups"), `[{"group":"cn=support,ou=groups,dc=example,dc=com","departments":["sales"],"chat_agent":true}]`)
	p.save()
	if msg := p.adminError("ldap.url"); msg == "" {
		t.Fatalf("no error next to the server field; page: %s", p.dump())
	}
	if x, _ := m.broker.SignIn(); x.GetLdap() != nil {
		t.Fatalf("a refused setting was stored: %v", x)
	}

	p.click(adminField("ldap.enabled")) // off: stored without trying the server
	p.setText(adminField("ldap.label"), "Sign in with your Example account")
	p.save()
	p.wait("saved", `document.querySelector(".admin-note").textContent.includes("Saved the sign-in settings")`)
	x, err := m.broker.SignIn()
	if err != nil || x.GetLdap().GetBindPassword() != "svc-secret" || x.GetLdap().GetLabel() != "Sign in with your Example account" ||
		len(x.GetLdap().GetGroups()) != 1 || x.GetLdap().GetGroups()[0].GetDepartments()[0] != "sales" {
		t.Fatalf("stored %v, %v", x, err)
	}
	p.wait("the page again", `document.querySelector("#admin-detail[data-loaded]")`)
	if v := eval[string](p, `document.querySelector("#admin-detail [name='ldap.bind_password']").value`); v != "" {
		t.Fatalf("the page shows the stored secret: %q", v)
	}
	if v := eval[string](p, `document.querySelector("#admin-detail [name='ldap.url']").value`); v != "ldap://127.0.0.1:1" {
		t.Fatalf("the page shows the server as %q", v)
	}
}
