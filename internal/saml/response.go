package saml

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// attribute is one SAML attribute with its values.
type attribute struct {
	Name   string
	Values []string
}

// assertion is everything one assertion says, whichever protocol carries it.
type assertion struct {
	// Issuer is the identity provider's entity ID.
	Issuer string
	// Audience is the service provider's entity ID (SAML) or realm (WS-Fed).
	Audience string
	// Recipient and Destination are where the assertion is meant to be
	// delivered (SAML 2.0 only): SubjectConfirmationData Recipient and
	// Response Destination.
	Recipient, Destination string
	// InResponseTo is the AuthnRequest's ID; "" for IdP-initiated sign-on.
	InResponseTo string
	Now          time.Time
	Lifetime     time.Duration
	// AuthTime is when the user signed in; SessionIndex names the session.
	AuthTime     time.Time
	SessionIndex string
	NameID       string
	NameIDFormat string
	AuthnContext string
	Attributes   []attribute
	// TypedAttributes gives values xsi:type="xs:string"; NameFormat gives
	// each attribute a NameFormat.
	TypedAttributes, NameFormat bool
	// SignResponse signs the SAML 2.0 Response too.
	SignResponse bool
}

// Attribute name formats (saml-core §8.2).
const (
	nameFormatURI   = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	nameFormatBasic = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
)

// newID returns a fresh xs:ID: "_" and 40 hex digits (160 random bits).
func newID() string {
	b := make([]byte, 20)
	rand.Read(b)
	return "_" + hex.EncodeToString(b)
}

// instant formats t as a SAML xs:dateTime in UTC with milliseconds.
func instant(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// newResponse returns a samlp:Response element for a, up to its Issuer:
// the Status and anything after it are the caller's.
func newResponse(a assertion) *etree.Element {
	resp := etree.NewElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", nsProtocol)
	resp.CreateAttr("xmlns:saml", nsAssertion)
	resp.CreateAttr("ID", newID())
	if a.InResponseTo != "" {
		resp.CreateAttr("InResponseTo", a.InResponseTo)
	}
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", instant(a.Now))
	resp.CreateAttr("Destination", a.Destination)
	resp.CreateElement("saml:Issuer").SetText(a.Issuer)
	return resp
}

// buildResponse returns a samlp:Response (saml-core §3.3.3) carrying one
// assertion signed with s, itself signed too if a.SignResponse.
// Returns an error only if signing fails.
func buildResponse(a assertion, s *signer) (*etree.Document, error) {
	resp := newResponse(a)
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", statusSuccess)

	as := buildAssertion(a)
	if err := s.sign(as, "ID", after(as, "Issuer")); err != nil {
		return nil, err
	}
	resp.AddChild(as)
	if a.SignResponse {
		if err := s.sign(resp, "ID", after(resp, "Issuer")); err != nil {
			return nil, err
		}
	}
	doc := etree.NewDocument()
	doc.SetRoot(resp)
	return doc, nil
}

// buildStatusResponse returns an unsigned samlp:Response with a failure
// status (e.g. NoPassive) and no assertion.
func buildStatusResponse(a assertion, top, second, message string) *etree.Document {
	resp := newResponse(a)
	st := resp.CreateElement("samlp:Status")
	code := st.CreateElement("samlp:StatusCode")
	code.CreateAttr("Value", top)
	if second != "" {
		code.CreateElement("samlp:StatusCode").CreateAttr("Value", second)
	}
	if message != "" {
		st.CreateElement("samlp:StatusMessage").SetText(message)
	}
	doc := etree.NewDocument()
	doc.SetRoot(resp)
	return doc
}

// buildAssertion returns an unsigned saml:Assertion (saml-core §2.3.3) that
// declares its own namespace, so that it can be signed on its own.
func buildAssertion(a assertion) *etree.Element {
	until := instant(a.Now.Add(a.Lifetime))
	as := etree.NewElement("saml:Assertion")
	as.CreateAttr("xmlns:saml", nsAssertion)
	as.CreateAttr("ID", newID())
	as.CreateAttr("Version", "2.0")
	as.CreateAttr("IssueInstant", instant(a.Now))
	as.CreateElement("saml:Issuer").SetText(a.Issuer)

	subj := as.CreateElement("saml:Subject")
	nid := subj.CreateElement("saml:NameID")
	nid.CreateAttr("Format", a.NameIDFormat)
	nid.SetText(a.NameID)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", cmBearer)
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	if a.InResponseTo != "" {
		scd.CreateAttr("InResponseTo", a.InResponseTo)
	}
	scd.CreateAttr("NotOnOrAfter", until)
	scd.CreateAttr("Recipient", a.Recipient)

	cond := as.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", instant(a.Now))
	cond.CreateAttr("NotOnOrAfter", until)
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(a.Audience)

	if len(a.Attributes) > 0 {
		st := as.CreateElement("saml:AttributeStatement")
		for _, at := range a.Attributes {
			el := st.CreateElement("saml:Attribute")
			el.CreateAttr("Name", at.Name)
			if a.NameFormat {
				el.CreateAttr("NameFormat", nameFormat(at.Name))
			}
			for _, v := range at.Values {
				ve := el.CreateElement("saml:AttributeValue")
				if a.TypedAttributes {
					ve.CreateAttr("xmlns:xs", nsXS)
					ve.CreateAttr("xmlns:xsi", nsXSI)
					ve.CreateAttr("xsi:type", "xs:string")
				}
				ve.SetText(v)
			}
		}
	}

	st := as.CreateElement("saml:AuthnStatement")
	st.CreateAttr("AuthnInstant", instant(a.AuthTime))
	st.CreateAttr("SessionIndex", a.SessionIndex)
	st.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText(a.AuthnContext)
	return as
}

// nameFormat is the NameFormat of an attribute name: uri for a URI or URN,
// basic otherwise.
func nameFormat(name string) string {
	if strings.Contains(name, ":") {
		return nameFormatURI
	}
	return nameFormatBasic
}
