// Package reqctx carries what the tenant middleware resolves for a request —
// the tenant's view and the issuer of the host the request came to — through
// the request's context to the handlers (internal/oauth, oidc, saml, mgmt).
//
// internal/server puts it there with With; handlers read it with From.
package reqctx
