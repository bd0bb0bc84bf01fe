package oauth

//lint:file-ignore ST1005 these errors are error_description texts sent as they are, in Auth0's sentence style.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/secret"
	"github.com/signet-auth/signet/internal/token"
)

const (
	grantClientCredentials = "client_credentials"
	// gtyClientCredentials is the gty claim of client-credentials tokens (Auth0's spelling).
	gtyClientCredentials = "client-credentials"
)

// tokenRequest is a parsed token request: the body parameters and the
// client credentials from wherever they came.
type tokenRequest struct {
	GrantType    string
	ClientID     string
	ClientSecret string
	Audience     string
	Scope        string
	// ScopeSet reports whether the scope parameter was sent (and not empty).
	ScopeSet bool
	// Basic reports whether the client authenticated with HTTP Basic.
	Basic bool
	// Params are the body's parameters, for a Provider's grant types.
	Params map[string]string
}

// Error is an RFC 6749 §5.2 error response: Status is the HTTP status, Code
// the error code ("invalid_grant", …), Description a message safe to show.
type Error struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// Error returns the code and the description.
func (e *Error) Error() string { return e.Code + ": " + e.Description }

func invalidRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: fmt.Sprintf(format, args...)}
}

var errInvalidClient = &Error{Status: http.StatusUnauthorized, Code: "invalid_client", Description: "Client authentication failed"}

// tokenParams are the parameters a token request may carry in its body.
var tokenParams = []string{"grant_type", "client_id", "client_secret", "audience", "scope",
	"code", "redirect_uri", "code_verifier", "refresh_token"}

// parseTokenRequest reads and checks a token request: its body (form or
// JSON, at most maxBodyBytes) and its client authentication (HTTP Basic, or
// client_id and client_secret in the body). It never panics on any input.
func parseTokenRequest(r *http.Request) (tokenRequest, *Error) {
	var tr tokenRequest
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return tr, &Error{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request",
				Description: fmt.Sprintf("The request body exceeds %d bytes.", maxBodyBytes)}
		}
		return tr, invalidRequest("The request body could not be read.")
	}
	params := map[string]string{}
	if len(bytes.TrimSpace(body)) > 0 {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case err != nil && r.Header.Get("Content-Type") != "":
			return tr, invalidRequest("Invalid Content-Type.")
		case mt == "application/x-www-form-urlencoded" || mt == "":
			if params, err = parseForm(body); err != nil {
				return tr, invalidRequest("%s", err.Error())
			}
		case mt == "application/json":
			if params, err = parseJSON(body); err != nil {
				return tr, invalidRequest("%s", err.Error())
			}
		default:
			return tr, invalidRequest("Content-Type must be application/x-www-form-urlencoded or application/json.")
		}
	}
	tr.Params = params
	tr.GrantType = params["grant_type"]
	tr.Audience = params["audience"]
	tr.Scope = params["scope"]
	tr.ScopeSet = strings.TrimSpace(tr.Scope) != ""
	tr.ClientID, tr.ClientSecret = params["client_id"], params["client_secret"]

	if auth := r.Header.Get("Authorization"); auth != "" {
		id, sec, err := parseBasic(auth)
		if err != nil {
			return tr, invalidRequest("%s", err.Error())
		}
		if (tr.ClientID != "" && tr.ClientID != id) || (tr.ClientSecret != "" && tr.ClientSecret != sec) {
			return tr, invalidRequest("The client credentials in the Authorization header and in the body differ.")
		}
		tr.ClientID, tr.ClientSecret, tr.Basic = id, sec, true
	}
	return tr, nil
}

// parseForm parses an application/x-www-form-urlencoded body. Parameters
// must not repeat (RFC 6749 §3.2).
func parseForm(body []byte) (map[string]string, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errors.New("The request body is not valid application/x-www-form-urlencoded.")
	}
	out := make(map[string]string, len(vals))
	for k, vs := range vals {
		if len(vs) > 1 && slices.Contains(tokenParams, k) {
			return nil, fmt.Errorf("Parameter %s must not be repeated.", k)
		}
		out[k] = vs[0]
	}
	return out, nil
}

// parseJSON parses a JSON object body. The parameters Signet reads must be
// strings; others are ignored.
func parseJSON(body []byte) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, errors.New("The request body is not a valid JSON object.")
	}
	out := make(map[string]string, len(tokenParams))
	for _, k := range tokenParams {
		v, ok := raw[k]
		if !ok {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return nil, fmt.Errorf("Parameter %s must be a string.", k)
		}
		out[k] = s
	}
	return out, nil
}

