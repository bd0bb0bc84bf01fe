package oidc

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/secret"
	"github.com/signet-auth/signet/internal/token"
)

// Grant types served through oauth.Provider.
const (
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
)

// defaultAccessTokenLifetime is the lifetime of an access token for
// /userinfo only (no audience), and of an API's that sets none.
const defaultAccessTokenLifetime = signet.DefaultTokenLifetime

var _ oauth.Provider = (*Handler)(nil)

// GrantTypes returns the grant types the Handler serves at /oauth/token.
func (h *Handler) GrantTypes() []string { return []string{grantAuthorizationCode, grantRefreshToken} }

// invalidGrant is RFC 6749's invalid_grant error.
func invalidGrant(format string, args ...any) *oauth.Error {
	return &oauth.Error{Status: http.StatusBadRequest, Code: "invalid_grant", Description: fmt.Sprintf(format, args...)}
}

func invalidRequest(format string, args ...any) *oauth.Error {
	return &oauth.Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: fmt.Sprintf(format, args...)}
}

// Exchange redeems an authorization code or a refresh token for tokens; see
// oauth.Provider. Errors for the client are *oauth.Error values with RFC
// 6749 codes (invalid_grant, invalid_request, invalid_scope).
func (h *Handler) Exchange(r *http.Request, req reqctx.Request, client signet.Client, grantType string, params map[string]string) (oauth.TokenResponse, error) {
	switch grantType {
	case grantAuthorizationCode:
		return h.exchangeCode(r, req, client, params)
	case grantRefreshToken:
		return h.exchangeRefresh(r, req, client, params)
	}
	return oauth.TokenResponse{}, &oauth.Error{Status: http.StatusBadRequest, Code: "unsupported_grant_type", Description: "Unsupported grant type: " + grantType}
}

// exchangeCode runs the authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.6).
func (h *Handler) exchangeCode(r *http.Request, req reqctx.Request, client signet.Client, params map[string]string) (oauth.TokenResponse, error) {
	code, redirectURI, verifier := params["code"], params["redirect_uri"], params["code_verifier"]
	switch {
	case code == "":
		return oauth.TokenResponse{}, invalidRequest("Missing required parameter: code")
	case redirectURI == "":
		return oauth.TokenResponse{}, invalidRequest("Missing required parameter: redirect_uri")
	}
	ctx := r.Context()
	tenant := req.View.Tenant.Name
	now := h.now()
	c, err := h.users.RedeemAuthCode(ctx, tenant, secret.Digest(code), now)
	switch {
	case errors.Is(err, signet.ErrCodeReused):
		// RFC 6749 §4.1.2: a replayed code revokes what it was exchanged for.
		h.logger.Warn("authorization code replayed; revoking its refresh tokens", "tenant", tenant, "client_id", c.ClientID)
		if err := h.users.RevokeRefreshFamily(ctx, tenant, c.FamilyID, now); err != nil {
			return oauth.TokenResponse{}, err
		}
		return oauth.TokenResponse{}, invalidGrant("Invalid authorization code")
	case errors.Is(err, signet.ErrCodeInvalid):
		return oauth.TokenResponse{}, invalidGrant("Invalid authorization code")
	case err != nil:
		return oauth.TokenResponse{}, err
	}
	if subtle.ConstantTimeCompare([]byte(c.ClientID), []byte(client.ClientID)) != 1 {
		return oauth.TokenResponse{}, invalidGrant("Invalid authorization code")
	}
	if c.RedirectURI != redirectURI {
		return oauth.TokenResponse{}, invalidGrant("Redirect URI mismatch: it must be the redirect_uri of the authorization request.")
	}
	switch {
	case c.CodeChallenge == "" && client.Public():
		return oauth.TokenResponse{}, invalidGrant("A public client must use PKCE.")
	case c.CodeChallenge == "" && verifier != "":
		return oauth.TokenResponse{}, invalidGrant("code_verifier sent, but the authorization request had no code_challenge.")
	case c.CodeChallenge != "" && !verifyPKCE(c.CodeChallenge, verifier):
		return oauth.TokenResponse{}, invalidGrant("Failed to verify code verifier")
	}
	u, err := h.grantUser(r, tenant, c.UserID)
	if err != nil {
		return oauth.TokenResponse{}, err
	}
	g := grant{client: client, user: u, scope: c.Scope, audience: c.Audience, nonce: c.Nonce, authTime: c.AuthTime}
	resp, err := h.tokens(r, req, g, now)
	if err != nil {
		return oauth.TokenResponse{}, err
	}
	if slices.Contains(c.Scope, scopeOfflineAccess) {
		rt, digest := secret.New()
		lifetime := client.RefreshTokenLifetime
		if lifetime <= 0 {
			lifetime = signet.DefaultRefreshTokenLifetime
		}
		err := h.users.CreateRefreshToken(ctx, signet.RefreshToken{
			Tenant: tenant, TokenHash: digest, FamilyID: c.FamilyID, ClientID: client.ClientID, UserID: u.ID,
			Scope: c.Scope, Audience: c.Audience, AuthTime: c.AuthTime, CreatedAt: now.UTC(),
			ExpiresAt: now.Add(time.Duration(lifetime) * time.Second).UTC(),
		})
		if err != nil {
			return oauth.TokenResponse{}, fmt.Errorf("create refresh token: %w", err)
		}
		resp.RefreshToken = rt
	}
	return resp, nil
}

