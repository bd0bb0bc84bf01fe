package mgmt

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 description of the Management API and
// the public endpoints. The tests check every response they receive
// against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns a copy of the OpenAPI 3.1 document that describes the
// Management API and the public endpoints (JWKS, discovery, certificates,
// /oauth/token), as served at GET /api/v2/openapi.json.
func OpenAPI() []byte {
	return append([]byte(nil), openAPIDocument...)
}

// serveOpenAPI answers GET /api/v2/openapi.json with the document. It needs
// no token: the document is the same for every tenant and names no secret,
// as Auth0 publishes its own.
func (a *API) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Cache-Control", "public, max-age=3600")
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.Write(openAPIDocument)
}
