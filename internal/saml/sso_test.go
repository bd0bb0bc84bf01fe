package saml_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/signet-auth/signet"
)

// checkResponse verifies a posted SAMLResponse with goxmldsig and xmlsec1
// against the metadata's certificates, then lets the SP (crewjam) parse it,
// and returns what the SP read.
func checkResponse(t *testing.T, b *browser, f form, certs [][]byte, signedResponse bool, requestIDs ...string) acsResult {
	t.Helper()
	if err := verifyResponse(t, f.fields.Get("SAMLResponse"), parseCerts(t, certs), signedResponse); err != nil {
		t.Fatal(err)
	}
	res := b.submit(f, requestIDs...)
	if res.Error != "" {
		t.Fatalf("crewjam refused the response: %s", res.Error)
	}
	return res
}

func TestSSO(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tc := range []struct {
		name   string
		addon  signet.SAMLAddon
		flow   string // "idp", "redirect", "post"
		nameID func(u signet.User) string
	}{
		{"idp-initiated", signet.SAMLAddon{}, "idp", func(u signet.User) string { return u.ID }},
		{"redirect binding", signet.SAMLAddon{}, "redirect", func(u signet.User) string { return u.ID }},
		{"post binding", signet.SAMLAddon{}, "post", func(u signet.User) string { return u.ID }},
		{"signed response", signet.SAMLAddon{SignResponse: true}, "redirect", func(u signet.User) string { return u.ID }},
		{"email name id", signet.SAMLAddon{
			NameIdentifierFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
			NameIdentifierProbes: []string{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"},
		}, "post", func(u signet.User) string { return u.Email }},
		{"custom mappings, untyped", signet.SAMLAddon{
			Mappings:             map[string]string{"email": "mail", "nickname": "uid"},
			NameIdentifierProbes: []string{"uid"},
			TypedAttributes:      new(false), IncludeAttributeNameFormat: new(false),
		}, "idp", func(u signet.User) string { return "ada" }},
		{"short lifetime, sha256 explicit", signet.SAMLAddon{LifetimeInSeconds: 60, SignatureAlgorithm: "rsa-sha256", DigestAlgorithm: "sha256"}, "redirect",
			func(u signet.User) string { return u.ID }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.app(tc.addon, false)
			md, ed := e.metadata(c)
			sp := e.serviceProvider(c, ed)
			e.useSP(c, sp)
			b := e.browser()
			var f form
			var ids []string
			switch tc.flow {
			case "idp":
				f = postForm(t, b.follow("/samlp/"+c.ClientID+"?RelayState=state-1"))
			case "redirect":
				req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(crewjam.HTTPRedirectBinding), crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding)
				if err != nil {
					t.Fatal(err)
				}
				u, err := req.Redirect("state-1", sp)
				if err != nil {
					t.Fatal(err)
				}
				ids = []string{req.ID}
				f = postForm(t, b.follow(u.String()))
			case "post":
				req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(crewjam.HTTPPostBinding), crewjam.HTTPPostBinding, crewjam.HTTPPostBinding)
				if err != nil {
					t.Fatal(err)
				}
				doc := etree.NewDocument()
				doc.SetRoot(req.Element())
				x, _ := doc.WriteToBytes()
				ids = []string{req.ID}
				r := b.do("POST", req.Destination, formValues("SAMLRequest", base64.StdEncoding.EncodeToString(x), "RelayState", "state-1"))
				if r.status != 303 {
					t.Fatalf("POST binding: %d %s", r.status, r.body)
				}
				f = postForm(t, b.follow(r.header.Get("Location")))
			}
			if f.action != e.acs(c) {
				t.Fatalf("form posts to %q, want %q", f.action, e.acs(c))
			}
			res := checkResponse(t, b, f, metadataCerts(t, md), tc.addon.SignResponse, ids...)
			if want := tc.nameID(e.user); res.NameID != want || res.RelayState != "state-1" {
				t.Fatalf("SP read name id %q relay %q, want %q", res.NameID, res.RelayState, want)
			}
			if tc.addon.Mappings["email"] == "mail" && res.Attributes["mail"][0] != testEmail {
				t.Fatalf("attributes %v", res.Attributes)
			}
			// A second sign-on reuses the session: no login page.
			if tc.flow == "idp" {
				r := b.do("GET", "/samlp/"+c.ClientID, nil)
				postForm(t, r)
			}
		})
	}
}

