package oidctest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// SignIn drives a browser's part of the code flow with client (a cookie
// jar, trusting the provider's CA): it GETs start, follows redirects,
// fills the provider's login form (its /login/username page) with
// username and password, and stops at the first redirect target for
// which stop is true, which it returns without requesting it.
func SignIn(client *http.Client, start, username, password string, stop func(*url.URL) bool) (*url.URL, error) {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	next, err := url.Parse(start)
	if err != nil {
		return nil, err
	}
	for range 20 {
		if stop(next) {
			return next, nil
		}
		var resp *http.Response
		if next.Path == "/login/username" {
			resp, err = login(&c, next, username, password)
		} else {
			resp, err = c.Get(next.String())
		}
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			return nil, fmt.Errorf("oidctest: %s answered %s without a redirect: %.300s", next.Redacted(), resp.Status, body)
		}
		next = loc
	}
	return nil, fmt.Errorf("oidctest: too many redirects")
}

// login GETs the login form, checks it is one, and posts it.
func login(c *http.Client, form *url.URL, username, password string) (*http.Response, error) {
	resp, err := c.Get(form.String())
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="password"`) {
		return nil, fmt.Errorf("oidctest: the login form answered %s: %.300s", resp.Status, body)
	}
	post := *form
	post.RawQuery = ""
	return c.PostForm(post.String(), url.Values{"id": {form.Query().Get("authRequestID")},
		"username": {username}, "password": {password}})
}
