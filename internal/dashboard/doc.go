// Package dashboard serves Signet's administration pages under /dashboard/:
// sign-in for administrators (accounts made with `signet admins create`),
// and for each tenant granted to them, Tenant Settings with its General and
// Signing Keys tabs, where they rotate, rotate-and-revoke and revoke keys
// as in Auth0's dashboard.
//
// The pages are server-rendered with html/template; the stylesheet, the
// little script that opens the confirmation dialogs and the icons are
// embedded in the binary, and every form works without the script. The
// dashboard is not a tenant's: the server mounts it on every tenant's host
// (and the operator's --dashboard-host), and an administrator switches
// between the tenants granted to them.
//
// Key changes go through the keyring's Ring, the code behind the Management
// API, so they write the same audit events, with actor "admin:<email>".
//
// Sessions are stored (signet.AdminStore), never held in memory, so that
// every replica sharing the database knows them: the cookie holds a random
// session id, the store its SHA-256 digest. Each state-changing form carries
// a CSRF token derived from the session id (HMAC-SHA256) and compared in
// constant time; the sign-in form, which has no session yet, uses a
// double-submit cookie. Cookies are HttpOnly, SameSite=Lax, and when the
// public URL is https Secure with a __Host- name on path / (no other host
// can set them). A session ends after IdleTimeout without use,
// after MaxAge in any case, or when its administrator signs out.
//
// Failed sign-ins are throttled per e-mail address (known or not) and per
// client IP, in memory per replica (Config.Limits, package throttle): past
// the limit the form answers 429 with Retry-After without checking the
// password. At most throttle.DefaultHashes password checks run at once.
package dashboard
