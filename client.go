package signet

import "time"

// Client is an application that obtains tokens: Auth0's "client".
type Client struct {
	Tenant      string
	ClientID    string
	Name        string
	Description string
	// AppType is Auth0's app_type; "non_interactive" is a machine-to-machine application.
	AppType string
	// SecretHash is the SHA-256 digest of the client secret; the secret itself
	// is never stored.
	SecretHash []byte
	// GrantTypes are the OAuth 2.0 grant types the client may use.
	GrantTypes []string
	// Callbacks are the redirect URIs /authorize accepts, compared exactly
	// (Auth0's callbacks).
	Callbacks []string
	// AllowedLogoutURLs are the URLs logout may return to (Auth0's
	// allowed_logout_urls).
	AllowedLogoutURLs []string
	// TokenEndpointAuthMethod is how the client authenticates at the token
	// endpoint: "none" for a public client (SPA, native) that relies on PKCE,
	// "client_secret_post" or "client_secret_basic". Empty means
	// "client_secret_post".
	TokenEndpointAuthMethod string
	// IDTokenLifetime is the ID-token lifetime in seconds (Auth0's
	// jwt_configuration.lifetime_in_seconds); 0 means DefaultIDTokenLifetime.
	IDTokenLifetime int
	// RefreshTokenLifetime is the absolute lifetime of a refresh-token family
	// in seconds; 0 means DefaultRefreshTokenLifetime.
	RefreshTokenLifetime int
	// Addons hold the client's SAML and WS-Fed settings.
	Addons    ClientAddons
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Client defaults (Auth0's).
const (
	DefaultIDTokenLifetime      = 36000   // 10 hours
	DefaultRefreshTokenLifetime = 2592000 // 30 days
)

// Errors for a missing client, resource server or client grant.
var (
	// ErrClientNotFound is returned for an unknown client.
	ErrClientNotFound = &Error{Code: ENOTFOUND, Message: "Client not found."}
	// ErrResourceServerNotFound is returned for an unknown resource server.
	ErrResourceServerNotFound = &Error{Code: ENOTFOUND, Message: "Resource server not found."}
	// ErrClientGrantNotFound is returned for an unknown client grant.
	ErrClientGrantNotFound = &Error{Code: ENOTFOUND, Message: "Client grant not found."}
)

// Public reports whether the client has no secret to present at the token
// endpoint and must prove itself with PKCE instead.
func (c Client) Public() bool { return c.TokenEndpointAuthMethod == "none" }

// Scope is one permission a resource server defines.
type Scope struct {
	Value       string `json:"value"`
	Description string `json:"description,omitempty"`
}

// ResourceServer is an API that accepts access tokens: Auth0's "resource server".
type ResourceServer struct {
	Tenant string
	ID     string
	Name   string
	// Identifier is the API's audience, unique per tenant.
	Identifier string
	Scopes     []Scope
	// SigningAlg is the JWS algorithm of its access tokens (the tenant key's).
	SigningAlg string
	// TokenLifetime is the access-token lifetime in seconds
	// (DefaultTokenLifetime unless set).
	TokenLifetime int
	// System marks the built-in Management API, which cannot be changed or deleted.
	System    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ClientGrant allows one client to obtain tokens with some scopes for one
// resource server. (Tenant, ClientID, Audience) is unique.
type ClientGrant struct {
	Tenant    string
	ID        string
	ClientID  string
	Audience  string
	Scope     []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DefaultTokenLifetime is the access-token lifetime, in seconds, of a
// resource server that sets none: Auth0's default of 24 hours.
const DefaultTokenLifetime = 86400