// parseBasic parses an HTTP Basic Authorization header whose user name and
// password are each form-URL-encoded (RFC 6749 §2.3.1).
func parseBasic(auth string) (id, sec string, err error) {
	const prefix = "basic "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return "", "", errors.New("Unsupported Authorization scheme: use Basic, or client_id and client_secret in the body.")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth[len(prefix):]))
	if err != nil {
		return "", "", errors.New("Malformed Basic credentials.")
	}
	u, p, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", errors.New("Malformed Basic credentials.")
	}
	return formDecode(u), formDecode(p), nil
}

// formDecode form-URL-decodes s; a client that did not encode (curl -u) and
// whose credentials hold a stray '%' gets s unchanged.
func formDecode(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// TokenResponse is the token endpoint's success body (RFC 6749 §5.1, with
// OpenID Connect's id_token).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
}

// serveToken answers POST /oauth/token.
func (h *Handler) serveToken(w http.ResponseWriter, r *http.Request) {
	req, ok := request(w, r)
	if !ok {
		return
	}
	tr, oe := parseTokenRequest(r)
	var resp TokenResponse
	var err error
	if oe != nil {
		err = oe
	} else {
		resp, err = h.issue(r, req, tr)
	}
	if err != nil {
		var oe *Error
		switch {
		case errors.As(err, &oe):
		case errors.Is(err, keyring.ErrStale):
			// The replica may not know of a revocation: it must not sign.
			h.logger.Warn("token endpoint: not signing", "tenant", req.View.Tenant.Name, "err", err)
			oe = &Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Description: "This server cannot confirm that its signing keys are current; retry shortly."}
		case errors.Is(err, signet.ErrUnavailable):
			h.logger.Warn("token endpoint: database unavailable", "tenant", req.View.Tenant.Name, "err", err)
			oe = &Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Description: "The database did not answer in time; retry shortly."}
		default:
			h.logger.Error("token endpoint", "tenant", req.View.Tenant.Name, "err", err)
			oe = &Error{Status: http.StatusInternalServerError, Code: "server_error", Description: "Internal error."}
		}
		h.writeOAuthError(w, req, oe, tr.Basic)
		return
	}
	body, err := json.Marshal(resp)
	if err != nil {
		h.internalError(w, r, "marshal token response", err)
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = hdrJSON
	hdr["Cache-Control"] = hdrNoStore
	hdr["Pragma"] = hdrPragmaNoCh
	w.Write(body)
}

// issue runs a token request to its end: an access token or an error
// (an *Error for the caller, anything else internal).
func (h *Handler) issue(r *http.Request, req reqctx.Request, tr tokenRequest) (TokenResponse, error) {
	provided := h.provider != nil && slices.Contains(h.provider.GrantTypes(), tr.GrantType)
	switch {
	case tr.GrantType == "":
		return TokenResponse{}, invalidRequest("Missing required parameter: grant_type")
	case tr.GrantType == grantClientCredentials || provided:
	default:
		return TokenResponse{}, &Error{Status: http.StatusBadRequest, Code: "unsupported_grant_type",
			Description: "Unsupported grant type: " + tr.GrantType}
	}
	ctx := r.Context()
	tenant := req.View.Tenant.Name
	client, err := h.authenticate(r, tenant, tr, provided)
	if err != nil {
		return TokenResponse{}, err
	}
	if provided {
		if !slices.Contains(client.GrantTypes, tr.GrantType) {
			return TokenResponse{}, &Error{Status: http.StatusForbidden, Code: "unauthorized_client",
				Description: fmt.Sprintf("Grant type '%s' not allowed for the client.", tr.GrantType)}
		}
		return h.provider.Exchange(r, req, client, tr.GrantType, tr.Params)
	}
	if !slices.Contains(client.GrantTypes, grantClientCredentials) {
		return TokenResponse{}, &Error{Status: http.StatusForbidden, Code: "unauthorized_client",
			Description: "Grant type 'client_credentials' not allowed for the client."}
	}
	if tr.Audience == "" {
		return TokenResponse{}, invalidRequest("audience is required")
	}
	rs, err := h.resourceServer(r, req, tr.Audience)
	if err != nil {
		return TokenResponse{}, err
	}
	grants, err := h.store.ClientGrants(ctx, tenant, signet.GrantFilter{ClientID: client.ClientID, Audience: rs.Identifier})
	if err != nil {
		return TokenResponse{}, fmt.Errorf("client grants: %w", err)
	}
	if len(grants) == 0 {
		return TokenResponse{}, &Error{Status: http.StatusForbidden, Code: "access_denied",
			Description: fmt.Sprintf(`Client is not authorized to access %q. You need to create a "client-grant" associated to this API.`, tr.Audience)}
	}
	scope := grants[0].Scope
	if tr.ScopeSet {
		requested := strings.Fields(tr.Scope)
		scope = slices.DeleteFunc(slices.Clone(scope), func(s string) bool { return !slices.Contains(requested, s) })
		if len(scope) == 0 {
			return TokenResponse{}, &Error{Status: http.StatusForbidden, Code: "access_denied",
				Description: "Client has not been granted scopes: " + strings.Join(requested, ", ")}
		}
	}
	lifetime := rs.TokenLifetime
	if lifetime <= 0 {
		lifetime = signet.DefaultTokenLifetime
	}
	now := h.now()
	claims := token.Claims{
		Issuer:          req.Issuer,
		Subject:         client.ClientID + "@clients",
		Audience:        token.Audience{tr.Audience},
		IssuedAt:        now.Unix(),
		Expiry:          now.Unix() + int64(lifetime),
		Scope:           strings.Join(scope, " "),
		GrantType:       gtyClientCredentials,
		AuthorizedParty: client.ClientID,
		ID:              secret.ID(22),
	}
	at, err := req.View.Signer.Sign(claims)
	if err != nil {
		return TokenResponse{}, fmt.Errorf("sign access token: %w", err)
	}
	return TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: lifetime, Scope: claims.Scope}, nil
}

