package saml_test

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/beevik/etree"

	"github.com/signet-auth/signet"
)

// tamper applies fn to a copy of the Response XML.
func tamper(t *testing.T, doc []byte, fn func(resp *etree.Element)) []byte {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		t.Fatal(err)
	}
	fn(d.Root())
	out, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// child returns el's first child element with the tag (local name).
func child(el *etree.Element, tag string) *etree.Element {
	for _, c := range el.ChildElements() {
		if c.Tag == tag {
			return c
		}
	}
	return nil
}

// TestTampering changes a genuine response the ways attackers do; each of
// the three verifiers must refuse every result.
func TestTampering(t *testing.T) {
	e := newEnv(t, envOptions{})
	tampers := []struct {
		name string
		fn   func(resp *etree.Element)
	}{
		{"changed NameID", func(resp *etree.Element) {
			child(child(child(resp, "Assertion"), "Subject"), "NameID").SetText("admin@example.com")
		}},
		{"changed audience", func(resp *etree.Element) {
			a := child(resp, "Assertion")
			child(child(child(a, "Conditions"), "AudienceRestriction"), "Audience").SetText("urn:other-sp")
		}},
		{"moved signature", func(resp *etree.Element) {
			// The assertion's signature moves up to the Response, leaving the
			// assertion unsigned.
			a := child(resp, "Assertion")
			sig := child(a, "Signature")
			a.RemoveChild(sig)
			resp.InsertChildAt(1, sig)
		}},
		{"signature moved out and assertion edited", func(resp *etree.Element) {
			a := child(resp, "Assertion")
			sig := child(a, "Signature")
			a.RemoveChild(sig)
			resp.InsertChildAt(1, sig)
			child(child(a, "Subject"), "NameID").SetText("admin@example.com")
		}},
		{"wrapped assertion (unsigned evil first)", func(resp *etree.Element) {
			orig := child(resp, "Assertion")
			evil := orig.Copy()
			evil.RemoveChild(child(evil, "Signature"))
			evil.CreateAttr("ID", "_evil")
			child(child(evil, "Subject"), "NameID").SetText("admin@example.com")
			resp.InsertChildAt(orig.Index(), evil)
		}},
		{"wrapped assertion (original inside the evil one's signature)", func(resp *etree.Element) {
			orig := child(resp, "Assertion")
			evil := orig.Copy()
			child(child(evil, "Subject"), "NameID").SetText("admin@example.com")
			obj := child(evil, "Signature").CreateElement("ds:Object")
			resp.RemoveChild(orig)
			obj.AddChild(orig)
			resp.AddChild(evil)
		}},
		{"wrapped assertion (original in Extensions)", func(resp *etree.Element) {
			orig := child(resp, "Assertion")
			evil := orig.Copy()
			evil.RemoveChild(child(evil, "Signature"))
			child(child(evil, "Subject"), "NameID").SetText("admin@example.com")
			resp.RemoveChild(orig)
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(orig)
			resp.InsertChildAt(1, ext)
			resp.AddChild(evil)
		}},
	}
	for _, signResponse := range []bool{false, true} {
		c := e.app(signet.SAMLAddon{SignResponse: signResponse}, false)
		md, ed := e.metadata(c)
		certs := signingCerts(t, md)
		sp := e.serviceProvider(c, ed)
		b := e.browser()
		for _, tc := range tampers {
			t.Run(fmt.Sprintf("%s/signResponse=%v", tc.name, signResponse), func(t *testing.T) {
				f := postForm(t, b.follow("/samlp/"+c.ClientID))
				genuine, _ := base64.StdEncoding.DecodeString(f.fields.Get("SAMLResponse"))
				if _, err := parseWithCrewjam(sp, genuine, nil); err != nil {
					t.Fatalf("crewjam refuses the genuine response: %v", err)
				}
				if err := verifyXML(t, genuine, certs, signResponse); err != nil {
					t.Fatalf("the genuine response does not verify: %v", err)
				}
				bad := tamper(t, genuine, tc.fn)
				// goxmldsig: the SP reads the first assertion; it is trusted only
				// if its own signature or the Response's verifies.
				_, aerr := verifyGoxmldsig(bad, samlAssertion, certs)
				_, rerr := verifyGoxmldsig(bad, samlResponse, certs)
				if aerr == nil || signResponse && rerr == nil {
					t.Errorf("goxmldsig accepts the tampered response (assertion: %v, response: %v)", aerr, rerr)
				}
				if haveXmlsec1(t) {
					aerr := verifyXmlsec1(t, bad, samlAssertion, certs)
					rerr := verifyXmlsec1(t, bad, samlResponse, certs)
					if aerr == nil || signResponse && rerr == nil {
						t.Errorf("xmlsec1 accepts the tampered response (assertion: %v, response: %v)", aerr, rerr)
					}
				}
				if a, err := parseWithCrewjam(sp, bad, nil); err == nil {
					t.Errorf("crewjam accepts the tampered response: NameID %q", a.Subject.NameID.Value)
				}
			})
		}
	}
}
