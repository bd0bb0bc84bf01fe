package token

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Claims are the claims of a Signet access token, in Auth0's shape.
type Claims struct {
	Issuer          string   `json:"iss"`
	Subject         string   `json:"sub"`
	Audience        Audience `json:"aud"`
	IssuedAt        int64    `json:"iat"`
	Expiry          int64    `json:"exp"`
	Scope           string   `json:"scope,omitempty"`
	GrantType       string   `json:"gty,omitempty"`
	AuthorizedParty string   `json:"azp,omitempty"`
	ID              string   `json:"jti,omitempty"`
}

// Audience is the "aud" claim. It reads a JSON string or array of strings,
// and writes a single audience as a string (as Auth0 does) and any other
// number of audiences as an array.
type Audience []string

// MarshalJSON writes a one-element Audience as a JSON string, else an array.
// Returns no errors beyond encoding/json's.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	if a == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON reads a JSON string, an array of strings, or null.
// Returns an error for any other JSON value.
func (a *Audience) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*a = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("aud: %w", err)
		}
		*a = Audience{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return fmt.Errorf("aud: must be a string or an array of strings: %w", err)
	}
	*a = ss
	return nil
}

// Contains reports whether aud is one of the audiences.
func (a Audience) Contains(aud string) bool {
	return slices.Contains(a, aud)
}
