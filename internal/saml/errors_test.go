package saml_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/signet-auth/signet"
)

// authnRequest returns an AuthnRequest XML from issuer asking for acs.
func authnRequest(issuer, acs string, extra string) string {
	a := ""
	if acs != "" {
		a = ` AssertionConsumerServiceURL="` + acs + `"`
	}
	return `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_req1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"` + a + extra + `><saml:Issuer>` + issuer + `</saml:Issuer></samlp:AuthnRequest>`
}

// TestErrorPages: malformed, oversized or unauthorised requests get a page
// that says what is wrong, with the right status, and never a redirect.
func TestErrorPages(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.app(signet.SAMLAddon{}, false)
	noSAML := signet.Client{Tenant: "default", ClientID: "plainclient", Name: "plain", AppType: "regular_web"}
	if err := e.store.CreateClient(t.Context(), noSAML); err != nil {
		t.Fatal(err)
	}
	aud := c.Addons.SAMLP.Audience
	sso := "/samlp/" + c.ClientID
	q := func(xml string) string { return sso + "?" + url.Values{"SAMLRequest": {deflate64(xml)}}.Encode() }
	b := e.browser()
	for _, tc := range []struct {
		name, method, path string
		form               url.Values
		status             int
		message            string
	}{
		{"unknown client", "GET", "/samlp/nosuchclient", nil, 404, "There is no SAML application with this client id."},
		{"client without the add-on", "GET", "/samlp/plainclient", nil, 404, "There is no SAML application"},
		{"metadata of an unknown client", "GET", "/samlp/metadata/nosuchclient", nil, 404, "There is no SAML application"},
		{"ws-fed metadata of a client without the add-on", "GET", "/wsfed/plainclient/FederationMetadata/2007-06/FederationMetadata.xml", nil, 404, "There is no WS-Federation application"},
		{"wrong issuer", "GET", q(authnRequest("urn:evil", "", "")), nil, 400, "is not this application&#39;s audience"},
		{"unregistered ACS", "GET", q(authnRequest(aud, "https://evil.example.com/acs", "")), nil, 400, "is not registered for this application"},
		{"not base64", "GET", sso + "?SAMLRequest=%25%25", nil, 400, "not valid base64"},
		{"not deflated", "GET", sso + "?SAMLRequest=" + url.QueryEscape(b64(authnRequest(aud, "", ""))), nil, 400, "not valid DEFLATE"},
		{"DTD", "GET", q(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + authnRequest(aud, "", "")), nil, 400, "carries a DTD"},
		{"oversized POST", "POST", sso, url.Values{"SAMLRequest": {strings.Repeat("A", 200<<10)}}, 400, "too large"},
		{"POST without SAMLRequest", "POST", sso, url.Values{"RelayState": {"x"}}, 400, "carries no SAMLRequest"},
		{"RelayState with a newline", "GET", sso + "?RelayState=a%0Ab", nil, 400, "RelayState"},
		{"logout request from another SP", "GET", "/samlp/" + c.ClientID + "/logout?" + url.Values{"SAMLRequest": {deflate64(
			`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_l1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>urn:evil</saml:Issuer></samlp:LogoutRequest>`)}}.Encode(), nil, 400, "is not this application&#39;s audience"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(tc.method, tc.path, tc.form)
			if r.status != tc.status || !strings.Contains(r.body, tc.message) || !strings.Contains(r.body, `role="alert"`) {
				t.Fatalf("= %d %s; want %d with %q", r.status, r.body, tc.status, tc.message)
			}
			if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" || r.header.Get("Content-Security-Policy") == "" {
				t.Fatalf("headers %v", r.header)
			}
		})
	}
}

// TestNoACS: an application with neither recipient nor callbacks cannot
// receive assertions.
func TestNoACS(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := signet.Client{Tenant: "default", ClientID: "noacs", Name: "x", AppType: "regular_web", Addons: signet.ClientAddons{SAMLP: &signet.SAMLAddon{}}}
	if err := e.store.CreateClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if r := e.browser().follow("/samlp/noacs"); r.status != 400 || !strings.Contains(r.body, "no assertion consumer service URL") {
		t.Fatalf("= %d %s", r.status, r.body)
	}
}

