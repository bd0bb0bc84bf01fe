package saml

import (
	"encoding/base64"
	"net/url"

	"github.com/beevik/etree"
)

// WS-Federation metadata namespaces.
const (
	nsFed        = "http://docs.oasis-open.org/wsfed/federation/200706"
	nsAddressing = "http://www.w3.org/2005/08/addressing"
	nsAuthClaims = "http://docs.oasis-open.org/wsfed/authorization/200706"
)

// NameID formats the identity provider metadata advertises.
var nameIDFormats = []string{
	"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
	"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
	"urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
	"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
}

// keyDescriptors appends to role one KeyDescriptor use="signing" per
// certificate (DER), in order.
func keyDescriptors(role *etree.Element, certs [][]byte) {
	for _, der := range certs {
		kd := role.CreateElement("KeyDescriptor")
		kd.CreateAttr("use", "signing")
		ki := kd.CreateElement("KeyInfo")
		ki.CreateAttr("xmlns", nsDSig)
		ki.CreateElement("X509Data").CreateElement("X509Certificate").SetText(base64.StdEncoding.EncodeToString(der))
	}
}

// buildIDPMetadata returns the SAML 2.0 identity provider metadata
// (saml-metadata §2.4.3) of one application: entity entityID, one signing
// KeyDescriptor per certificate (the current and the next key's, so that a
// service provider holding this document accepts assertions after the next
// rotation), single logout and single sign-on over HTTP-Redirect and
// HTTP-POST at base + "samlp/" + clientID, the NameID formats, and the
// attributes of mappings.
func buildIDPMetadata(entityID, base, clientID string, certs [][]byte, attrs []string) *etree.Document {
	ed := etree.NewElement("EntityDescriptor")
	ed.CreateAttr("xmlns", nsMetadata)
	ed.CreateAttr("entityID", entityID)
	idp := ed.CreateElement("IDPSSODescriptor")
	idp.CreateAttr("protocolSupportEnumeration", nsProtocol)
	keyDescriptors(idp, certs)
	sso := base + "samlp/" + url.PathEscape(clientID)
	for _, b := range []string{BindingRedirect, BindingPost} {
		s := idp.CreateElement("SingleLogoutService")
		s.CreateAttr("Binding", b)
		s.CreateAttr("Location", sso+"/logout")
	}
	for _, f := range nameIDFormats {
		idp.CreateElement("NameIDFormat").SetText(f)
	}
	for _, b := range []string{BindingRedirect, BindingPost} {
		s := idp.CreateElement("SingleSignOnService")
		s.CreateAttr("Binding", b)
		s.CreateAttr("Location", sso)
	}
	for _, name := range attrs {
		a := idp.CreateElement("Attribute")
		a.CreateAttr("xmlns", nsAssertion)
		a.CreateAttr("Name", name)
		a.CreateAttr("NameFormat", nameFormat(name))
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(ed)
	return doc
}

// buildFederationMetadata returns WS-Federation 1.2 metadata (§3.1): an
// EntityDescriptor with a SecurityTokenServiceType role whose signing
// KeyDescriptors are certs (current and next), which offers SAML 1.1 tokens
// and the claims attrs, with passive requestor endpoint endpoint.
func buildFederationMetadata(entityID, endpoint string, certs [][]byte, attrs []string) *etree.Document {
	ed := etree.NewElement("EntityDescriptor")
	ed.CreateAttr("xmlns", nsMetadata)
	ed.CreateAttr("entityID", entityID)
	ed.CreateAttr("ID", newID())
	rd := ed.CreateElement("RoleDescriptor")
	rd.CreateAttr("xmlns:xsi", nsXSI)
	rd.CreateAttr("xmlns:fed", nsFed)
	rd.CreateAttr("xsi:type", "fed:SecurityTokenServiceType")
	rd.CreateAttr("protocolSupportEnumeration", nsFed)
	keyDescriptors(rd, certs)
	tt := rd.CreateElement("fed:TokenTypesOffered")
	tt.CreateElement("fed:TokenType").CreateAttr("Uri", tokenTypeSAML11)
	ct := rd.CreateElement("fed:ClaimTypesOffered")
	for _, name := range attrs {
		c := ct.CreateElement("auth:ClaimType")
		c.CreateAttr("xmlns:auth", nsAuthClaims)
		c.CreateAttr("Uri", name)
		c.CreateAttr("Optional", "true")
	}
	ep := rd.CreateElement("fed:PassiveRequestorEndpoint").CreateElement("wsa:EndpointReference")
	ep.CreateAttr("xmlns:wsa", nsAddressing)
	ep.CreateElement("wsa:Address").SetText(endpoint)
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(ed)
	return doc
}
