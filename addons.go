package signet

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ClientAddons are a client's protocol add-ons (Auth0's client "addons").
// A nil add-on is disabled.
type ClientAddons struct {
	// SAMLP makes the client a SAML 2.0 service provider.
	SAMLP *SAMLAddon `json:"samlp,omitempty"`
	// WSFed makes the client a WS-Federation relying party.
	WSFed *WSFedAddon `json:"wsfed,omitempty"`
}

// SAMLAddon is a client's SAML 2.0 settings (Auth0's addons.samlp, with
// Auth0's names). Zero fields take the defaults below. WS-Federation uses
// the same settings for its SAML 1.1 assertions (mappings, name identifier,
// lifetime, issuer).
type SAMLAddon struct {
	// Audience is the service provider's entity ID: the AuthnRequest Issuer
	// accepted and the assertion's Audience. "" means the client id.
	Audience string `json:"audience,omitempty"`
	// Recipient is the assertion consumer service URL used for IdP-initiated
	// sign-on and as SubjectConfirmationData Recipient; the client's
	// Callbacks are further ACS URLs an AuthnRequest may name.
	Recipient string `json:"recipient,omitempty"`
	// Destination is the Response's Destination; "" means the ACS URL the
	// response is posted to.
	Destination string `json:"destination,omitempty"`
	// Issuer is the identity provider's entity ID; "" means "urn:" + the
	// tenant host, as Auth0's.
	Issuer string `json:"issuer,omitempty"`
	// Mappings map a user profile field (user_id, email, email_verified,
	// name, nickname, upn) to the SAML attribute name it is sent as; they
	// are added to (and override) DefaultSAMLMappings.
	Mappings map[string]string `json:"mappings,omitempty"`
	// NameIdentifierFormat is the NameID Format; default
	// "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified".
	NameIdentifierFormat string `json:"nameIdentifierFormat,omitempty"`
	// NameIdentifierProbes are attribute names tried in order; the NameID is
	// the value of the first one present. Default DefaultNameIdentifierProbes.
	NameIdentifierProbes []string `json:"nameIdentifierProbes,omitempty"`
	// SignResponse signs the whole Response as well as the assertion.
	SignResponse bool `json:"signResponse,omitempty"`
	// SignatureAlgorithm is "rsa-sha256" (default) or "rsa-sha1"; rsa-sha1
	// is accepted only with AllowSHA1.
	SignatureAlgorithm string `json:"signatureAlgorithm,omitempty"`
	// DigestAlgorithm is "sha256" (default) or "sha1" (only with AllowSHA1);
	// it must use the hash of SignatureAlgorithm.
	DigestAlgorithm string `json:"digestAlgorithm,omitempty"`
	// AllowSHA1 (a Signet extension) must be true for rsa-sha1 or sha1.
	AllowSHA1 bool `json:"allowSHA1,omitempty"`
	// LifetimeInSeconds is how long an assertion is valid; default 3600.
	LifetimeInSeconds int `json:"lifetimeInSeconds,omitempty"`
	// AuthnContextClassRef is the AuthnStatement's class; default
	// "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified".
	AuthnContextClassRef string `json:"authnContextClassRef,omitempty"`
	// TypedAttributes, if not false, gives attribute values xsi:type="xs:string".
	TypedAttributes *bool `json:"typedAttributes,omitempty"`
	// IncludeAttributeNameFormat, if not false, gives each attribute a
	// NameFormat (uri for names that are URIs, basic otherwise).
	IncludeAttributeNameFormat *bool `json:"includeAttributeNameFormat,omitempty"`
	// Logout configures single logout.
	Logout *SAMLLogout `json:"logout,omitempty"`
}

// SAMLLogout is the single-logout part of a SAMLAddon (Auth0's addons.samlp.logout).
type SAMLLogout struct {
	// Callback is the SP's SingleLogoutService URL, where the LogoutResponse
	// is posted.
	Callback string `json:"callback,omitempty"`
	// SLOEnabled, if not false, enables single logout.
	SLOEnabled *bool `json:"slo_enabled,omitempty"`
}

// WSFedAddon is a client's WS-Federation settings (Auth0's addons.wsfed,
// which has no fields of its own there).
type WSFedAddon struct {
	// Realm (a Signet extension) is a further wtrealm accepted besides the
	// client id and the SAML addon's audience.
	Realm string `json:"realm,omitempty"`
}

// SAML defaults (Auth0's).
const (
	DefaultSAMLLifetime         = 3600
	DefaultNameIdentifierFormat = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	DefaultAuthnContextClassRef = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
)

// DefaultSAMLMappings returns Auth0's default attribute names by profile field.
func DefaultSAMLMappings() map[string]string {
	return map[string]string{
		"user_id": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
		"email":   "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
		"name":    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
		"upn":     "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
	}
}

// DefaultNameIdentifierProbes returns Auth0's default NameID probes.
func DefaultNameIdentifierProbes() []string {
	return []string{
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
	}
}

// SAMLProfileFields are the user profile fields SAMLAddon.Mappings may name.
var SAMLProfileFields = []string{"user_id", "email", "email_verified", "name", "nickname", "given_name", "family_name", "upn"}

