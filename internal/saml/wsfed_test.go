package saml_test

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/signet-auth/signet"
)

// fedMetadata fetches WS-Fed metadata (tenant-wide for client "") and
// returns it with its signing certificates.
func (e *env) fedMetadata(clientID string) ([]byte, [][]byte) {
	e.t.Helper()
	u := e.base + "wsfed/FederationMetadata/2007-06/FederationMetadata.xml"
	if clientID != "" {
		u = e.base + "wsfed/" + clientID + "/FederationMetadata/2007-06/FederationMetadata.xml"
	}
	res, err := http.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		e.t.Fatalf("federation metadata: %d %s", res.StatusCode, b)
	}
	return b, metadataCerts(e.t, b)
}

// haveNodeRP reports whether the Node relying-party check can run; under CI
// it must (.ci/run installs its packages).
func haveNodeRP(t *testing.T) bool {
	t.Helper()
	_, err := os.Stat("testdata/wsfed-rp/node_modules/xml-crypto")
	if _, lerr := exec.LookPath("node"); lerr != nil || err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the xml-crypto check is required under CI: npm ci --prefix internal/saml/testdata/wsfed-rp")
		}
		t.Log("node or testdata/wsfed-rp/node_modules missing: skipping the xml-crypto check")
		return false
	}
	return true
}

// verifyNodeRP runs testdata/wsfed-rp/verify.mjs (xml-crypto) on an RSTR
// with certs and returns the NameIdentifier it read.
func verifyNodeRP(t *testing.T, rstr []byte, certs [][]byte) (string, error) {
	t.Helper()
	dir, err := os.MkdirTemp("", "wsfed")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	args := []string{"testdata/wsfed-rp/verify.mjs"}
	for i, c := range certs {
		p := filepath.Join(dir, fmt.Sprintf("cert%d.pem", i))
		os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c}), 0o600)
		args = append(args, p)
	}
	cmd := exec.Command("node", args...)
	cmd.Stdin = bytes.NewReader(rstr)
	out, err := cmd.CombinedOutput()
	s := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(s, "OK ") {
		return "", fmt.Errorf("xml-crypto: %v: %s", err, s)
	}
	return strings.TrimPrefix(s, "OK "), nil
}

// verifyRSTR checks an RSTR three ways (goxmldsig, xmlsec1, xml-crypto)
// with certs and returns the NameIdentifier goxmldsig's verified element holds.
func verifyRSTR(t *testing.T, rstr []byte, certs [][]byte) (string, error) {
	t.Helper()
	el, err := verifyGoxmldsig(rstr, saml11Assert, parseCerts(t, certs))
	if err != nil {
		return "", fmt.Errorf("goxmldsig: %w", err)
	}
	if haveXmlsec1(t) {
		if err := verifyXmlsec1(t, rstr, saml11Assert, parseCerts(t, certs)); err != nil {
			return "", err
		}
	}
	nid := el.FindElement("./AuthenticationStatement/Subject/NameIdentifier")
	if nid == nil {
		return "", fmt.Errorf("no NameIdentifier")
	}
	if haveNodeRP(t) {
		n, err := verifyNodeRP(t, rstr, certs)
		if err != nil {
			return "", err
		}
		if n != nid.Text() {
			return "", fmt.Errorf("xml-crypto read NameIdentifier %q, goxmldsig %q", n, nid.Text())
		}
	}
	return nid.Text(), nil
}

