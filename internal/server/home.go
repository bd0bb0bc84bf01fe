package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"

	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/theme"
)

// homeCSS is the root page's style: the shared look and a few rules of
// its own, inlined so that the page needs nothing else.
const homeCSS = `
main { max-width: 40rem; margin: 4rem auto; padding: 2rem 2.25rem; background: var(--card);
  border: 1px solid var(--line); border-radius: var(--radius); }
h1 { margin: 0 0 .25rem; font-size: 1.4rem; }
p { color: var(--muted); margin: .25rem 0 1.25rem; }
ul { list-style: none; padding: 0; margin: 0; }
li { padding: .6rem 0; border-top: 1px solid var(--line); }
a { color: var(--accent); font-weight: 600; text-decoration: none; }
a:hover { text-decoration: underline; }
code { font-family: var(--mono); font-size: .9em; }
.note { color: var(--muted); font-weight: normal; }
`

// homeStyle is the content of the page's style element; homeCSP admits it
// by its hash and nothing else.
var (
	homeStyle = theme.CSS + homeCSS
	homeCSP   = "default-src 'none'; style-src 'sha256-" + styleHash(homeStyle) + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

// styleHash returns the base64 SHA-256 of an inline style, as a CSP
// hash source names it.
func styleHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// homePage is the root page of a tenant's host: which tenant answers and
// where its documents and the dashboard are.
var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signet · {{.Tenant}}</title>
<style>{{.Style}}</style>
</head>
<body>
<main>
<h1>Signet · tenant {{.Tenant}}</h1>
<p>This host is served by Signet, a signing-key authority. Issuer <code>{{.Issuer}}</code></p>
<ul>
<li><a href="/dashboard/">Dashboard</a> <span class="note">— sign in to manage signing keys</span></li>
<li><a href="/.well-known/openid-configuration">OpenID Connect discovery</a> <span class="note">— /.well-known/openid-configuration</span></li>
<li><a href="/.well-known/jwks.json">JSON Web Key Set</a> <span class="note">— /.well-known/jwks.json</span></li>
<li>API documentation <span class="note">— <code>docs/api.md</code> in Signet's source repository</span></li>
</ul>
</main>
</body>
</html>
`))

// home is the data of homePage.
type home struct {
	Tenant string
	Issuer string
	Style  template.CSS
}

// serveHome answers GET / on a tenant's host with homePage. Only the root
// itself: other unknown paths stay 404.
func (s *Server) serveHome(w http.ResponseWriter, r *http.Request) {
	req, _ := reqctx.From(r.Context())
	var b bytes.Buffer
	if err := homePage.Execute(&b, home{Tenant: req.View.Tenant.Name, Issuer: req.Issuer, Style: template.CSS(homeStyle)}); err != nil {
		s.cfg.Logger.Error("render root page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", homeCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	w.Write(b.Bytes())
}
