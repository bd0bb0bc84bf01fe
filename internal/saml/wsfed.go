package saml

import (
	"strings"

	"github.com/beevik/etree"
)

// WS-Trust and SAML 1.1 names of an RSTR.
const (
	nsTrust         = "http://schemas.xmlsoap.org/ws/2005/02/trust"
	nsPolicy        = "http://schemas.xmlsoap.org/ws/2004/09/policy"
	nsUtility       = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	nsSAML11        = "urn:oasis:names:tc:SAML:1.0:assertion"
	tokenTypeSAML11 = "urn:oasis:names:tc:SAML:1.0:assertion"
	cmBearer11      = "urn:oasis:names:tc:SAML:1.0:cm:bearer"
	amPassword11    = "urn:oasis:names:tc:SAML:1.0:am:password"
)

// buildRSTR returns a WS-Trust RequestSecurityTokenResponse (the wresult of
// a WS-Federation sign-in) carrying a SAML 1.1 assertion for a, signed with
// s. Returns an error only if signing fails.
func buildRSTR(a assertion, s *signer) (*etree.Document, error) {
	as := buildAssertion11(a)
	if err := s.sign(as, "AssertionID", len(as.Child)); err != nil {
		return nil, err
	}
	rstr := etree.NewElement("t:RequestSecurityTokenResponse")
	rstr.CreateAttr("xmlns:t", nsTrust)
	lt := rstr.CreateElement("t:Lifetime")
	c := lt.CreateElement("wsu:Created")
	c.CreateAttr("xmlns:wsu", nsUtility)
	c.SetText(instant(a.Now))
	e := lt.CreateElement("wsu:Expires")
	e.CreateAttr("xmlns:wsu", nsUtility)
	e.SetText(instant(a.Now.Add(a.Lifetime)))
	at := rstr.CreateElement("wsp:AppliesTo")
	at.CreateAttr("xmlns:wsp", nsPolicy)
	ep := at.CreateElement("wsa:EndpointReference")
	ep.CreateAttr("xmlns:wsa", nsAddressing)
	ep.CreateElement("wsa:Address").SetText(a.Audience)
	rstr.CreateElement("t:RequestedSecurityToken").AddChild(as)
	rstr.CreateElement("t:TokenType").SetText(tokenTypeSAML11)
	rstr.CreateElement("t:RequestType").SetText(nsTrust + "/Issue")
	rstr.CreateElement("t:KeyType").SetText("http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey")
	doc := etree.NewDocument()
	doc.SetRoot(rstr)
	return doc, nil
}

// buildAssertion11 returns an unsigned SAML 1.1 assertion (saml-core-1.1
// §2.3.2) for a: Conditions with an AudienceRestrictionCondition, an
// AttributeStatement (if a has attributes) and an AuthenticationStatement,
// each with the bearer subject.
func buildAssertion11(a assertion) *etree.Element {
	as := etree.NewElement("saml:Assertion")
	as.CreateAttr("xmlns:saml", nsSAML11)
	as.CreateAttr("MajorVersion", "1")
	as.CreateAttr("MinorVersion", "1")
	as.CreateAttr("AssertionID", newID())
	as.CreateAttr("Issuer", a.Issuer)
	as.CreateAttr("IssueInstant", instant(a.Now))
	cond := as.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", instant(a.Now))
	cond.CreateAttr("NotOnOrAfter", instant(a.Now.Add(a.Lifetime)))
	cond.CreateElement("saml:AudienceRestrictionCondition").CreateElement("saml:Audience").SetText(a.Audience)

	subject := func(parent *etree.Element) {
		s := parent.CreateElement("saml:Subject")
		n := s.CreateElement("saml:NameIdentifier")
		n.CreateAttr("Format", a.NameIDFormat)
		n.SetText(a.NameID)
		s.CreateElement("saml:SubjectConfirmation").CreateElement("saml:ConfirmationMethod").SetText(cmBearer11)
	}
	if len(a.Attributes) > 0 {
		st := as.CreateElement("saml:AttributeStatement")
		subject(st)
		for _, at := range a.Attributes {
			ns, name := splitClaim(at.Name)
			el := st.CreateElement("saml:Attribute")
			el.CreateAttr("AttributeName", name)
			el.CreateAttr("AttributeNamespace", ns)
			for _, v := range at.Values {
				el.CreateElement("saml:AttributeValue").SetText(v)
			}
		}
	}
	st := as.CreateElement("saml:AuthenticationStatement")
	st.CreateAttr("AuthenticationMethod", amPassword11)
	st.CreateAttr("AuthenticationInstant", instant(a.AuthTime))
	subject(st)
	return as
}

// splitClaim splits a claim type URI into the namespace and name of a SAML
// 1.1 attribute at its last '/': ".../claims/emailaddress" becomes
// (".../claims", "emailaddress"). A name without '/' gets namespace
// "urn:signet:claims".
func splitClaim(claim string) (ns, name string) {
	i := strings.LastIndexByte(claim, '/')
	if i <= 0 || i == len(claim)-1 {
		return "urn:signet:claims", claim
	}
	return claim[:i], claim[i+1:]
}
