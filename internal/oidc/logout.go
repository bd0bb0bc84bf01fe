package oidc

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/token"
)

// hintLeeway is how long after its expiry an ID token still serves as the
// id_token_hint of a logout (RP-initiated logout accepts expired hints).
const hintLeeway = 30 * 24 * time.Hour

// serveLogout answers Auth0's GET /v2/logout?client_id=ID&returnTo=URL: it
// ends the browser's session and redirects to returnTo if it is one of the
// client's allowed logout URLs (exact match); without returnTo it shows a
// "signed out" page. A returnTo without a known client_id, or not allowed,
// gets an error page and no redirect (the session is still ended).
func (h *Handler) serveLogout(w http.ResponseWriter, r *http.Request) {
	req, ok := request(w, r)
	if !ok {
		return
	}
	q, ok := h.params(w, r, req, "logout request")
	if !ok {
		return
	}
	h.signOut(w, r, req, q.Get("client_id"), q.Get("returnTo"), "")
}

// serveEndSession answers OpenID Connect RP-initiated logout at
// /oidc/logout (GET or POST): id_token_hint names the client (verified with
// the tenant's non-revoked keys; an expired token is accepted),
// post_logout_redirect_uri must be one of its allowed logout URLs, and state
// is passed back.
func (h *Handler) serveEndSession(w http.ResponseWriter, r *http.Request) {
	req, ok := request(w, r)
	if !ok {
		return
	}
	q, ok := h.params(w, r, req, "logout request")
	if !ok {
		return
	}
	clientID := q.Get("client_id")
	if hint := q.Get("id_token_hint"); hint != "" {
		claims, err := verifyHint(hint, req.View.VerifyKey, h.issuers(req), h.now())
		if err != nil || (clientID != "" && !claims.Audience.Contains(clientID)) {
			h.errorPage(w, req, http.StatusBadRequest, "Invalid request", "The id_token_hint is not a valid ID token of this tenant.")
			return
		}
		if len(claims.Audience) == 1 {
			clientID = claims.Audience[0]
		}
	}
	h.signOut(w, r, req, clientID, q.Get("post_logout_redirect_uri"), q.Get("state"))
}

// signOut ends the session and answers: a "signed out" page without a
// target, an error page (the session still ended) if target is not one of
// clientID's allowed logout URLs or signet.CheckRedirectURL refuses it, else a redirect to target with state, if
// any, added to its query.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, req reqctx.Request, clientID, target, state string) {
	if err := h.endSession(w, r, req); err != nil {
		h.internalPage(w, req, "end session", err)
		return
	}
	if target == "" {
		h.signedOut(w, req)
		return
	}
	if signet.CheckRedirectURL(target) != nil {
		// Refused whatever the client lists: a value stored before
		// registration refused such schemes must not be followed either.
		h.errorPage(w, req, http.StatusBadRequest, "Signed out",
			"You are signed out, but the address to return to is not a web or app address Signet can send you to.")
		return
	}
	if !h.logoutAllowed(r, req, clientID, target) {
		h.errorPage(w, req, http.StatusBadRequest, "Signed out",
			"You are signed out, but the address to return to is not one of the application's allowed logout URLs.")
		return
	}
	if state != "" {
		u, err := url.Parse(target) // an allowed URL, parsed when registered
		if err != nil {
			h.errorPage(w, req, http.StatusBadRequest, "Signed out",
				"You are signed out, but the address to return to is not a valid URL.")
			return
		}
		v := u.Query()
		v.Set("state", state)
		u.RawQuery = v.Encode()
		target = u.String()
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
}

// verifyHint verifies an id_token_hint: signed by a non-revoked key of the
// tenant, issued by it, expired for at most hintLeeway. Its audience, read
// before verification, is trusted only once the signature checks.
func verifyHint(raw string, keys func(string) (token.VerifyKey, bool), issuers []string, now time.Time) (token.Claims, error) {
	aud, ok := unverifiedAudience(raw)
	if !ok {
		return token.Claims{}, token.ErrInvalidToken
	}
	return token.Verify(raw, keys, token.Expect{Issuers: issuers, Audiences: aud, Now: now, Leeway: hintLeeway})
}

// unverifiedAudience reads the "aud" claim of a compact JWT without
// verifying it.
func unverifiedAudience(raw string) ([]string, bool) {
	parts := strings.Split(raw, ".")
	if len(raw) > token.MaxTokenSize || len(parts) != 3 {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var c struct {
		Aud token.Audience `json:"aud"`
	}
	if json.Unmarshal(payload, &c) != nil || len(c.Aud) == 0 {
		return nil, false
	}
	return c.Aud, true
}

// logoutAllowed reports whether the client exists and lists target among
// its allowed logout URLs.
func (h *Handler) logoutAllowed(r *http.Request, req reqctx.Request, clientID, target string) bool {
	if clientID == "" {
		return false
	}
	c, err := h.store.Client(r.Context(), req.View.Tenant.Name, clientID)
	if err != nil {
		if !errors.Is(err, signet.ErrNotFound) {
			h.logger.Error("logout client lookup", "tenant", req.View.Tenant.Name, "err", err)
		}
		return false
	}
	return slices.Contains(c.AllowedLogoutURLs, target)
}

// signedOut shows the "signed out" page.
func (h *Handler) signedOut(w http.ResponseWriter, req reqctx.Request) {
	h.render(w, http.StatusOK, "message", page{Title: "Signed out", Tenant: tenantLabel(req), Notice: "You are signed out."})
}