// Limits of SAMLAddon.Validate.
const (
	MaxSAMLLifetime  = 7 * 24 * 3600 // one week
	maxSAMLString    = 1024
	maxSAMLMappings  = 16
	maxSAMLProbes    = 10
	maxSAMLURLLength = 2048
)

// Validate reports whether Signet can honour the add-on: signatureAlgorithm
// "rsa-sha256" or "rsa-sha1", digestAlgorithm "sha256" or "sha1" with the
// signature's hash (SHA-1 only with AllowSHA1), lifetimeInSeconds 0 to
// MaxSAMLLifetime, recipient, destination and logout.callback absolute http
// or https URLs without a fragment, mappings naming SAMLProfileFields, at
// most 10 non-empty probes, and strings of at most 1024 characters without
// control characters.
// Returns an EINVALID *Error naming the first bad property.
func (a SAMLAddon) Validate() error {
	sig, dig := a.SignatureAlgorithm, a.DigestAlgorithm
	if sig == "" {
		sig = "rsa-sha256"
	}
	if dig == "" {
		dig = strings.TrimPrefix(sig, "rsa-")
	}
	switch {
	case sig != "rsa-sha256" && sig != "rsa-sha1":
		return Errorf(EINVALID, "addons.samlp.signatureAlgorithm must be rsa-sha256 or rsa-sha1, not %q.", a.SignatureAlgorithm)
	case dig != "sha256" && dig != "sha1":
		return Errorf(EINVALID, "addons.samlp.digestAlgorithm must be sha256 or sha1, not %q.", a.DigestAlgorithm)
	case (sig == "rsa-sha1" || dig == "sha1") && !a.AllowSHA1:
		return Errorf(EINVALID, "addons.samlp: SHA-1 signatures are refused; use rsa-sha256 and sha256, or set allowSHA1 to true to accept the risk.")
	case strings.TrimPrefix(sig, "rsa-") != dig:
		return Errorf(EINVALID, "addons.samlp.digestAlgorithm %s does not match signatureAlgorithm %s: Signet signs with one hash for both.", dig, sig)
	case a.LifetimeInSeconds < 0 || a.LifetimeInSeconds > MaxSAMLLifetime:
		return Errorf(EINVALID, "addons.samlp.lifetimeInSeconds must be between 1 and %d.", MaxSAMLLifetime)
	case len(a.Mappings) > maxSAMLMappings:
		return Errorf(EINVALID, "addons.samlp.mappings has too many entries.")
	case len(a.NameIdentifierProbes) > maxSAMLProbes:
		return Errorf(EINVALID, "addons.samlp.nameIdentifierProbes has more than %d entries.", maxSAMLProbes)
	}
	urls := map[string]string{"recipient": a.Recipient, "destination": a.Destination}
	if a.Logout != nil {
		urls["logout.callback"] = a.Logout.Callback
	}
	for name, u := range urls {
		if u != "" && !httpURL(u) {
			return Errorf(EINVALID, "addons.samlp.%s must be an absolute http or https URL without a fragment, of at most %d bytes.", name, maxSAMLURLLength)
		}
	}
	strs := map[string]string{"audience": a.Audience, "issuer": a.Issuer, "nameIdentifierFormat": a.NameIdentifierFormat,
		"authnContextClassRef": a.AuthnContextClassRef}
	for i, p := range a.NameIdentifierProbes {
		if p == "" {
			return Errorf(EINVALID, "addons.samlp.nameIdentifierProbes[%d] is empty.", i)
		}
		strs[fmt.Sprintf("nameIdentifierProbes[%d]", i)] = p
	}
	for k, v := range a.Mappings {
		if !slices.Contains(SAMLProfileFields, k) {
			return Errorf(EINVALID, "addons.samlp.mappings: %q is not a profile field; use one of %s.", k, strings.Join(SAMLProfileFields, ", "))
		}
		if v == "" {
			return Errorf(EINVALID, "addons.samlp.mappings.%s is empty.", k)
		}
		strs["mappings."+k] = v
	}
	for name, s := range strs {
		if !plainString(s) {
			return Errorf(EINVALID, "addons.samlp.%s must be at most %d characters without control characters.", name, maxSAMLString)
		}
	}
	return nil
}

// Validate reports whether the WS-Fed add-on's realm is at most 1024
// characters without control characters.
// Returns an EINVALID *Error if not.
func (a WSFedAddon) Validate() error {
	if !plainString(a.Realm) {
		return Errorf(EINVALID, "addons.wsfed.realm must be at most %d characters without control characters.", maxSAMLString)
	}
	return nil
}

// plainString reports whether s is valid UTF-8 of at most maxSAMLString
// characters without control characters.
func plainString(s string) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= maxSAMLString &&
		!strings.ContainsFunc(s, unicode.IsControl)
}

// httpURL reports whether s is an absolute http(s) URL with a host, without
// a fragment or user information, of at most maxSAMLURLLength bytes.
func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && len(s) <= maxSAMLURLLength && (u.Scheme == "https" || u.Scheme == "http") &&
		u.Host != "" && u.User == nil && u.Fragment == "" && !strings.Contains(s, "#")
}
