package oidc

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/secret"
)

// Scopes of OpenID Connect that Signet grants (besides an API's own).
const (
	scopeOpenID        = "openid"
	scopeProfile       = "profile"
	scopeEmail         = "email"
	scopeOfflineAccess = "offline_access"
)

// oidcScopes are the OpenID Connect scopes Signet understands.
var oidcScopes = []string{scopeOpenID, scopeProfile, scopeEmail, scopeOfflineAccess}

// Limits on /authorize parameters.
const (
	maxParam    = 2048 // state, nonce, redirect_uri, audience, scope, login_hint
	maxClientID = 128
)

// authRequest is a parsed authorization request (RFC 6749 §4.1.1, OIDC Core
// §3.1.2.1, RFC 7636).
type authRequest struct {
	ResponseType  string
	ClientID      string
	RedirectURI   string
	Scope         []string
	State         string
	Nonce         string
	CodeChallenge string
	Audience      string
	Prompt        []string
	// MaxAge is the max_age parameter in seconds; -1 when absent.
	MaxAge    int
	LoginHint string
	// query is the request's parameters, to build the return path after sign-in.
	query url.Values
}

// authError is an authorization error: shown on a page when the client or
// redirect URI cannot be trusted, otherwise sent back to the redirect URI.
type authError struct {
	Code        string
	Description string
}

func (e *authError) Error() string { return e.Code + ": " + e.Description }