func TestWSFed(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.app(signet.SAMLAddon{NameIdentifierProbes: []string{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"}}, true)
	md, certs := e.fedMetadata("")
	_, clientCerts := e.fedMetadata(c.ClientID)
	if len(certs) != 2 || !bytes.Equal(certs[0], clientCerts[0]) || !bytes.Equal(certs[1], clientCerts[1]) {
		t.Fatalf("federation metadata lists %d certificates", len(certs))
	}
	if !bytes.Contains(md, []byte(`<wsa:Address>`+e.base+`wsfed</wsa:Address>`)) {
		t.Fatalf("no passive requestor endpoint in %s", md)
	}
	realm := c.Addons.SAMLP.Audience
	b := e.browser()
	for _, path := range []string{"/wsfed/" + c.ClientID, "/wsfed"} {
		q := url.Values{"wa": {"wsignin1.0"}, "wtrealm": {realm}, "wreply": {e.acs(c)}, "wctx": {"rm=0&id=passive"}}
		f := postForm(t, b.follow(path+"?"+q.Encode()))
		if f.action != e.acs(c) || f.fields.Get("wa") != "wsignin1.0" || f.fields.Get("wctx") != "rm=0&id=passive" {
			t.Fatalf("form %+v", f)
		}
		rstr := []byte(f.fields.Get("wresult"))
		nid, err := verifyRSTR(t, rstr, certs)
		if err != nil {
			t.Fatal(err)
		}
		if nid != testEmail {
			t.Fatalf("NameIdentifier %q", nid)
		}
		d := etree.NewDocument()
		d.ReadFromBytes(rstr)
		if a := d.FindElement("//AudienceRestrictionCondition/Audience"); a == nil || a.Text() != realm {
			t.Fatalf("audience %v", a)
		}
		if a := d.FindElement("//AppliesTo/EndpointReference/Address"); a == nil || a.Text() != realm {
			t.Fatal("AppliesTo is not the realm")
		}
		// Tampered: every verifier refuses.
		bad := bytes.Replace(rstr, []byte(">"+testEmail+"<"), []byte(">admin@example.com<"), -1)
		if _, err := verifyGoxmldsig(bad, saml11Assert, parseCerts(t, certs)); err == nil {
			t.Fatal("goxmldsig accepts a tampered RSTR")
		}
		if haveXmlsec1(t) && verifyXmlsec1(t, bad, saml11Assert, parseCerts(t, certs)) == nil {
			t.Fatal("xmlsec1 accepts a tampered RSTR")
		}
		if haveNodeRP(t) {
			if _, err := verifyNodeRP(t, bad, certs); err == nil {
				t.Fatal("xml-crypto accepts a tampered RSTR")
			}
		}
	}

	// Sign-out ends the session and returns to an allowed logout URL.
	r := b.do("GET", "/wsfed/"+c.ClientID+"?wa=wsignout1.0&wreply="+url.QueryEscape(e.sp.URL+"/bye"), nil)
	if r.status != http.StatusFound || r.header.Get("Location") != e.sp.URL+"/bye" {
		t.Fatalf("wsignout1.0 = %d %s", r.status, r.header.Get("Location"))
	}
	r = b.do("GET", "/wsfed/"+c.ClientID+"?wa=wsignin1.0", nil)
	if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Fatalf("after sign-out, sign-in = %d %s", r.status, r.header.Get("Location"))
	}
	for _, tc := range []struct{ name, query string }{
		{"wrong realm", "wa=wsignin1.0&wtrealm=urn:other"},
		{"wreply not a callback", "wa=wsignin1.0&wreply=" + url.QueryEscape("https://evil.example.com/")},
		{"signout to a foreign URL", "wa=wsignout1.0&wreply=" + url.QueryEscape("https://evil.example.com/")},
		{"no action", "wtrealm=" + url.QueryEscape(realm)},
	} {
		if r := b.do("GET", "/wsfed/"+c.ClientID+"?"+tc.query, nil); r.status != 400 || !strings.Contains(r.body, `role="alert"`) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
}

// TestWSFedRollover: an RP holding the federation metadata from before a
// rotation accepts tokens signed after it.
func TestWSFedRollover(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.app(signet.SAMLAddon{}, true)
	_, before := e.fedMetadata("")
	b := e.browser()
	q := "?wa=wsignin1.0&wreply=" + url.QueryEscape(e.acs(c))
	if _, err := verifyRSTR(t, []byte(postForm(t, b.follow("/wsfed/"+c.ClientID+q)).fields.Get("wresult")), before); err != nil {
		t.Fatal(err)
	}
	e.rotate(false)
	if _, err := verifyRSTR(t, []byte(postForm(t, b.follow("/wsfed/"+c.ClientID+q)).fields.Get("wresult")), before); err != nil {
		t.Fatalf("after rotation, with metadata from before: %v", err)
	}
	e.rotate(true)
	_, after := e.fedMetadata("")
	for _, der := range after {
		if bytes.Equal(der, before[1]) {
			t.Fatal("federation metadata lists the revoked certificate")
		}
	}
}
