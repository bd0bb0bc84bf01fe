package oauth

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/signet-auth/signet/internal/keyring"
)

// jwksHeaders are the header values of one view's JWKS response.
type jwksHeaders struct {
	view          *keyring.View
	etag          []string
	contentLength []string
}

// headersFor returns the cached header values of v, computing them once per
// view (the cache holds the latest view of each tenant only).
func (h *Handler) headersFor(v *keyring.View) *jwksHeaders {
	if c, ok := h.jwks.Load(v.Tenant.Name); ok {
		if jh := c.(*jwksHeaders); jh.view == v {
			return jh
		}
	}
	jh := &jwksHeaders{
		view:          v,
		etag:          []string{v.ETag},
		contentLength: []string{strconv.Itoa(len(v.JWKS))},
	}
	h.jwks.Store(v.Tenant.Name, jh)
	return jh
}

// serveJWKS answers GET (and HEAD) /.well-known/jwks.json with the view's
// prebuilt JWKS bytes.
func (h *Handler) serveJWKS(w http.ResponseWriter, r *http.Request) {
	req, ok := request(w, r)
	if !ok {
		return
	}
	v := req.View
	jh := h.headersFor(v)
	hdr := w.Header()
	hdr["Cache-Control"] = h.cacheControl
	hdr["Etag"] = jh.etag
	hdr["Access-Control-Allow-Origin"] = hdrAnyOrigin
	if inm := r.Header["If-None-Match"]; len(inm) > 0 && noneMatchHit(inm, v.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr["Content-Type"] = hdrJSON
	hdr["Content-Length"] = jh.contentLength
	w.Write(v.JWKS)
}

// noneMatchHit reports whether an If-None-Match field (all its lines) matches
// etag under the weak comparison RFC 9110 §13.1.2 prescribes: "*" matches,
// and W/"x" matches "x". It does not allocate.
func noneMatchHit(fields []string, etag string) bool {
	opaque := etag
	if len(opaque) > 2 && opaque[0] == 'W' && opaque[1] == '/' {
		opaque = opaque[2:]
	}
	for _, f := range fields {
		for f != "" {
			// Skip separators and white space.
			for f != "" && (f[0] == ' ' || f[0] == '\t' || f[0] == ',') {
				f = f[1:]
			}
			if f == "" {
				break
			}
			if f[0] == '*' {
				return true
			}
			if len(f) > 2 && f[0] == 'W' && f[1] == '/' {
				f = f[2:]
			}
			if f[0] != '"' {
				// Not an entity tag: skip to the next comma.
				i := 0
				for i < len(f) && f[i] != ',' {
					i++
				}
				f = f[i:]
				continue
			}
			end := 1
			for end < len(f) && f[end] != '"' {
				end++
			}
			if end == len(f) {
				return false // unterminated tag
			}
			if f[:end+1] == opaque {
				return true
			}
			f = f[end+1:]
		}
	}
	return false
}

// Discovery is the OpenID Provider Metadata document. A Provider fills in
// the members of the endpoints it serves.
type Discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI                           string   `json:"jwks_uri"`
	EndSessionEndpoint                string   `json:"end_session_endpoint,omitempty"`
	RevocationEndpoint                string   `json:"revocation_endpoint,omitempty"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported,omitempty"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ClaimsSupported                   []string `json:"claims_supported,omitempty"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
	PromptValuesSupported             []string `json:"prompt_values_supported,omitempty"`
	// RequestURIParameterSupported defaults to true in OpenID Connect
	// Discovery; Signet supports no request_uri, so it says false.
	RequestURIParameterSupported bool `json:"request_uri_parameter_supported"`
}

// serveDiscovery answers GET /.well-known/openid-configuration; every URL is
// built from the issuer of the host the request came to.
func (h *Handler) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	req, ok := request(w, r)
	if !ok {
		return
	}
	doc := Discovery{
		Issuer:                            req.Issuer,
		JWKSURI:                           req.Issuer + ".well-known/jwks.json",
		TokenEndpoint:                     req.Issuer + "oauth/token",
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
		GrantTypesSupported:               []string{grantClientCredentials},
		ResponseTypesSupported:            []string{"code"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{req.View.Tenant.Algorithm},
		ScopesSupported:                   []string{"openid"},
	}
	if h.provider != nil {
		h.provider.Discover(req, &doc)
	}
	body, err := json.Marshal(doc)
	if err != nil {
		h.internalError(w, r, "marshal discovery", err)
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = hdrJSON
	hdr["Cache-Control"] = h.cacheControl
	hdr["Access-Control-Allow-Origin"] = hdrAnyOrigin
	w.Write(body)
}