func authErr(code, format string, args ...any) *authError {
	return &authError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// parseAuthorize parses the parameters of an authorization request. fatal
// is set when client_id or redirect_uri are missing or malformed, so that no
// redirect may happen; redirectErr is the first other problem, to be sent to
// the redirect URI once the client and URI are verified. It never panics.
func parseAuthorize(q url.Values) (ar authRequest, fatal, redirectErr *authError) {
	ar.query = q
	ar.MaxAge = -1
	single := func(name string) (string, bool) {
		vs := q[name]
		if len(vs) > 1 {
			return "", false
		}
		if len(vs) == 0 {
			return "", true
		}
		return vs[0], true
	}
	var ok bool
	if ar.ClientID, ok = single("client_id"); !ok {
		return ar, authErr("invalid_request", "Parameter client_id must not be repeated."), nil
	}
	if ar.ClientID == "" {
		return ar, authErr("invalid_request", "Missing required parameter: client_id"), nil
	}
	if len(ar.ClientID) > maxClientID || strings.ContainsFunc(ar.ClientID, isControl) {
		return ar, authErr("invalid_request", "Invalid client_id."), nil
	}
	if ar.RedirectURI, ok = single("redirect_uri"); !ok {
		return ar, authErr("invalid_request", "Parameter redirect_uri must not be repeated."), nil
	}
	if ar.RedirectURI == "" {
		return ar, authErr("invalid_request", "Missing required parameter: redirect_uri"), nil
	}
	if len(ar.RedirectURI) > maxParam {
		return ar, authErr("invalid_request", "The redirect_uri is too long."), nil
	}
	if u, err := url.Parse(ar.RedirectURI); err != nil || u.Scheme == "" || u.Fragment != "" || u.Opaque != "" {
		return ar, authErr("invalid_request", "The redirect_uri must be an absolute URI without a fragment."), nil
	}
	if err := signet.CheckRedirectURL(ar.RedirectURI); err != nil {
		// Checked here as well as at registration, so that a callback
		// stored before that check is never followed.
		return ar, authErr("invalid_request", "The redirect_uri is refused: %s.", signet.ErrorMessage(err)), nil
	}

	// From here on, errors go back to the (verified) redirect URI. state is
	// read first so that every error can carry it.
	fail := func(e *authError) (authRequest, *authError, *authError) { return ar, nil, e }
	params := map[string]*string{
		"state": &ar.State, "response_type": &ar.ResponseType, "nonce": &ar.Nonce, "audience": &ar.Audience,
		"code_challenge": &ar.CodeChallenge, "login_hint": &ar.LoginHint,
	}
	var scope, prompt, maxAge, method, mode string
	params["scope"], params["prompt"], params["max_age"] = &scope, &prompt, &maxAge
	params["code_challenge_method"], params["response_mode"] = &method, &mode
	for _, name := range []string{"state", "response_type", "scope", "nonce", "audience", "code_challenge",
		"code_challenge_method", "prompt", "max_age", "response_mode", "login_hint"} {
		v, ok := single(name)
		if !ok {
			return fail(authErr("invalid_request", "Parameter %s must not be repeated.", name))
		}
		if len(v) > maxParam {
			return fail(authErr("invalid_request", "Parameter %s is too long.", name))
		}
		*params[name] = v
	}
	switch ar.ResponseType {
	case "code":
	case "":
		return fail(authErr("invalid_request", "Missing required parameter: response_type"))
	default:
		return fail(authErr("unsupported_response_type", "Unsupported response type: %s", ar.ResponseType))
	}
	if mode != "" && mode != "query" {
		return fail(authErr("invalid_request", "Unsupported response_mode: %s", mode))
	}
	for _, s := range strings.Fields(scope) {
		if !slices.Contains(ar.Scope, s) {
			ar.Scope = append(ar.Scope, s)
		}
	}
	if ar.CodeChallenge != "" || method != "" {
		if method != "S256" {
			return fail(authErr("invalid_request", "code_challenge_method must be S256."))
		}
		if !validChallenge(ar.CodeChallenge) {
			return fail(authErr("invalid_request", "code_challenge must be the base64url SHA-256 of the code verifier (43 characters)."))
		}
	}
	for _, p := range strings.Fields(prompt) {
		if !slices.Contains([]string{"none", "login", "consent", "select_account"}, p) {
			return fail(authErr("invalid_request", "Unsupported prompt value: %s", p))
		}
		if !slices.Contains(ar.Prompt, p) {
			ar.Prompt = append(ar.Prompt, p)
		}
	}
	if slices.Contains(ar.Prompt, "none") && len(ar.Prompt) > 1 {
		return fail(authErr("invalid_request", "prompt=none cannot be combined with other values."))
	}
	if maxAge != "" {
		n, err := strconv.Atoi(maxAge)
		if err != nil || n < 0 {
			return fail(authErr("invalid_request", "max_age must be a non-negative integer."))
		}
		ar.MaxAge = n
	}
	return ar, nil, nil
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f }

// validChallenge reports whether c can be an S256 challenge: 43 base64url
// characters (a SHA-256 digest).
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		if !('A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}

// serveAuthorize answers GET and POST /authorize: it checks the client and
// redirect URI (an error page if either is wrong), then the request (an
// error redirect), then the session (the login page, or login_required with
// prompt=none), and redirects back with a code.
func (h *Handler) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	req, ok := request(w, r)
	if !ok {
		return
	}
	q, ok := h.params(w, r, req, "authorization request")
	if !ok {
		return
	}
	ar, fatal, redirectErr := parseAuthorize(q)
	if fatal != nil {
		h.errorPage(w, req, http.StatusBadRequest, "Invalid request", fatal.Description)
		return
	}
	client, err := h.store.Client(r.Context(), req.View.Tenant.Name, ar.ClientID)
	if errors.Is(err, signet.ErrNotFound) {
		h.errorPage(w, req, http.StatusBadRequest, "Unknown application", "The application (client_id) is not registered with this tenant.")
		return
	}
	if err != nil {
		h.internalPage(w, req, "client lookup", err)
		return
	}
	if !slices.Contains(client.Callbacks, ar.RedirectURI) {
		h.errorPage(w, req, http.StatusBadRequest, "Callback URL mismatch",
			"The redirect_uri is not one of the application's allowed callback URLs.")
		return
	}
	if redirectErr != nil {
		h.redirectError(w, r, ar, redirectErr)
		return
	}
	if !slices.Contains(client.GrantTypes, "authorization_code") {
		h.redirectError(w, r, ar, authErr("unauthorized_client", "Grant type 'authorization_code' not allowed for the client."))
		return
	}
	if client.Public() && ar.CodeChallenge == "" {
		h.redirectError(w, r, ar, authErr("invalid_request", "A public client must send a PKCE code_challenge (S256)."))
		return
	}
	scope, err := h.grantScope(r, req, client, ar)
	if err != nil {
		var ae *authError
		if errors.As(err, &ae) {
			h.redirectError(w, r, ar, ae)
			return
		}
		h.internalPage(w, req, "grant scope", err)
		return
	}

	u, authTime, ok := h.Session(r)
	now := h.now()
	fresh := ok && !slices.Contains(ar.Prompt, "login") && (ar.MaxAge < 0 || int64(now.Sub(authTime)/time.Second) <= int64(ar.MaxAge))
	if !fresh {
		if slices.Contains(ar.Prompt, "none") {
			h.redirectError(w, r, ar, authErr("login_required", "The user is not signed in."))
			return
		}
		// After sign-in the browser comes back here; prompt=login is
		// satisfied by the sign-in it asked for.
		back := cloneValues(ar.query)
		back.Del("prompt")
		path := "/authorize?" + back.Encode()
		if !validReturnPath(path) {
			h.redirectError(w, r, ar, authErr("invalid_request", "The authorization request is too long."))
			return
		}
		login := LoginURL(path)
		if ar.LoginHint != "" {
			login += "&" + url.Values{"login_hint": {ar.LoginHint}}.Encode()
		}
		http.Redirect(w, r, login, http.StatusFound)
		return
	}

	code, digest := secret.New()
	c := signet.AuthCode{
		Tenant:        req.View.Tenant.Name,
		CodeHash:      digest,
		ClientID:      client.ClientID,
		RedirectURI:   ar.RedirectURI,
		UserID:        u.ID,
		Scope:         scope,
		Audience:      ar.Audience,
		Nonce:         ar.Nonce,
		CodeChallenge: ar.CodeChallenge,
		AuthTime:      authTime.UTC(),
		FamilyID:      secret.ID(24),
		ExpiresAt:     now.Add(CodeLifetime).UTC(),
	}
	if err := h.users.CreateAuthCode(r.Context(), c); err != nil {
		h.internalPage(w, req, "create authorization code", err)
		return
	}
	h.redirect(w, r, ar, url.Values{"code": {code}})
}

// grantScope decides the scopes a request gets: the OpenID Connect scopes it
// asks for (offline_access only if the client may use refresh tokens) and,
// with an audience, the API's own scopes it asks for that the API defines.
// Returns an *authError for an unknown audience or the Management API, which
// takes no user tokens.
func (h *Handler) grantScope(r *http.Request, req reqctx.Request, client signet.Client, ar authRequest) ([]string, error) {
	var api []signet.Scope
	if ar.Audience != "" {
		if h.ring.IsManagementAudience(req.View, ar.Audience) {
			return nil, authErr("access_denied", "The Management API does not accept tokens issued to users.")
		}
		rs, err := h.ring.ResourceServer(r.Context(), req.View, ar.Audience)
		if errors.Is(err, signet.ErrNotFound) {
			return nil, authErr("access_denied", "Service not found: %s", ar.Audience)
		}
		if err != nil {
			return nil, err
		}
		api = rs.Scopes
	}
	var out []string
	for _, s := range ar.Scope {
		switch {
		case s == scopeOfflineAccess:
			if slices.Contains(client.GrantTypes, "refresh_token") {
				out = append(out, s)
			}
		case slices.Contains(oidcScopes, s):
			out = append(out, s)
		case slices.ContainsFunc(api, func(d signet.Scope) bool { return d.Value == s }):
			out = append(out, s)
		}
	}
	return out, nil
}

// redirect sends the browser back to the request's redirect URI with params
// and the request's state added to its query.
func (h *Handler) redirect(w http.ResponseWriter, r *http.Request, ar authRequest, params url.Values) {
	u, _ := url.Parse(ar.RedirectURI) // checked by parseAuthorize
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if ar.State != "" {
		q.Set("state", ar.State)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// redirectError sends an authorization error to the verified redirect URI.
func (h *Handler) redirectError(w http.ResponseWriter, r *http.Request, ar authRequest, e *authError) {
	h.redirect(w, r, ar, url.Values{"error": {e.Code}, "error_description": {e.Description}})
}

// params returns a request's parameters: a POST's form (at most
// maxFormBytes) or a GET's query. If they cannot be read it answers with an
// error page that names what (e.g. "logout request") and returns false.
func (h *Handler) params(w http.ResponseWriter, r *http.Request, req reqctx.Request, what string) (url.Values, bool) {
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			h.errorPage(w, req, http.StatusBadRequest, "Invalid request", "The "+what+" could not be read.")
			return nil, false
		}
		return r.PostForm, true
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		h.errorPage(w, req, http.StatusBadRequest, "Invalid request", "The "+what+"'s query is malformed.")
		return nil, false
	}
	return q, true
}

// internalPage logs err and shows a page without details.
func (h *Handler) internalPage(w http.ResponseWriter, req reqctx.Request, what string, err error) {
	h.logger.Error(what, "tenant", tenantLabel(req), "err", err)
	h.errorPage(w, req, http.StatusInternalServerError, "Something went wrong", "Please try again later.")
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
