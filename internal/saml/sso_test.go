package saml_test

import (
	"encoding/base64"
	"strings"
	"testing"

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
