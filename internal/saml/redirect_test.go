package saml_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/signet-auth/signet"
)

// TestUnsafeStoredReplies checks that SAML and WS-Fed never send a browser
// to a callback or logout URL of a refused scheme stored before
// registration refused them (written to the store directly): an
// AuthnRequest naming one as its ACS, IdP-initiated sign-on whose default
// ACS it is, and WS-Fed sign-in and sign-out to it answer 400 without a
// redirect or a form posting there. (Both protocols already required
// http(s) at use time; this guards it.)
func TestUnsafeStoredReplies(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.app(signet.SAMLAddon{}, true)
	bad := []string{"javascript:alert(document.domain)", "JavaScript://sp.example/%0aalert(1)", "data:text/html,<script>alert(1)</script>"}
	_, err := e.store.UpdateClient(context.Background(), "default", c.ClientID, func(c *signet.Client) error {
		c.Callbacks = append(c.Callbacks, bad...)
		c.AllowedLogoutURLs = append(c.AllowedLogoutURLs, bad...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	refused := func(what string, r response) {
		t.Helper()
		if r.status != 400 || r.header.Get("Location") != "" || formAction.MatchString(r.body) {
			t.Errorf("%s = %d Location %q, want 400 without a redirect or form:\n%s", what, r.status, r.header.Get("Location"), r.body)
		}
	}
	only := e.app(signet.SAMLAddon{}, false)
	_, err = e.store.UpdateClient(context.Background(), "default", only.ClientID, func(c *signet.Client) error {
		c.Callbacks = bad
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	refused("IdP-initiated sign-on to a bad default ACS", b.follow("/samlp/"+only.ClientID))
	for _, target := range bad {
		q := url.Values{"SAMLRequest": {deflate64(authnRequest(c.Addons.SAMLP.Audience, target, ""))}}
		refused("AuthnRequest with ACS "+target, b.follow("/samlp/"+c.ClientID+"?"+q.Encode()))
		for _, wa := range []string{"wsignin1.0", "wsignout1.0"} {
			refused(wa+" to "+target, b.follow("/wsfed/"+c.ClientID+"?"+url.Values{"wa": {wa}, "wreply": {target}}.Encode()))
		}
	}
}
