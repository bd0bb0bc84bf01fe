package saml_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/saml"
)

func deflate64(s string) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write([]byte(s))
	w.Close()
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

const goodRequest = `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_abc123" Version="2.0" IssueInstant="2026-01-02T03:04:05Z" Destination="https://idp.example.com/samlp/x" AssertionConsumerServiceURL="https://sp.example.com/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" IsPassive="true"><saml:Issuer>urn:sp</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" AllowCreate="true"/></samlp:AuthnRequest>`

func TestParseAuthnRequest(t *testing.T) {
	for _, redirect := range []bool{true, false} {
		enc := b64
		if redirect {
			enc = deflate64
		}
		r, err := saml.ParseAuthnRequest(enc(goodRequest), redirect)
		if err != nil {
			t.Fatal(err)
		}
		if r.ID != "_abc123" || r.Issuer != "urn:sp" || r.ACSURL != "https://sp.example.com/acs" || !r.IsPassive || r.ForceAuthn ||
			r.NameIDFormat != "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" || r.IssueInstant.Year() != 2026 {
			t.Fatalf("parsed %+v", r)
		}
	}
	// Line breaks in the base64, as some SPs send.
	wrapped := b64(goodRequest)
	wrapped = wrapped[:40] + "\r\n" + wrapped[40:]
	if _, err := saml.ParseAuthnRequest(wrapped, false); err != nil {
		t.Fatalf("wrapped base64: %v", err)
	}

	replace := func(old, new string) string { return strings.Replace(goodRequest, old, new, 1) }
	bomb := strings.Replace(goodRequest, "urn:sp", strings.Repeat("a", 200<<10), 1)
	for _, tc := range []struct {
		name     string
		encoded  string
		redirect bool
		want     error // nil: any EINVALID error
	}{
		{"empty", "", true, nil},
		{"not base64", "***", true, saml.ErrMessageEncoding},
		{"not deflate", b64(goodRequest), true, saml.ErrMessageDeflate},
		{"too long encoded", strings.Repeat("A", saml.MaxEncodedMessage+4), false, saml.ErrMessageTooLarge},
		{"deflate bomb", deflate64(bomb), true, saml.ErrMessageTooLarge},
		{"too large post", b64(bomb[:saml.MaxMessageXML+1]), false, saml.ErrMessageTooLarge},
		{"not xml", b64("hello"), false, saml.ErrMessageXML},
		{"truncated", b64(goodRequest[:100]), false, saml.ErrMessageXML},
		{"doctype", b64(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + goodRequest), false, saml.ErrMessageDTD},
		{"billion laughs", b64(`<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>` + replace("urn:sp", "&b;")), false, saml.ErrMessageDTD},
		{"undeclared entity", b64(replace("urn:sp", "&xxe;")), false, saml.ErrMessageXML},
		{"processing instruction", b64(replace("<saml:Issuer>", "<?php evil?><saml:Issuer>")), false, saml.ErrMessageDTD},
		{"two roots", b64(goodRequest + goodRequest), false, saml.ErrMessageXML},
		{"text after root", b64(goodRequest + "x"), false, saml.ErrMessageXML},
		{"deep", b64(replace("<saml:Issuer>urn:sp</saml:Issuer>", "<saml:Issuer>urn:sp</saml:Issuer>"+strings.Repeat("<a>", 20)+strings.Repeat("</a>", 20))), false, saml.ErrMessageShape},
		{"wrong root", b64(strings.ReplaceAll(goodRequest, "AuthnRequest", "LogoutRequest")), false, nil},
		{"wrong namespace", b64(replace(`xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"`, `xmlns:samlp="urn:evil"`)), false, nil},
		{"version", b64(replace(`Version="2.0"`, `Version="1.1"`)), false, nil},
		{"no id", b64(replace(`ID="_abc123"`, ``)), false, nil},
		{"bad id", b64(replace(`ID="_abc123"`, `ID="1&lt;script&gt;"`)), false, nil},
		{"long id", b64(replace(`ID="_abc123"`, `ID="_`+strings.Repeat("a", 300)+`"`)), false, nil},
		{"bad instant", b64(replace(`2026-01-02T03:04:05Z`, `yesterday`)), false, nil},
		{"no issuer", b64(replace(`<saml:Issuer>urn:sp</saml:Issuer>`, ``)), false, nil},
		{"two issuers", b64(replace(`<saml:Issuer>urn:sp</saml:Issuer>`, `<saml:Issuer>urn:sp</saml:Issuer><saml:Issuer>urn:b</saml:Issuer>`)), false, nil},
		{"issuer in the wrong namespace", b64(replace(`<saml:Issuer>urn:sp</saml:Issuer>`, `<samlp:Issuer>urn:sp</samlp:Issuer>`)), false, nil},
		{"artifact binding", b64(replace(`bindings:HTTP-POST`, `bindings:HTTP-Artifact`)), false, nil},
		{"index and url", b64(replace(`IsPassive="true"`, `AssertionConsumerServiceIndex="1"`)), false, nil},
		{"bad boolean", b64(replace(`IsPassive="true"`, `IsPassive="yes"`)), false, nil},
		{"control character in issuer", b64(replace(`urn:sp`, `urn:sp&#x1b;`)), false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := saml.ParseAuthnRequest(tc.encoded, tc.redirect)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, signet.ErrInvalid) {
				t.Fatalf("error %v is not EINVALID", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseWSFedQuery(t *testing.T) {
	r, err := saml.ParseWSFedQuery("wa=wsignin1.0&wtrealm=urn%3Arp&wreply=https%3A%2F%2Frp.example.com%2F&wctx=rm%3D0%26id%3Dx&wct=2026-01-01T00:00:00Z")
	if err != nil || r.Action != saml.ActionSignIn || r.Realm != "urn:rp" || r.Reply != "https://rp.example.com/" || r.Context != "rm=0&id=x" {
		t.Fatalf("parsed %+v, %v", r, err)
	}
	for _, q := range []string{
		"", "wtrealm=x", "wa=wsignin2.0", "wa=wsignin1.0&wa=wsignout1.0", "wa=wsignin1.0&wtrealm=a&wtrealm=b",
		"wa=wsignin1.0&wreply=javascript:alert(1)", "wa=wsignin1.0&wreply=%2Frelative", "wa=wsignin1.0&wreply=https%3A%2F%2Fa%2F%23frag",
		"wa=wsignin1.0&wreply=https%3A%2F%2Fuser%40a%2F", "wa=wsignin1.0&wctx=" + strings.Repeat("a", 5000), "wa=wsignin1.0&wreq=%3Cx%2F%3E",
		"wa=wsignin1.0&wtrealm=a%00b", "wa=wsignin1.0&wtrealm=%ff", "wa=wsignin1.0&wtrealm=%zz", "wa=wsignin1.0&x=" + strings.Repeat("a", 17<<10),
	} {
		if _, err := saml.ParseWSFedQuery(q); err == nil || !errors.Is(err, signet.ErrInvalid) {
			t.Errorf("%.80q: err %v, want EINVALID", q, err)
		}
	}
}

// FuzzAuthnRequest feeds arbitrary SAMLRequest values to both bindings:
// no panic, only EINVALID errors, and whatever is accepted satisfies the
// documented guarantees.
func FuzzAuthnRequest(f *testing.F) {
	f.Add(b64(goodRequest), false)
	f.Add(deflate64(goodRequest), true)
	f.Add(b64(`<!DOCTYPE x [<!ENTITY e "x">]>`+goodRequest), false)
	f.Add(b64(strings.Replace(goodRequest, "urn:sp", "&amp;&lt;", 1)), false)
	f.Add(deflate64(strings.Repeat("<a>", 100)), true)
	f.Fuzz(func(t *testing.T, encoded string, redirect bool) {
		r, err := saml.ParseAuthnRequest(encoded, redirect)
		if err != nil {
			if !errors.Is(err, signet.ErrInvalid) {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if r.ID == "" || len(r.ID) > 256 || strings.ContainsAny(r.ID, "<>&\"' ") {
			t.Fatalf("accepted ID %q", r.ID)
		}
		if r.Issuer == "" || strings.ContainsFunc(r.Issuer+r.ACSURL+r.Destination, unicode.IsControl) {
			t.Fatalf("accepted Issuer %q ACS %q", r.Issuer, r.ACSURL)
		}
		if r.ProtocolBinding != "" && r.ProtocolBinding != saml.BindingPost {
			t.Fatalf("accepted binding %q", r.ProtocolBinding)
		}
	})
}

// FuzzWSFedQuery feeds arbitrary query strings to the WS-Fed parser.
func FuzzWSFedQuery(f *testing.F) {
	f.Add("wa=wsignin1.0&wtrealm=urn%3Arp&wreply=https%3A%2F%2Frp.example.com%2F&wctx=x")
	f.Add("wa=wsignout1.0&wreply=http%3A%2F%2Fa")
	f.Add("wa=wsignin1.0&wreply=javascript:alert(1)")
	f.Add("wa=wsignin1.0;wtrealm=a")
	f.Fuzz(func(t *testing.T, q string) {
		r, err := saml.ParseWSFedQuery(q)
		if err != nil {
			if !errors.Is(err, signet.ErrInvalid) {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		switch r.Action {
		case saml.ActionSignIn, saml.ActionSignOut, saml.ActionSignOutCleanup:
		default:
			t.Fatalf("accepted action %q", r.Action)
		}
		if r.Reply != "" && !strings.HasPrefix(r.Reply, "https://") && !strings.HasPrefix(r.Reply, "http://") {
			t.Fatalf("accepted wreply %q", r.Reply)
		}
		if len(r.Context) > 4096 || strings.ContainsFunc(r.Realm+r.Reply+r.Context, unicode.IsControl) {
			t.Fatalf("accepted %+v", r)
		}
	})
}
