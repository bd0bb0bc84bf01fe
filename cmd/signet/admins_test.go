package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// admin runs `signet admins …` on the instance's data dir with stdin.
func (in *instance) admin(stdin string, args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	args = append(append([]string{"admins"}, args...), "--data-dir", in.dataDir)
	code = Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(stdin),
		Getenv: func(string) string { return "" }})
	return out.String(), errb.String(), code
}

var signInToken = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs in to the instance's dashboard over HTTP and reports whether
// it worked.
func (in *instance) signIn(t *testing.T, email, password string) bool {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(in.base + "/dashboard/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := signInToken.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no sign-in form:\n%s", body)
	}
	resp, err = c.PostForm(in.base+"/dashboard/signin", url.Values{"email": {email}, "password": {password}, "csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusSeeOther
}

var generatedPassword = regexp.MustCompile(`(?m)^password\s+(\S+)$`)

func TestAdminsCommands(t *testing.T) {
	in := start(t, t.TempDir())
	dash := in.credentials().Dashboard
	if !in.signIn(t, dash.Email, dash.Password) {
		t.Fatal("the bootstrapped administrator cannot sign in")
	}

	// create with a password from standard input; the running server knows
	// the new administrator at once (the store, not memory, holds them).
	out, errs, code := in.admin("a long enough password\n", "create", " Bob@Example.com ", "--password-stdin")
	if code != 0 || !strings.Contains(out, "bob@example.com") || strings.Contains(out, "a long enough password") {
		t.Fatalf("admins create = %d %q %q", code, out, errs)
	}
	if !in.signIn(t, "bob@example.com", "a long enough password") {
		t.Error("a new administrator cannot sign in to the running server")
	}

	// create with a generated password, shown once.
	out, _, code = in.admin("", "create", "carol@example.com")
	m := generatedPassword.FindStringSubmatch(out)
	if code != 0 || m == nil || len(m[1]) != 24 {
		t.Fatalf("admins create without a password = %d %q", code, out)
	}
	if !in.signIn(t, "carol@example.com", m[1]) {
		t.Error("the generated password does not work")
	}

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"taken e-mail", "", []string{"create", "BOB@example.com"}, "already exists"},
		{"bad e-mail", "", []string{"create", "bob"}, "Invalid email"},
		{"unknown tenant", "", []string{"create", "dave@example.com", "--tenant", "nope"}, "no tenant nope"},
		{"short password", "short\n", []string{"create", "dave@example.com", "--password-stdin"}, "at least 12"},
		{"no password", "", []string{"create", "dave@example.com", "--password-stdin"}, "--password-stdin"},
		{"grant unknown tenant", "", []string{"grant", "bob@example.com", "nope"}, "no tenant nope"},
		{"grant unknown admin", "", []string{"grant", "nobody@example.com", "default"}, "no administrator nobody@example.com"},
	} {
		if _, errs, code := in.admin(tc.stdin, tc.args...); code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", tc.name, code, errs, tc.want)
		}
	}
	if _, errs, code := in.admin("", "frob"); code != 2 || !strings.Contains(errs, `admins: unknown command "frob"`) {
		t.Errorf("admins frob = %d %q", code, errs)
	}
	if _, errs, code := in.admin("", "grant", "bob@example.com"); code != 2 || !strings.Contains(errs, "admins grant: missing TENANT") {
		t.Errorf("grant without tenant = %d %q", code, errs)
	}

	// grant, ungrant and list.
	if _, err := in.run("tenants", "create", "acme"); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := in.admin("", "grant", "bob@example.com", "acme"); code != 0 || !strings.Contains(out, "acme default") {
		t.Errorf("grant = %d %q %q", code, out, errs)
	}
	if out, _, code := in.admin("", "ungrant", "bob@example.com", "default"); code != 0 || !strings.Contains(out, "tenants  acme\n") {
		t.Errorf("ungrant = %d %q", code, out)
	}
	out, _, _ = in.admin("", "list")
	for _, want := range []string{`admin@localhost\s+default\s`, `bob@example.com\s+acme\s`, `carol@example.com\s+default\s`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("admins list lacks %q:\n%s", want, out)
		}
	}

	// password: the old one stops working, the new one works.
	if out, errs, code := in.admin("another long password\n", "password", "bob@example.com", "--password-stdin"); code != 0 || !strings.Contains(out, "signed out") {
		t.Fatalf("password = %d %q %q", code, out, errs)
	}
	if in.signIn(t, "bob@example.com", "a long enough password") || !in.signIn(t, "bob@example.com", "another long password") {
		t.Error("after admins password the old password works or the new one does not")
	}

	// delete.
	if out, _, code := in.admin("", "delete", "bob@example.com"); code != 0 || !strings.Contains(out, "deleted") {
		t.Errorf("delete = %d %q", code, out)
	}
	if in.signIn(t, "bob@example.com", "another long password") {
		t.Error("a deleted administrator can sign in")
	}
}
