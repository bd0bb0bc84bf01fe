// Package saml serves a tenant's SAML 2.0 identity provider and WS-Federation
// passive requestor endpoints: single sign-on that answers with assertions
// signed by the tenant's current key, single logout, and metadata that lists
// both the current and the next signing certificate so that a service
// provider which refreshes its metadata survives a key rotation unchanged.
//
// XML signatures are made with github.com/russellhaering/goxmldsig (exclusive
// canonicalization, RSA-SHA256, SHA-256 digests, KeyInfo with the
// certificate); no canonicalization or signature code lives here. Inbound XML
// (AuthnRequest, LogoutRequest) is size-limited, refused if it carries a DTD
// or processing instruction, and decoded into fixed structures.
//
// Sign-on uses the OpenID Connect login page and session (Authenticator,
// Config.LoginURL). An AuthnRequest with ForceAuthn="true" sends a
// signed-in user to the login page again and is answered only after a
// sign-in made since the request (the way back records the request's time;
// the assertion's AuthnInstant is the sign-in's); with IsPassive="true" as
// well it gets a NoPassive status instead.
//
// Only RSA keys sign XML: a tenant whose key is ES256 gets a clear error from
// every endpoint here (see ErrUnsupportedKey).
package saml