// metadataCerts returns the DER certificates of metadata's signing KeyDescriptors.
func metadataCerts(t *testing.T, md []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for _, c := range signingCerts(t, md) {
		out = append(out, c.Raw)
	}
	return out
}

func formValues(kv ...string) map[string][]string {
	out := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = append(out[kv[i]], kv[i+1])
	}
	return out
}

var _ = strings.TrimSpace

// TestForceAuthn: an AuthnRequest with ForceAuthn="true" sends a signed-in
// user to the login page again, and only a sign-in made since the request
// gets an assertion (whose AuthnInstant says so); with IsPassive too, the
// answer is NoPassive.
func TestForceAuthn(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.app(signet.SAMLAddon{}, false)
	md, ed := e.metadata(c)
	e.useSP(c, e.serviceProvider(c, ed))
	sso := "/samlp/" + c.ClientID
	request := func(extra string) string {
		return sso + "?" + url.Values{"SAMLRequest": {deflate64(authnRequest(c.Addons.SAMLP.Audience, e.acs(c), extra))}, "RelayState": {"r1"}}.Encode()
	}
	// loginReturn expects a redirect to the login page and returns the
	// path it comes back to.
	loginReturn := func(r response) string {
		t.Helper()
		loc, _ := url.Parse(r.header.Get("Location"))
		if r.status != http.StatusFound || loc == nil || loc.Path != "/login" {
			t.Fatalf("answer %d → %q, want the login page", r.status, r.header.Get("Location"))
		}
		return loc.Query().Get("return_to")
	}

	// Signed in a minute ago.
	b := e.browser()
	e.clock.Add(-time.Minute)
	postForm(t, b.follow(sso))
	e.clock.Add(time.Minute)
	signedInAt := e.clock.Now()

	// Without ForceAuthn the session serves.
	postForm(t, b.do("GET", request(""), nil))

	// With it, the login page, whose way back records the request's time.
	forced := request(` ForceAuthn="true"`)
	back := loginReturn(b.do("GET", forced, nil))
	if want := forced + "&signet_authn_after=" + strconv.FormatInt(signedInAt.Unix(), 10); back != want {
		t.Fatalf("way back %q, want %q", back, want)
	}
	// Coming back without signing in does not help, and keeps the first time.
	e.clock.Add(5 * time.Second)
	if again := loginReturn(b.do("GET", back, nil)); again != back {
		t.Fatalf("second way back %q, want %q", again, back)
	}
	// After signing in, the assertion.
	r := b.login(back)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != back {
		t.Fatalf("sign-in = %d → %q", r.status, r.header.Get("Location"))
	}
	f := postForm(t, b.do("GET", back, nil))
	x, _ := base64.StdEncoding.DecodeString(f.fields.Get("SAMLResponse"))
	d := etree.NewDocument()
	if err := d.ReadFromBytes(x); err != nil {
		t.Fatal(err)
	}
	st := d.FindElement("//AuthnStatement")
	if st == nil || st.SelectAttrValue("AuthnInstant", "") != e.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z") {
		t.Fatalf("AuthnStatement %v, want AuthnInstant %s", st, e.clock.Now())
	}
	if res := checkResponse(t, b, f, metadataCerts(t, md), false, "_req1"); res.NameID != e.user.ID || res.RelayState != "r1" {
		t.Fatalf("SP read %+v", res)
	}
	// A new ForceAuthn request asks again, even right after a sign-in.
	loginReturn(b.do("GET", forced, nil))

	// ForceAuthn with IsPassive cannot be met without asking: NoPassive.
	f = postForm(t, b.do("GET", request(` ForceAuthn="true" IsPassive="true"`), nil))
	x, _ = base64.StdEncoding.DecodeString(f.fields.Get("SAMLResponse"))
	d = etree.NewDocument()
	d.ReadFromBytes(x)
	if codes := d.FindElements("//StatusCode"); len(codes) != 2 || codes[1].SelectAttrValue("Value", "") != "urn:oasis:names:tc:SAML:2.0:status:NoPassive" {
		t.Fatalf("ForceAuthn and IsPassive: response %s", x)
	}
}
