// Package oidc is Signet's OpenID Connect provider: users of a tenant sign
// in on a server-rendered login page and relying parties get ID tokens
// through the authorization-code flow with PKCE, the way Auth0 issues them.
//
// Routes (per tenant, chosen by Host like every Signet route):
//
//   - GET /login?return_to=PATH, POST /login: the login page. The form is
//     CSRF-protected (an HMAC of the return path keyed with a random
//     HttpOnly cookie); a wrong email and a wrong password get the same
//     message, and an unknown email burns the time of a password check.
//     After sign-in it redirects (303) to PATH, a same-origin relative path
//     checked by the rules of LoginURL, never anywhere else.
//   - GET|POST /authorize: response_type=code with an S256 PKCE challenge
//     (required for public clients). An unknown client_id or a redirect_uri
//     that is not exactly one of the client's callbacks gets an error page;
//     every other error is redirected with error, error_description and
//     state. Without a fresh session it sends the browser to the login page
//     and back; prompt=none answers login_required instead.
//   - POST /oauth/token, through oauth.Provider: the authorization_code and
//     refresh_token grants. Codes are single use, expire after CodeLifetime
//     and are bound to client, redirect URI and challenge; a replayed code
//     revokes the refresh tokens it was exchanged for. Refresh tokens rotate
//     on every use; a used token presented again revokes its family.
//   - GET|POST /userinfo: the user's claims for an access token whose
//     audience is "<issuer>userinfo", verified with the tenant's non-revoked
//     keys.
//   - GET /v2/logout (Auth0's) and GET|POST /oidc/logout (the discovery
//     document's end_session_endpoint): end the session and return only to
//     one of the client's allowed logout URLs.
//
// ID and access tokens are signed by the tenant's current key. Login
// sessions, codes and refresh tokens live in the signet.UserStore as SHA-256
// digests, so every replica sharing the database sees them and single use
// holds across replicas (the store serialises redemption and rotation). The
// session cookie is HttpOnly, SameSite=Lax, Secure (and __Host- prefixed)
// when the issuer is https, and a session lasts at most
// Config.SessionLifetime from sign-in.
//
// The login form's rate limits (Limits, package throttle) are kept in
// memory per replica: with N replicas an attacker gets at most N times the
// attempts. The client IP is the TCP peer address (an IPv6 address counts
// by its /64); X-Forwarded-For is not trusted. At most
// throttle.DefaultHashes password checks run at once; more sign-ins queue.
//
// # API for other protocol handlers
//
// The SAML and WS-Fed endpoints reuse the login page and its session:
//
//	// Session returns the user signed in on r's tenant and when they authenticated; ok is false when there is no valid session.
//	func (h *Handler) Session(r *http.Request) (u signet.User, authTime time.Time, ok bool)
//	// LoginURL returns the path of the login page that, after a successful sign-in, redirects to returnTo (a same-origin relative path, validated).
//	// It asks for the password even when a session exists: a fresh sign-in is one whose auth time is after the request that asked for it.
//	func LoginURL(returnTo string) string
//	// EndSession ends the login session r carries, if any (SAML single logout, WS-Fed sign-out).
//	func (h *Handler) EndSession(w http.ResponseWriter, r *http.Request) error
//
// Because the cookie is SameSite=Lax, a browser does not send it on a
// cross-site POST (the SAML HTTP-POST binding): such a handler should answer
// a POST without a session by redirecting to a same-site GET that carries
// the request, and check the session there.
package oidc
