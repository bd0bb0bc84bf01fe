package oauth

import (
	"net/http"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/reqctx"
)

// Provider serves grant types beyond client_credentials at the token
// endpoint and describes its endpoints in discovery: the OpenID Connect
// provider of internal/oidc.
type Provider interface {
	// GrantTypes names the grant types Exchange serves.
	GrantTypes() []string
	// Exchange runs one of GrantTypes for a client the token endpoint has
	// authenticated and allowed to use it. A public client has presented
	// no secret: Exchange must prove it otherwise (PKCE, a refresh token
	// bound to it). params are the request's body parameters. It returns the
	// response, an *Error for the client, or any other error (logged, 500).
	Exchange(r *http.Request, req reqctx.Request, client signet.Client, grantType string, params map[string]string) (TokenResponse, error)
	// Discover adds the provider's endpoints and capabilities to doc, the
	// discovery document of req's issuer.
	Discover(req reqctx.Request, doc *Discovery)
}
