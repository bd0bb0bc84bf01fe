package saml

import (
	"bytes"
	"encoding/xml"
	"strings"
	"time"
	"unicode"

	"github.com/signet-auth/signet"
)

// SAML 2.0 namespaces, bindings and formats used here.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsXSI       = "http://www.w3.org/2001/XMLSchema-instance"
	nsXS        = "http://www.w3.org/2001/XMLSchema"

	// BindingRedirect and BindingPost are the two bindings Signet speaks.
	BindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	BindingPost     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

	statusSuccess   = "urn:oasis:names:tc:SAML:2.0:status:Success"
	statusRequester = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	statusNoPassive = "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
	cmBearer        = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// Limits on the fields of a request that are echoed back or compared.
const (
	maxIDLen  = 256
	maxURILen = 2048
)

// AuthnRequest is what Signet reads of a SAML 2.0 AuthnRequest
// (saml-core §3.4.1). Its signature, if any, is not checked: the response
// only ever goes to an assertion consumer service URL registered for the
// application, so a forged request cannot send an assertion elsewhere.
type AuthnRequest struct {
	// ID is echoed as InResponseTo.
	ID           string
	IssueInstant time.Time
	// Issuer is the service provider's entity ID.
	Issuer      string
	Destination string
	// ACSURL is AssertionConsumerServiceURL; "" when the request names none.
	ACSURL string
	// ProtocolBinding is the binding the SP asks the response be sent with;
	// "" or BindingPost.
	ProtocolBinding string
	// NameIDFormat is the Format of NameIDPolicy; "" when absent.
	NameIDFormat string
	ForceAuthn   bool
	IsPassive    bool
}

// authnRequestXML is the wire form of AuthnRequest.
type authnRequestXML struct {
	XMLName      xml.Name
	ID           string `xml:"ID,attr"`
	Version      string `xml:"Version,attr"`
	IssueInstant string `xml:"IssueInstant,attr"`
	Destination  string `xml:"Destination,attr"`
	ACSURL       string `xml:"AssertionConsumerServiceURL,attr"`
	ACSIndex     string `xml:"AssertionConsumerServiceIndex,attr"`
	Binding      string `xml:"ProtocolBinding,attr"`
	ForceAuthn   string `xml:"ForceAuthn,attr"`
	IsPassive    string `xml:"IsPassive,attr"`
	Issuer       []struct {
		Value string `xml:",chardata"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
	NameIDPolicy []struct {
		Format string `xml:"Format,attr"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:protocol NameIDPolicy"`
}

// ParseAuthnRequest decodes the SAMLRequest parameter of an AuthnRequest:
// base64 of raw DEFLATE for the HTTP-Redirect binding (redirect true),
// base64 of the XML for HTTP-POST. It accepts only a single
// samlp:AuthnRequest of Version 2.0 with an ID, an IssueInstant and one
// Issuer, asking (if at all) for the HTTP-POST binding.
// Returns an EINVALID signet.Error naming what is wrong: the Err* decoding
// errors of this package, or a message about the request's content.
func ParseAuthnRequest(encoded string, redirect bool) (*AuthnRequest, error) {
	data, err := decodeMessage(encoded, redirect)
	if err != nil {
		return nil, err
	}
	return parseAuthnRequest(data)
}

// parseAuthnRequest is ParseAuthnRequest on the decoded XML.
func parseAuthnRequest(data []byte) (*AuthnRequest, error) {
	var x authnRequestXML
	if err := unmarshal(data, &x); err != nil {
		return nil, err
	}
	if x.XMLName.Space != nsProtocol || x.XMLName.Local != "AuthnRequest" {
		return nil, invalidRequest("The SAML message is not an AuthnRequest.")
	}
	if x.Version != "2.0" {
		return nil, invalidRequest("The AuthnRequest's Version is not 2.0.")
	}
	var err error
	req := &AuthnRequest{Destination: x.Destination, ACSURL: x.ACSURL, ProtocolBinding: x.Binding}
	if req.ID, err = checkID(x.ID); err != nil {
		return nil, err
	}
	if req.IssueInstant, err = parseInstant(x.IssueInstant); err != nil {
		return nil, invalidRequest("The AuthnRequest's IssueInstant is missing or not a UTC xs:dateTime.")
	}
	if len(x.Issuer) != 1 || strings.TrimSpace(x.Issuer[0].Value) == "" {
		return nil, invalidRequest("The AuthnRequest needs exactly one Issuer.")
	}
	req.Issuer = strings.TrimSpace(x.Issuer[0].Value)
	for _, s := range []string{req.Issuer, req.Destination, req.ACSURL} {
		if len(s) > maxURILen || strings.ContainsFunc(s, unicode.IsControl) {
			return nil, invalidRequest("The AuthnRequest has an over-long or malformed Issuer, Destination or AssertionConsumerServiceURL.")
		}
	}
	if req.ProtocolBinding != "" && req.ProtocolBinding != BindingPost {
		return nil, invalidRequest("The AuthnRequest asks for the response over %s; Signet answers over HTTP-POST only.", req.ProtocolBinding)
	}
	if x.ACSIndex != "" && req.ACSURL != "" {
		return nil, invalidRequest("The AuthnRequest names both an AssertionConsumerServiceIndex and an AssertionConsumerServiceURL.")
	}
	if len(x.NameIDPolicy) > 1 {
		return nil, invalidRequest("The AuthnRequest has more than one NameIDPolicy.")
	}
	if len(x.NameIDPolicy) == 1 {
		req.NameIDFormat = x.NameIDPolicy[0].Format
		if len(req.NameIDFormat) > maxURILen {
			return nil, invalidRequest("The AuthnRequest's NameIDPolicy Format is too long.")
		}
	}
	if req.ForceAuthn, err = parseBool(x.ForceAuthn); err != nil {
		return nil, err
	}
	if req.IsPassive, err = parseBool(x.IsPassive); err != nil {
		return nil, err
	}
	return req, nil
}

// decodeMessage decodes a SAMLRequest of either binding.
func decodeMessage(encoded string, redirect bool) ([]byte, error) {
	if encoded == "" {
		return nil, invalidRequest("The SAMLRequest parameter is empty.")
	}
	if redirect {
		return decodeRedirect(encoded)
	}
	return decodePost(encoded)
}

// unmarshal checks data with checkXML and decodes it into v.
func unmarshal(data []byte, v any) error {
	if err := checkXML(data); err != nil {
		return err
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	if err := d.Decode(v); err != nil {
		return ErrMessageXML
	}
	return nil
}

// checkID returns id if it is a usable xs:ID: present, at most maxIDLen
// bytes, an NCName of ASCII letters, digits, '_', '-' and '.' that does not
// start with a digit, '-' or '.'.
func checkID(id string) (string, error) {
	ok := id != "" && len(id) <= maxIDLen
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			ok = false
		}
	}
	if !ok {
		return "", invalidRequest("The message's ID is missing or not a valid xs:ID of at most %d characters.", maxIDLen)
	}
	return id, nil
}

// parseInstant parses a SAML time (xs:dateTime in UTC, saml-core §1.3.3).
func parseInstant(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// parseBool parses an xs:boolean attribute; "" is false.
func parseBool(s string) (bool, error) {
	switch s {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, invalidRequest("The AuthnRequest has a ForceAuthn or IsPassive that is not a boolean.")
}

// invalidRequest returns an EINVALID error with a message for the error page.
func invalidRequest(format string, args ...any) error {
	return signet.Errorf(signet.EINVALID, format, args...)
}