// dummyDigest is compared against when the client does not exist, so that an
// unknown client takes as long as a wrong secret.
var dummyDigest = secret.Digest("signet-unknown-client")

// authenticate checks the client's credentials in constant time. A public
// client (token_endpoint_auth_method "none") presents no secret, and only
// for a Provider's grant types (allowPublic), which prove it otherwise (PKCE).
// Returns errInvalidClient for a missing, unknown or wrongly authenticated client.
func (h *Handler) authenticate(r *http.Request, tenant string, tr tokenRequest, allowPublic bool) (signet.Client, error) {
	if tr.ClientID == "" {
		return signet.Client{}, errInvalidClient
	}
	c, err := h.store.Client(r.Context(), tenant, tr.ClientID)
	switch {
	case errors.Is(err, signet.ErrNotFound):
		secret.Equal(dummyDigest, tr.ClientSecret)
		return signet.Client{}, errInvalidClient
	case err != nil:
		return signet.Client{}, fmt.Errorf("client lookup: %w", err)
	}
	if c.Public() {
		if !allowPublic || tr.ClientSecret != "" {
			return signet.Client{}, errInvalidClient
		}
		return c, nil
	}
	if tr.ClientSecret == "" || !secret.Equal(c.SecretHash, tr.ClientSecret) {
		return signet.Client{}, errInvalidClient
	}
	return c, nil
}

// resourceServer resolves an audience: the Management API under any of the
// tenant's issuers (go-auth0 derives the audience from the host it talks
// to), otherwise the resource server with that identifier.
// Returns access_denied for an unknown audience.
func (h *Handler) resourceServer(r *http.Request, req reqctx.Request, aud string) (signet.ResourceServer, error) {
	ctx := r.Context()
	rs, err := h.ring.ResourceServer(ctx, req.View, aud)
	switch {
	case errors.Is(err, signet.ErrNotFound):
		return signet.ResourceServer{}, &Error{Status: http.StatusForbidden, Code: "access_denied",
			Description: "Service not found: " + aud}
	case err != nil:
		return signet.ResourceServer{}, fmt.Errorf("resource server lookup: %w", err)
	}
	return rs, nil
}

// writeOAuthError writes an RFC 6749 error body; basic reports whether the
// client tried HTTP Basic, which a 401 then challenges (RFC 6749 §5.2).
func (h *Handler) writeOAuthError(w http.ResponseWriter, req reqctx.Request, oe *Error, basic bool) {
	hdr := w.Header()
	hdr["Content-Type"] = hdrJSON
	hdr["Cache-Control"] = hdrNoStore
	hdr["Pragma"] = hdrPragmaNoCh
	if basic && oe.Status == http.StatusUnauthorized {
		hdr.Set("WWW-Authenticate", `Basic realm="`+req.Issuer+`", charset="UTF-8"`)
	}
	body, _ := json.Marshal(oe)
	w.WriteHeader(oe.Status)
	w.Write(body)
}

// internalError logs err and answers 500 without details.
func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	h.logger.Error(what, "path", r.URL.Path, "err", err)
	w.Header()["Content-Type"] = hdrJSON
	w.Header()["Cache-Control"] = hdrNoStore
	w.WriteHeader(http.StatusInternalServerError)
	w.Write([]byte(`{"error":"server_error","error_description":"Internal error."}`))
}
