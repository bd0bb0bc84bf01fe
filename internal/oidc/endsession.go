package oidc

import (
	"net/http"

	"github.com/signet-auth/signet/internal/reqctx"
)

// EndSession ends the login session r carries on its tenant, if any, and
// deletes the cookie: what SAML single logout and WS-Fed wsignout1.0 do
// (internal/saml's SessionEnder). Without a session it does nothing.
// Returns the store's error if the session cannot be deleted.
func (h *Handler) EndSession(w http.ResponseWriter, r *http.Request) error {
	req, ok := reqctx.From(r.Context())
	if !ok || req.View == nil {
		return nil
	}
	return h.endSession(w, r, req)
}
