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
//
// Login sessions are stored in the UserStore as SHA-256 digests of their
// ids, so every replica sharing the database sees them; the cookie is
// HttpOnly, SameSite=Lax, Secure (and __Host- prefixed) when the issuer is
// https, and a session lasts at most Config.SessionLifetime from sign-in.
//
// Rate limits on the login form (Limits) are kept in memory per replica.
//
// # API for other protocol handlers
//
// The SAML and WS-Fed endpoints reuse the login page and its session:
//
//	// Session returns the user signed in on r's tenant and when they authenticated; ok is false when there is no valid session.
//	func (h *Handler) Session(r *http.Request) (u signet.User, authTime time.Time, ok bool)
//	// LoginURL returns the path of the login page that, after a successful sign-in, redirects to returnTo (a same-origin relative path, validated).
//	func LoginURL(returnTo string) string
//
// Because the cookie is SameSite=Lax, a browser does not send it on a
// cross-site POST (the SAML HTTP-POST binding): such a handler should answer
// a POST without a session by redirecting to a same-site GET that carries
// the request, and check the session there.
package oidc
