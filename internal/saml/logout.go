package saml

import (
	"encoding/xml"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// LogoutRequest is what Signet reads of a SAML 2.0 LogoutRequest
// (saml-core §3.7.1).
type LogoutRequest struct {
	ID     string
	Issuer string
}

// logoutRequestXML is the wire form of LogoutRequest.
type logoutRequestXML struct {
	XMLName      xml.Name
	ID           string `xml:"ID,attr"`
	Version      string `xml:"Version,attr"`
	IssueInstant string `xml:"IssueInstant,attr"`
	Issuer       []struct {
		Value string `xml:",chardata"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
}

// parseLogoutRequest decodes a LogoutRequest of Version 2.0 with an ID, an
// IssueInstant and one Issuer.
// Returns an EINVALID signet.Error naming the problem.
func parseLogoutRequest(data []byte) (*LogoutRequest, error) {
	var x logoutRequestXML
	if err := unmarshal(data, &x); err != nil {
		return nil, err
	}
	if x.XMLName.Space != nsProtocol || x.XMLName.Local != "LogoutRequest" {
		return nil, invalidRequest("The SAML message is not a LogoutRequest.")
	}
	if x.Version != "2.0" {
		return nil, invalidRequest("The LogoutRequest's Version is not 2.0.")
	}
	id, err := checkID(x.ID)
	if err != nil {
		return nil, err
	}
	if _, err := parseInstant(x.IssueInstant); err != nil {
		return nil, invalidRequest("The LogoutRequest's IssueInstant is missing or not a UTC xs:dateTime.")
	}
	if len(x.Issuer) != 1 || strings.TrimSpace(x.Issuer[0].Value) == "" {
		return nil, invalidRequest("The LogoutRequest needs exactly one Issuer.")
	}
	return &LogoutRequest{ID: id, Issuer: strings.TrimSpace(x.Issuer[0].Value)}, nil
}

// serveLogout answers /samlp/{client}/logout: with a LogoutRequest from the
// SP it ends the session and posts a signed LogoutResponse to the
// application's logout callback; without one it just ends the session.
func (h *Handler) serveLogout(w http.ResponseWriter, r *http.Request, id string) {
	req, ok := h.tenant(w, r)
	if !ok {
		return
	}
	_, s, err := h.samlApp(r, req, id)
	if err != nil {
		h.fail(w, err)
		return
	}
	encoded, relay, redirect, err := readMessage(w, r)
	if err != nil {
		h.fail(w, err)
		return
	}
	if encoded == "" {
		if h.endSession(w, r) {
			h.render(w, http.StatusOK, "message", page{Title: "Signed out", Message: "You are signed out."}, "")
		}
		return
	}
	data, err := decodeMessage(encoded, redirect)
	if err != nil {
		h.fail(w, err)
		return
	}
	lr, err := parseLogoutRequest(data)
	if err != nil {
		h.fail(w, err)
		return
	}
	if lr.Issuer != s.audience {
		h.fail(w, invalidRequest("The LogoutRequest's Issuer %q is not this application's audience.", truncate(lr.Issuer, 256)))
		return
	}
	if !redirect {
		continueAsGet(w, r, data, relay)
		return
	}
	if s.slo == "" {
		h.fail(w, invalidRequest("Single logout is not configured for this application: set addons.samlp.logout.callback."))
		return
	}
	sg, err := currentSigner(req, s.alg)
	if err != nil {
		h.fail(w, err)
		return
	}
	if !h.endSession(w, r) {
		return
	}
	doc, err := buildLogoutResponse(s.entityID, s.slo, lr.ID, h.now(), sg)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.postSAML(w, req, s.slo, "SAMLResponse", doc, relay)
}

// buildLogoutResponse returns a signed samlp:LogoutResponse (saml-core
// §3.7.2) with status Success.
func buildLogoutResponse(issuer, dest, inResponseTo string, now time.Time, s *signer) (*etree.Document, error) {
	lr := etree.NewElement("samlp:LogoutResponse")
	lr.CreateAttr("xmlns:samlp", nsProtocol)
	lr.CreateAttr("xmlns:saml", nsAssertion)
	lr.CreateAttr("ID", newID())
	lr.CreateAttr("InResponseTo", inResponseTo)
	lr.CreateAttr("Version", "2.0")
	lr.CreateAttr("IssueInstant", instant(now))
	lr.CreateAttr("Destination", dest)
	lr.CreateElement("saml:Issuer").SetText(issuer)
	lr.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", statusSuccess)
	if err := s.sign(lr, "ID", after(lr, "Issuer")); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.SetRoot(lr)
	return doc, nil
}