// TestES256Refused: goxmldsig writes ECDSA signature values in ASN.1 DER,
// which XML-DSig verifiers (xmlsec1 among them) reject, so an ES256
// tenant's SAML and WS-Fed endpoints refuse with a clear message instead of
// issuing assertions nobody can verify.
func TestES256Refused(t *testing.T) {
	e := newEnv(t, envOptions{alg: "ES256"})
	c := e.app(signet.SAMLAddon{}, true)
	b := e.browser()
	for _, p := range []string{
		"/samlp/metadata/" + c.ClientID,
		"/samlp/" + c.ClientID,
		"/wsfed/FederationMetadata/2007-06/FederationMetadata.xml",
		"/wsfed/" + c.ClientID + "?wa=wsignin1.0",
	} {
		r := b.follow(p)
		if r.status != http.StatusConflict || !strings.Contains(r.body, "need an RS256 signing key") {
			t.Errorf("%s = %d %s", p, r.status, r.body)
		}
	}
}

// TestIsPassive: without a session, a passive request gets a NoPassive
// status (unsigned, no assertion) instead of the login page.
func TestIsPassive(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.app(signet.SAMLAddon{}, false)
	_, ed := e.metadata(c)
	e.useSP(c, e.serviceProvider(c, ed))
	r := e.browser().do("GET", "/samlp/"+c.ClientID+"?"+url.Values{"SAMLRequest": {deflate64(authnRequest(c.Addons.SAMLP.Audience, e.acs(c), ` IsPassive="true"`))}}.Encode(), nil)
	f := postForm(t, r)
	x, _ := base64.StdEncoding.DecodeString(f.fields.Get("SAMLResponse"))
	d := etree.NewDocument()
	d.ReadFromBytes(x)
	codes := d.FindElements("//StatusCode")
	if len(codes) != 2 || codes[1].SelectAttrValue("Value", "") != "urn:oasis:names:tc:SAML:2.0:status:NoPassive" || d.FindElement("//Assertion") != nil {
		t.Fatalf("response %s", x)
	}
	if res := e.browser().submit(f, "_req1"); res.Error == "" {
		t.Fatal("the SP accepted a NoPassive response as a sign-in")
	}
}

// TestSingleLogout: a LogoutRequest from the SP (over HTTP-Redirect and
// HTTP-POST) ends the session and answers with a LogoutResponse signed by
// the current key, posted to the logout callback.
func TestSingleLogout(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.app(signet.SAMLAddon{Logout: &signet.SAMLLogout{Callback: "https://sp.example.com/slo"}}, false)
	md, ed := e.metadata(c)
	sp := e.serviceProvider(c, ed)
	e.useSP(c, sp)
	for _, binding := range []string{crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding} {
		b := e.browser()
		f := postForm(t, b.follow("/samlp/"+c.ClientID))
		checkResponse(t, b, f, metadataCerts(t, md), false)

		req, err := sp.MakeLogoutRequest(sp.GetSLOBindingLocation(binding), e.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		var r response
		if binding == crewjam.HTTPRedirectBinding {
			u := req.Redirect("slo-state")
			r = b.do("GET", u.String(), nil)
		} else {
			doc := etree.NewDocument()
			doc.SetRoot(req.Element())
			x, _ := doc.WriteToBytes()
			r = b.do("POST", req.Destination, url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(x)}, "RelayState": {"slo-state"}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("POST logout = %d %s", r.status, r.body)
			}
			r = b.do("GET", r.header.Get("Location"), nil)
		}
		lf := postForm(t, r)
		if lf.action != "https://sp.example.com/slo" || lf.fields.Get("RelayState") != "slo-state" {
			t.Fatalf("logout form %+v", lf)
		}
		x, _ := base64.StdEncoding.DecodeString(lf.fields.Get("SAMLResponse"))
		if _, err := verifyGoxmldsig(x, samlLogoutResp, signingCerts(t, md)); err != nil {
			t.Fatalf("goxmldsig: %v", err)
		}
		if haveXmlsec1(t) {
			if err := verifyXmlsec1(t, x, samlLogoutResp, signingCerts(t, md)); err != nil {
				t.Fatal(err)
			}
		}
		if !strings.Contains(string(x), `InResponseTo="`+req.ID+`"`) {
			t.Fatalf("LogoutResponse %s", x)
		}
		// The session is gone: sign-on goes to the login page again.
		if r := b.do("GET", "/samlp/"+c.ClientID, nil); r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "/login") {
			t.Fatalf("after logout: %d %s", r.status, r.header.Get("Location"))
		}
	}
}