// verifyPKCE reports whether verifier (RFC 7636 §4.1: 43 to 128 unreserved
// characters) hashes to challenge under S256, in constant time.
func verifyPKCE(challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for i := 0; i < len(verifier); i++ {
		c := verifier[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// exchangeRefresh runs the refresh_token grant (RFC 6749 §6) with rotation:
// the presented token is used up and a successor returned; presenting a used
// token again revokes its family.
func (h *Handler) exchangeRefresh(r *http.Request, req reqctx.Request, client signet.Client, params map[string]string) (oauth.TokenResponse, error) {
	raw := params["refresh_token"]
	if raw == "" {
		return oauth.TokenResponse{}, invalidRequest("Missing required parameter: refresh_token")
	}
	ctx := r.Context()
	tenant := req.View.Tenant.Name
	now := h.now()
	digest := secret.Digest(raw)
	old, err := h.users.RefreshToken(ctx, tenant, digest)
	switch {
	case errors.Is(err, signet.ErrRefreshTokenInvalid):
		return oauth.TokenResponse{}, invalidGrant("Unknown or invalid refresh token.")
	case err != nil:
		return oauth.TokenResponse{}, err
	}
	if subtle.ConstantTimeCompare([]byte(old.ClientID), []byte(client.ClientID)) != 1 {
		return oauth.TokenResponse{}, invalidGrant("Unknown or invalid refresh token.")
	}
	scope := old.Scope
	if s := strings.Fields(params["scope"]); len(s) > 0 {
		for _, x := range s {
			if !slices.Contains(old.Scope, x) {
				return oauth.TokenResponse{}, &oauth.Error{Status: http.StatusBadRequest, Code: "invalid_scope",
					Description: "The refresh token was not granted scope " + x + "."}
			}
		}
		scope = slices.DeleteFunc(slices.Clone(old.Scope), func(x string) bool { return !slices.Contains(s, x) })
	}
	u, err := h.grantUser(r, tenant, old.UserID)
	if err != nil {
		return oauth.TokenResponse{}, err
	}
	// Sign first: a token that turns out reused is refused before anything
	// is sent.
	g := grant{client: client, user: u, scope: scope, audience: old.Audience, authTime: old.AuthTime}
	resp, err := h.tokens(r, req, g, now)
	if err != nil {
		return oauth.TokenResponse{}, err
	}
	next, nextDigest := secret.New()
	_, err = h.users.RotateRefreshToken(ctx, tenant, digest, signet.RefreshToken{
		TokenHash: nextDigest, ClientID: client.ClientID, UserID: u.ID, Scope: old.Scope,
		Audience: old.Audience, AuthTime: old.AuthTime, CreatedAt: now.UTC(),
	}, now)
	switch {
	case errors.Is(err, signet.ErrRefreshTokenReused):
		h.logger.Warn("refresh token reused; its family is revoked", "tenant", tenant, "client_id", client.ClientID, "user_id", u.ID)
		return oauth.TokenResponse{}, invalidGrant("Unknown or invalid refresh token.")
	case errors.Is(err, signet.ErrRefreshTokenInvalid):
		return oauth.TokenResponse{}, invalidGrant("Unknown or invalid refresh token.")
	case err != nil:
		return oauth.TokenResponse{}, err
	}
	resp.RefreshToken = next
	return resp, nil
}

// grantUser returns the user tokens are issued to.
// Returns invalid_grant if they were deleted or are blocked.
func (h *Handler) grantUser(r *http.Request, tenant, id string) (signet.User, error) {
	u, err := h.users.User(r.Context(), tenant, id)
	switch {
	case errors.Is(err, signet.ErrNotFound):
		return signet.User{}, invalidGrant("The user no longer exists.")
	case err != nil:
		return signet.User{}, err
	case u.Blocked:
		return signet.User{}, invalidGrant("user is blocked")
	}
	return u, nil
}

// grant is what a code or refresh token entitles its client to.
type grant struct {
	client   signet.Client
	user     signet.User
	scope    []string
	audience string
	nonce    string
	authTime time.Time
}

// idClaims are the claims of an ID token (OpenID Connect Core §2, §5.1).
type idClaims struct {
	Issuer          string `json:"iss"`
	Subject         string `json:"sub"`
	Audience        string `json:"aud"`
	IssuedAt        int64  `json:"iat"`
	Expiry          int64  `json:"exp"`
	AuthTime        int64  `json:"auth_time"`
	Nonce           string `json:"nonce,omitempty"`
	AtHash          string `json:"at_hash,omitempty"`
	AuthorizedParty string `json:"azp"`
	profileClaims
}

// profileClaims are the user's claims by scope, in ID tokens and /userinfo.
type profileClaims struct {
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
	Nickname      string `json:"nickname,omitempty"`
	UpdatedAt     int64  `json:"updated_at,omitempty"`
}

// claimsFor returns u's claims that scope allows.
func claimsFor(u signet.User, scope []string) profileClaims {
	var p profileClaims
	if slices.Contains(scope, scopeEmail) {
		v := u.EmailVerified
		p.Email, p.EmailVerified = u.Email, &v
	}
	if slices.Contains(scope, scopeProfile) {
		p.Name = u.Name
		if p.Name == "" {
			p.Name = u.Email
		}
		p.Nickname, _, _ = strings.Cut(u.Email, "@")
		if !u.UpdatedAt.IsZero() {
			p.UpdatedAt = u.UpdatedAt.Unix()
		}
	}
	return p
}

// tokens signs the access token and, with the openid scope, the ID token of
// a grant, with the tenant's current key.
func (h *Handler) tokens(r *http.Request, req reqctx.Request, g grant, now time.Time) (oauth.TokenResponse, error) {
	issuer := req.Issuer
	openid := slices.Contains(g.scope, scopeOpenID)
	lifetime := defaultAccessTokenLifetime
	var aud token.Audience
	if g.audience != "" {
		rs, err := h.ring.ResourceServer(r.Context(), req.View, g.audience)
		switch {
		case errors.Is(err, signet.ErrNotFound):
			return oauth.TokenResponse{}, invalidGrant("Service not found: %s", g.audience)
		case err != nil:
			return oauth.TokenResponse{}, err
		}
		if rs.TokenLifetime > 0 {
			lifetime = rs.TokenLifetime
		}
		aud = append(aud, g.audience)
	}
	if openid || g.audience == "" {
		aud = append(aud, issuer+"userinfo")
	}
	scope := strings.Join(g.scope, " ")
	at, err := req.View.Signer.Sign(token.Claims{
		Issuer:          issuer,
		Subject:         g.user.ID,
		Audience:        aud,
		IssuedAt:        now.Unix(),
		Expiry:          now.Unix() + int64(lifetime),
		Scope:           scope,
		AuthorizedParty: g.client.ClientID,
		ID:              secret.ID(22),
	})
	if err != nil {
		return oauth.TokenResponse{}, fmt.Errorf("sign access token: %w", err)
	}
	resp := oauth.TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: lifetime, Scope: scope}
	if !openid {
		return resp, nil
	}
	idLifetime := g.client.IDTokenLifetime
	if idLifetime <= 0 {
		idLifetime = signet.DefaultIDTokenLifetime
	}
	resp.IDToken, err = req.View.Signer.Sign(idClaims{
		Issuer:          issuer,
		Subject:         g.user.ID,
		Audience:        g.client.ClientID,
		IssuedAt:        now.Unix(),
		Expiry:          now.Unix() + int64(idLifetime),
		AuthTime:        g.authTime.Unix(),
		Nonce:           g.nonce,
		AtHash:          atHash(req.View.Signing.Algorithm, at),
		AuthorizedParty: g.client.ClientID,
		profileClaims:   claimsFor(g.user, g.scope),
	})
	if err != nil {
		return oauth.TokenResponse{}, fmt.Errorf("sign id token: %w", err)
	}
	return resp, nil
}

// atHash is the at_hash of an access token (OpenID Connect Core §3.1.3.6):
// the left half of its hash under the hash of the ID token's algorithm.
func atHash(alg, accessToken string) string {
	var hf hash.Hash
	switch alg {
	case "RS384", "PS384", "ES384":
		hf = sha512.New384()
	case "RS512", "PS512", "ES512", "EdDSA":
		hf = sha512.New()
	default:
		hf = sha256.New()
	}
	hf.Write([]byte(accessToken))
	sum := hf.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// Discover adds the provider's endpoints and capabilities to the tenant's
// discovery document; see oauth.Provider.
func (h *Handler) Discover(req reqctx.Request, doc *oauth.Discovery) {
	iss := req.Issuer
	doc.AuthorizationEndpoint = iss + "authorize"
	doc.UserinfoEndpoint = iss + "userinfo"
	doc.EndSessionEndpoint = iss + "oidc/logout"
	doc.TokenEndpointAuthMethodsSupported = appendNew(doc.TokenEndpointAuthMethodsSupported, "none")
	doc.GrantTypesSupported = appendNew(doc.GrantTypesSupported, grantAuthorizationCode, grantRefreshToken)
	doc.ResponseTypesSupported = []string{"code"}
	doc.ResponseModesSupported = []string{"query"}
	doc.ScopesSupported = appendNew(doc.ScopesSupported, oidcScopes...)
	doc.ClaimsSupported = []string{"at_hash", "aud", "auth_time", "azp", "email", "email_verified", "exp", "iat", "iss",
		"name", "nickname", "nonce", "sub", "updated_at"}
	doc.CodeChallengeMethodsSupported = []string{"S256"}
	doc.PromptValuesSupported = []string{"none", "login", "consent", "select_account"}
}

func appendNew(s []string, vs ...string) []string {
	for _, v := range vs {
		if !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	return s
}
