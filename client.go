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
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

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
	// TokenLifetime is the access-token lifetime in seconds (Auth0's default 86400).
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
