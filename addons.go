package signet

// ClientAddons are a client's protocol add-ons (Auth0's client "addons").
// A nil add-on is disabled.
type ClientAddons struct {
	// SAMLP makes the client a SAML 2.0 service provider.
	SAMLP *SAMLAddon `json:"samlp,omitempty"`
	// WSFed makes the client a WS-Federation relying party.
	WSFed *WSFedAddon `json:"wsfed,omitempty"`
}

// SAMLAddon is a client's SAML 2.0 settings (Auth0's addons.samlp).
type SAMLAddon struct {
	// Audience is the service provider's entity ID.
	Audience string `json:"audience,omitempty"`
	// Recipient is the service provider's assertion consumer service URL.
	Recipient string `json:"recipient,omitempty"`
}

// WSFedAddon is a client's WS-Federation settings (Auth0's addons.wsfed).
type WSFedAddon struct{}
