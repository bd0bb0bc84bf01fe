package saml

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/signet-auth/signet"
)

// settings are a client's SAML settings with every default applied.
type settings struct {
	clientID string
	// entityID is the identity provider's entity ID (Issuer).
	entityID string
	// audience is the SP's entity ID.
	audience string
	// acs are the assertion consumer service URLs a request may name;
	// defaultACS is the one used when it names none.
	acs        []string
	defaultACS string
	recipient  string // "" means the ACS URL
	dest       string // "" means the ACS URL
	alg        sigAlg
	lifetime   time.Duration
	nameIDFmt  string
	probes     []string
	mappings   map[string]string // profile field → attribute name
	typed      bool
	nameFormat bool
	authnCtx   string
	signResp   bool
	slo        string // SLO callback; "" means single logout is off
}

// entityIDFor returns Auth0's default identity provider entity ID for the
// issuer URL of a host: "urn:" and the host.
func entityIDFor(issuer string) string {
	h := strings.TrimSuffix(issuer, "/")
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
	}
	return "urn:" + h
}

// resolve applies the defaults to c's SAML add-on (which may be absent: the
// WS-Fed add-on alone uses the defaults) for a request to issuer.
// Returns an EINVALID error for stored settings Signet cannot honour.
func resolve(c signet.Client, issuer string) (settings, error) {
	a := signet.SAMLAddon{}
	if c.Addons.SAMLP != nil {
		a = *c.Addons.SAMLP
	}
	s := settings{
		clientID:   c.ClientID,
		entityID:   a.Issuer,
		audience:   a.Audience,
		recipient:  a.Recipient,
		dest:       a.Destination,
		lifetime:   time.Duration(a.LifetimeInSeconds) * time.Second,
		nameIDFmt:  a.NameIdentifierFormat,
		probes:     a.NameIdentifierProbes,
		mappings:   signet.DefaultSAMLMappings(),
		typed:      a.TypedAttributes == nil || *a.TypedAttributes,
		nameFormat: a.IncludeAttributeNameFormat == nil || *a.IncludeAttributeNameFormat,
		authnCtx:   a.AuthnContextClassRef,
		signResp:   a.SignResponse,
	}
	if s.entityID == "" {
		s.entityID = entityIDFor(issuer)
	}
	if s.audience == "" {
		s.audience = c.ClientID
	}
	if a.LifetimeInSeconds <= 0 {
		s.lifetime = signet.DefaultSAMLLifetime * time.Second
	}
	if s.nameIDFmt == "" {
		s.nameIDFmt = signet.DefaultNameIdentifierFormat
	}
	if len(s.probes) == 0 {
		s.probes = signet.DefaultNameIdentifierProbes()
	}
	if s.authnCtx == "" {
		s.authnCtx = signet.DefaultAuthnContextClassRef
	}
	for k, v := range a.Mappings {
		s.mappings[k] = v
	}
	if a.Logout != nil && (a.Logout.SLOEnabled == nil || *a.Logout.SLOEnabled) {
		s.slo = a.Logout.Callback
	}
	if err := a.Validate(); err != nil {
		return settings{}, err
	}
	s.alg = algorithm(a)
	if a.Recipient != "" {
		s.acs = append(s.acs, a.Recipient)
	}
	for _, cb := range c.Callbacks {
		if !slices.Contains(s.acs, cb) {
			s.acs = append(s.acs, cb)
		}
	}
	if len(s.acs) > 0 {
		s.defaultACS = s.acs[0]
	}
	return s, nil
}

// algorithm returns the signature method of a valid add-on: rsa-sha1
// only when it asks for it (Validate has checked AllowSHA1).
func algorithm(a signet.SAMLAddon) sigAlg {
	if a.SignatureAlgorithm == "rsa-sha1" {
		return rsaSHA1
	}
	return rsaSHA256
}

// profileFields lists the profile fields in the order attributes are sent.
var profileFields = signet.SAMLProfileFields

// profile returns the profile fields of u that have a value.
func profile(u signet.User) map[string]string {
	p := map[string]string{"user_id": u.ID}
	if u.Email != "" {
		p["email"] = u.Email
		p["email_verified"] = strconv.FormatBool(u.EmailVerified)
		p["upn"] = u.Email
		p["nickname"], _, _ = strings.Cut(u.Email, "@")
	}
	p["name"] = u.Name
	if p["name"] == "" {
		p["name"] = u.Email
	}
	if given, family, ok := strings.Cut(strings.TrimSpace(u.Name), " "); ok {
		p["given_name"], p["family_name"] = given, strings.TrimSpace(family)
	}
	for k, v := range p {
		if v == "" {
			delete(p, k)
		}
	}
	return p
}

// attributes returns the mapped attributes of a profile, in profileFields
// order, each attribute name once.
func (s settings) attributes(p map[string]string) []attribute {
	var out []attribute
	seen := map[string]bool{}
	for _, f := range profileFields {
		name, ok := s.mappings[f]
		v, has := p[f]
		if !ok || !has || name == "" || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, attribute{Name: name, Values: []string{v}})
	}
	return out
}

// attributeNames returns the attribute names the settings can send, sorted.
func (s settings) attributeNames() []string {
	var out []string
	for _, f := range profileFields {
		if n := s.mappings[f]; n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// nameID returns the value of the first probe attribute present, or the
// user id.
func (s settings) nameID(attrs []attribute, p map[string]string) string {
	for _, probe := range s.probes {
		for _, a := range attrs {
			if a.Name == probe && len(a.Values) > 0 && a.Values[0] != "" {
				return a.Values[0]
			}
		}
	}
	return p["user_id"]
}
