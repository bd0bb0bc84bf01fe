package oauth

import (
	"net/http"

	"github.com/signet-auth/signet/internal/keygen"
)

// certDoc is one rendering of the current key's certificate.
type certDoc struct {
	name        string // path, without the slash
	contentType string
	render      func(der []byte) []byte
	attachment  bool // answer with Content-Disposition: attachment; filename=<tenant>.cer
}

// certDocs are Auth0's certificate endpoints. Auth0 ignores a query on them
// and accepts an optional /{client_id} suffix, which Signet ignores too.
var certDocs = []certDoc{
	{name: "pem", contentType: "application/x-pem-file", render: func(der []byte) []byte { return []byte(keygen.CertPEM(der)) }},
	{name: "rawpem", contentType: "text/plain; charset=utf-8", render: func(der []byte) []byte { return []byte(keygen.RawPEM(der)) }},
	{name: "cer", contentType: "application/pkix-cert", render: func(der []byte) []byte { return der }, attachment: true},
	{name: "pb7", contentType: "application/x-pem-file", render: func(der []byte) []byte { return []byte(keygen.PKCS7(der)) }},
	{name: "fingerprint", contentType: "text/plain; charset=utf-8", render: func(der []byte) []byte { return []byte(keygen.Fingerprint(der)) }},
}

// certHandler serves one rendering of the certificate of the key that signs
// (keyring.View.Signing: the current key, or for the few seconds of
// keyring.Config.PublishDelay after a rotation the previous one). Clients
// that pin it refetch when a token's kid changes, so it switches at the
// instant signing does; caches must revalidate.
func (h *Handler) certHandler(c certDoc) http.HandlerFunc {
	ct := []string{c.contentType}
	return func(w http.ResponseWriter, r *http.Request) {
		req, ok := request(w, r)
		if !ok {
			return
		}
		body := c.render(req.View.Signing.Certificate)
		hdr := w.Header()
		hdr["Content-Type"] = ct
		hdr["Cache-Control"] = hdrNoCache
		hdr["Access-Control-Allow-Origin"] = hdrAnyOrigin
		hdr["X-Content-Type-Options"] = hdrNosniff
		if c.attachment {
			hdr.Set("Content-Disposition", `attachment; filename="`+req.View.Tenant.Name+`.cer"`)
		}
		w.Write(body)
	}
}
