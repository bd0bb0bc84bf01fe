package oidc

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/token"
)

// leeway is the clock skew tolerated on bearer tokens.
const leeway = 30 * time.Second

// userinfo is the /userinfo response (OpenID Connect Core §5.3).
type userinfo struct {
	Subject string `json:"sub"`
	profileClaims
}

// serveUserinfo answers GET and POST /userinfo: the claims of the user an
// access token for "<issuer>userinfo" was issued to, by its scopes. The
// token is verified with the tenant's non-revoked keys (RFC 6750 errors).
func (h *Handler) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	req, ok := request(w, r)
	if !ok {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	raw, ok := h.bearer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+req.Issuer+`"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "Missing access token."})
		return
	}
	issuers := h.issuers(req)
	auds := make([]string, len(issuers))
	for i, iss := range issuers {
		auds[i] = iss + "userinfo"
	}
	claims, err := token.Verify(raw, req.View.VerifyKey, token.Expect{Issuers: issuers, Audiences: auds, Now: h.now(), Leeway: leeway})
	scope := strings.Fields(claims.Scope)
	var u signet.User
	if err == nil {
		u, err = h.users.User(r.Context(), req.View.Tenant.Name, claims.Subject)
		if err != nil && !errors.Is(err, signet.ErrNotFound) {
			h.logger.Error("userinfo", "tenant", req.View.Tenant.Name, "err", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": "Internal error."})
			return
		}
	}
	if err != nil || u.Blocked {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+req.Issuer+`", error="invalid_token", error_description="Invalid token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Invalid token"})
		return
	}
	if !slices.Contains(scope, scopeOpenID) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+req.Issuer+`", error="insufficient_scope", scope="openid"`)
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "error_description": "The access token lacks the openid scope."})
		return
	}
	writeJSON(w, http.StatusOK, userinfo{Subject: u.ID, profileClaims: claimsFor(u, scope)})
}

// serveUserinfoPreflight answers the CORS preflight of /userinfo.
func (h *Handler) serveUserinfoPreflight(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("Access-Control-Allow-Methods", "GET, POST")
	hdr.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	hdr.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// bearer returns the access token of the Authorization header or, for a
// form POST, of the access_token parameter (RFC 6750 §2.1, §2.2).
func (h *Handler) bearer(r *http.Request) (string, bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		const prefix = "bearer "
		if len(auth) <= len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
			return "", false
		}
		tok := strings.Trim(auth[len(prefix):], " \t")
		return tok, tok != ""
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return "", false
		}
		tok := r.PostForm.Get("access_token")
		return tok, tok != ""
	}
	return "", false
}

// issuers returns the tenant's issuers, one per host, and the request's own.
func (h *Handler) issuers(req reqctx.Request) []string {
	out := h.ring.Issuers(req.View)
	if !slices.Contains(out, req.Issuer) {
		out = append(out, req.Issuer)
	}
	return out
}

// writeJSON answers with v as JSON, never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	w.Write(b)
}
