package saml

import (
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/secret"
)

// DefaultMetadataMaxAge is the Cache-Control max-age of metadata when
// Config.MetadataMaxAge is zero.
const DefaultMetadataMaxAge = 5 * time.Minute

// maxRelayState caps RelayState and wctx echoed back to the SP (the SAML
// bindings say 80 bytes; real SPs send more).
const maxRelayState = 4096

// Authenticator tells who is signed in to the tenant of a request: the
// OpenID Connect handler's login session (internal/oidc.Handler).
type Authenticator interface {
	// Session returns the signed-in user and when they authenticated; ok is
	// false if nobody is.
	Session(r *http.Request) (u signet.User, authTime time.Time, ok bool)
}

// SessionEnder is what an Authenticator may also do: end the request's
// login session (single logout, wsignout1.0).
type SessionEnder interface {
	EndSession(w http.ResponseWriter, r *http.Request) error
}

// ClientStore is where the handler finds applications.
type ClientStore interface {
	Client(ctx context.Context, tenant, clientID string) (signet.Client, error)
	Clients(ctx context.Context, tenant string) ([]signet.Client, error)
}

// Config configures a Handler.
type Config struct {
	// Store holds the applications and their add-ons.
	Store ClientStore
	// Auth tells who is signed in; LoginURL returns the login page that
	// comes back to a same-origin path after sign-in (oidc.LoginURL).
	Auth     Authenticator
	LoginURL func(returnTo string) string
	// MetadataMaxAge is the Cache-Control max-age of metadata; 0 means
	// DefaultMetadataMaxAge. Keep it no longer than the tenants'
	// min_next_age so that every SP holds the next certificate before it signs.
	MetadataMaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives internal errors only; nil discards them.
	Logger *slog.Logger
}

// Handler serves /samlp/… and /wsfed/… for every tenant. Create it with New.
type Handler struct {
	store    ClientStore
	auth     Authenticator
	loginURL func(string) string
	maxAge   string
	now      func() time.Time
	logger   *slog.Logger
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MetadataMaxAge <= 0 {
		cfg.MetadataMaxAge = DefaultMetadataMaxAge
	}
	return &Handler{
		store:    cfg.Store,
		auth:     cfg.Auth,
		loginURL: cfg.LoginURL,
		maxAge:   "public, max-age=" + strconv.Itoa(int(cfg.MetadataMaxAge/time.Second)),
		now:      cfg.Now,
		logger:   cfg.Logger,
	}
}

// federationMetadataPath is where WS-Federation metadata lives (as ADFS's and Auth0's).
const federationMetadataPath = "FederationMetadata/2007-06/FederationMetadata.xml"

// Register adds the handler's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /samlp/{client}", h.serveSSO)
	mux.HandleFunc("POST /samlp/{client}", h.serveSSO)
	// /samlp/metadata/{client} and /samlp/{client}/logout overlap as
	// patterns, so one route tells them apart.
	mux.HandleFunc("GET /samlp/{a}/{b}", h.serveSAMLSub)
	mux.HandleFunc("POST /samlp/{a}/{b}", h.serveSAMLSub)
	mux.HandleFunc("GET /wsfed", h.serveWSFed)
	mux.HandleFunc("GET /wsfed/{client}", h.serveWSFed)
	mux.HandleFunc("GET /wsfed/"+federationMetadataPath, h.serveFederationMetadata)
	mux.HandleFunc("GET /wsfed/{client}/"+federationMetadataPath, h.serveFederationMetadata)
}

func (h *Handler) serveSAMLSub(w http.ResponseWriter, r *http.Request) {
	a, b := r.PathValue("a"), r.PathValue("b")
	switch {
	case a == "metadata" && r.Method == http.MethodGet:
		h.serveMetadata(w, r, b)
	case b == "logout":
		h.serveLogout(w, r, a)
	default:
		http.NotFound(w, r)
	}
}

// errNoApp is the error page for an unknown application or one without the add-on.
func errNoApp(protocol string) error {
	return signet.Errorf(signet.ENOTFOUND, "There is no %s application with this client id.", protocol)
}

// tenant returns the request's resolved tenant or answers 404.
func (h *Handler) tenant(w http.ResponseWriter, r *http.Request) (reqctx.Request, bool) {
	req, ok := reqctx.From(r.Context())
	if !ok || req.View == nil {
		http.NotFound(w, r)
		return reqctx.Request{}, false
	}
	return req, true
}

// client loads an application of the request's tenant that has the add-on
// want selects. Returns errNoApp for an unknown client or one without it.
func (h *Handler) client(r *http.Request, req reqctx.Request, id, protocol string, want func(signet.ClientAddons) bool) (signet.Client, error) {
	if id == "" || len(id) > 128 {
		return signet.Client{}, errNoApp(protocol)
	}
	c, err := h.store.Client(r.Context(), req.View.Tenant.Name, id)
	if errors.Is(err, signet.ErrNotFound) || err == nil && !want(c.Addons) {
		return signet.Client{}, errNoApp(protocol)
	}
	return c, err
}

// samlApp loads the SAML application id of the request's tenant and its
// settings. Returns errNoApp for an unknown client or one without the SAML
// add-on, or resolve's error for settings Signet cannot honour.
func (h *Handler) samlApp(r *http.Request, req reqctx.Request, id string) (signet.Client, settings, error) {
	c, err := h.client(r, req, id, "SAML", hasSAML)
	if err != nil {
		return signet.Client{}, settings{}, err
	}
	s, err := resolve(c, req.Issuer)
	return c, s, err
}

func hasSAML(a signet.ClientAddons) bool  { return a.SAMLP != nil }
func hasWSFed(a signet.ClientAddons) bool { return a.WSFed != nil }

// currentSigner returns the signer of the key the tenant signs with
// (keyring.View.Signing: the current key once every replica publishes it).
// Returns ErrUnsupportedKey for a key that is not RSA.
func currentSigner(req reqctx.Request, alg sigAlg) (*signer, error) {
	if err := req.View.Fresh(); err != nil {
		return nil, err
	}
	return newSigner(req.View.Key, req.View.Signing.Certificate, alg)
}

// metadataCerts returns the certificates metadata lists: the current key's
// and the next key's, never a revoked one. During the few seconds after a
// rotation when the tenant still signs with the previous key (see
// keyring.Config.PublishDelay), that key comes first.
// Returns ErrUnsupportedKey if they are not RSA keys.
func metadataCerts(req reqctx.Request) ([][]byte, error) {
	ks := req.View.Keyset
	keys := []signet.Key{ks.Current(), ks.Next()}
	if s := req.View.Signing; s.KID != keys[0].KID {
		keys = append([]signet.Key{s}, keys...)
	}
	certs := make([][]byte, len(keys))
	for i, k := range keys {
		if k.Algorithm != "RS256" {
			return nil, ErrUnsupportedKey
		}
		certs[i] = k.Certificate
	}
	return certs, nil
}

// serveMetadata answers GET /samlp/metadata/{client}.
func (h *Handler) serveMetadata(w http.ResponseWriter, r *http.Request, id string) {
	req, ok := h.tenant(w, r)
	if !ok {
		return
	}
	c, s, err := h.samlApp(r, req, id)
	if err != nil {
		h.fail(w, err)
		return
	}
	certs, err := metadataCerts(req)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeXML(w, buildIDPMetadata(s.entityID, req.Issuer, c.ClientID, certs, s.attributeNames()))
}

// serveFederationMetadata answers GET /wsfed/[{client}/]FederationMetadata/2007-06/FederationMetadata.xml.
func (h *Handler) serveFederationMetadata(w http.ResponseWriter, r *http.Request) {
	req, ok := h.tenant(w, r)
	if !ok {
		return
	}
	endpoint := req.Issuer + "wsfed"
	s, err := resolve(signet.Client{}, req.Issuer)
	if id := r.PathValue("client"); id != "" {
		c, cerr := h.client(r, req, id, "WS-Federation", hasWSFed)
		if cerr != nil {
			h.fail(w, cerr)
			return
		}
		s, err = resolve(c, req.Issuer)
		endpoint += "/" + url.PathEscape(c.ClientID)
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	certs, err := metadataCerts(req)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.writeXML(w, buildFederationMetadata(s.entityID, endpoint, certs, s.attributeNames()))
}

// writeXML answers 200 with a metadata document.
func (h *Handler) writeXML(w http.ResponseWriter, doc *etree.Document) {
	b, err := doc.WriteToBytes()
	if err != nil {
		h.fail(w, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/xml; charset=utf-8")
	hdr.Set("Cache-Control", h.maxAge)
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

// serveSSO answers /samlp/{client}: SP-initiated sign-on with a SAMLRequest
// (HTTP-Redirect in the query, HTTP-POST in the form), IdP-initiated
// without one.
func (h *Handler) serveSSO(w http.ResponseWriter, r *http.Request) {
	req, ok := h.tenant(w, r)
	if !ok {
		return
	}
	_, s, err := h.samlApp(r, req, r.PathValue("client"))
	if err != nil {
		h.fail(w, err)
		return
	}
	encoded, relay, redirect, err := readMessage(w, r)
	if err == nil && encoded == "" && !redirect {
		err = invalidRequest("The POST carries no SAMLRequest.")
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	var ar *AuthnRequest
	acs := s.defaultACS
	if encoded != "" {
		data, err := decodeMessage(encoded, redirect)
		if err != nil {
			h.fail(w, err)
			return
		}
		if ar, err = parseAuthnRequest(data); err != nil {
			h.fail(w, err)
			return
		}
		if ar.Issuer != s.audience {
			h.fail(w, invalidRequest("The AuthnRequest's Issuer %q is not this application's audience.", truncate(ar.Issuer, 256)))
			return
		}
		if ar.ACSURL != "" {
			if !slices.Contains(s.acs, ar.ACSURL) {
				h.fail(w, invalidRequest("The AssertionConsumerServiceURL %q is not registered for this application (its recipient or callbacks).", truncate(ar.ACSURL, 256)))
				return
			}
			acs = ar.ACSURL
		}
		if !redirect {
			continueAsGet(w, r, data, relay)
			return
		}
	}
	if acs == "" {
		h.fail(w, signet.Errorf(signet.EINVALID, "The application has no assertion consumer service URL: set addons.samlp.recipient or callbacks."))
		return
	}
	sg, err := currentSigner(req, s.alg)
	if err != nil {
		h.fail(w, err)
		return
	}
	a := assertion{
		Issuer: s.entityID, Audience: s.audience, Recipient: s.recipient, Destination: s.dest,
		Now: h.now(), Lifetime: s.lifetime, NameIDFormat: s.nameIDFmt, AuthnContext: s.authnCtx,
		TypedAttributes: s.typed, NameFormat: s.nameFormat, SignResponse: s.signResp,
	}
	if a.Recipient == "" {
		a.Recipient = acs
	}
	if a.Destination == "" {
		a.Destination = acs
	}
	if ar != nil {
		a.InResponseTo = ar.ID
	}
	u, authTime, ok := h.auth.Session(r)
	force := ar != nil && ar.ForceAuthn
	if ok && force && !signedInSince(r.URL.Query(), authTime) {
		ok = false // ForceAuthn: a sign-in from before this request does not count
	}
	if !ok {
		if ar != nil && ar.IsPassive {
			doc := buildStatusResponse(a, statusRequester, statusNoPassive, "The user is not signed in.")
			h.postSAML(w, req, acs, "SAMLResponse", doc, relay)
			return
		}
		h.login(w, r, force)
		return
	}
	p := profile(u)
	a.Attributes = s.attributes(p)
	a.NameID = s.nameID(a.Attributes, p)
	a.AuthTime = authTime
	a.SessionIndex = newID()
	doc, err := buildResponse(a, sg)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.postSAML(w, req, acs, "SAMLResponse", doc, relay)
}

// login redirects to the login page, which asks for the password even when
// a session exists, and comes back to this request. With fresh (ForceAuthn)
// the way back also records when the sign-in was first asked for, so that
// signedInSince accepts the sign-in made on the login page and no earlier
// one.
func (h *Handler) login(w http.ResponseWriter, r *http.Request, fresh bool) {
	back := r.URL.RequestURI()
	if fresh && !r.URL.Query().Has(authnAfterParam) {
		// Appended, so that the SP's parameters keep their order.
		sep := "?"
		if strings.Contains(back, "?") {
			sep = "&"
		}
		back += sep + authnAfterParam + "=" + strconv.FormatInt(h.now().Unix(), 10)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, h.loginURL(back), http.StatusFound)
}

// authnAfterParam is the parameter of the way back from a sign-in that
// ForceAuthn asked for: the Unix time, in seconds, of the request that
// asked. Like the unsigned AuthnRequest itself it is in the browser's hands;
// an SP that must be sure compares the assertion's AuthnInstant with its
// request's time.
const authnAfterParam = "signet_authn_after"

// signedInSince reports whether a sign-in at authTime satisfies a
// ForceAuthn request whose parameters are q: it came no earlier than the
// second authnAfterParam records.
func signedInSince(q url.Values, authTime time.Time) bool {
	after, err := strconv.ParseInt(q.Get(authnAfterParam), 10, 64)
	return err == nil && authTime.Unix() >= after
}

// readMessage reads a SAML message's SAMLRequest (encoded) and RelayState
// from a GET's query (the HTTP-Redirect binding; redirect is true) or a
// POST's form (HTTP-POST). Returns an EINVALID error for a malformed query,
// ErrMessageTooLarge for an unreadable form, or checkRelayState's error.
func readMessage(w http.ResponseWriter, r *http.Request) (encoded, relay string, redirect bool, err error) {
	var q url.Values
	if redirect = r.Method == http.MethodGet; redirect {
		if q, err = url.ParseQuery(r.URL.RawQuery); err != nil {
			return "", "", true, invalidRequest("The query string is malformed.")
		}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, 2*MaxEncodedMessage)
		if err := r.ParseForm(); err != nil {
			return "", "", false, ErrMessageTooLarge
		}
		q = r.PostForm
	}
	encoded, relay = q.Get("SAMLRequest"), q.Get("RelayState")
	return encoded, relay, redirect, checkRelayState(relay)
}

// continueAsGet redirects (303) a message that came by HTTP-POST to the
// same path as a top-level GET of the HTTP-Redirect binding, which carries
// the SameSite=Lax session cookie a cross-site POST does not. data is the
// decoded message.
func continueAsGet(w http.ResponseWriter, r *http.Request, data []byte, relay string) {
	q := url.Values{"SAMLRequest": {encodeRedirect(data)}}
	if relay != "" {
		q.Set("RelayState", relay)
	}
	http.Redirect(w, r, r.URL.Path+"?"+q.Encode(), http.StatusSeeOther)
}

// checkRelayState refuses an over-long RelayState or one with control characters.
func checkRelayState(s string) error {
	if len(s) > maxRelayState || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return invalidRequest("The RelayState is longer than %d bytes or holds control characters.", maxRelayState)
	}
	return nil
}

// postSAML answers with a page that posts doc, base64-encoded as field, and
// relay as RelayState, to action (the HTTP-POST binding).
func (h *Handler) postSAML(w http.ResponseWriter, req reqctx.Request, action, field string, doc *etree.Document, relay string) {
	b, err := doc.WriteToBytes()
	if err != nil {
		h.fail(w, err)
		return
	}
	fields := []formField{{field, base64.StdEncoding.EncodeToString(b)}}
	if relay != "" {
		fields = append(fields, formField{"RelayState", relay})
	}
	h.post(w, action, fields)
}

// formField is one hidden field of an auto-submitting form.
type formField struct{ Name, Value string }

// post answers with a page whose form posts fields to action at once.
func (h *Handler) post(w http.ResponseWriter, action string, fields []formField) {
	u, err := url.Parse(action)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		h.fail(w, invalidRequest("The application's URL %q is not an absolute http or https URL.", truncate(action, 256)))
		return
	}
	h.render(w, http.StatusOK, "post", page{Title: "Signing in…", Action: action, Fields: fields},
		"form-action "+u.Scheme+"://"+u.Host)
}

// page is what the templates show.
type page struct {
	Title, Message, Nonce, Action string
	Fields                        []formField
}

//go:embed templates/page.html
var templatesFS embed.FS

var pages = template.Must(template.ParseFS(templatesFS, "templates/page.html"))

// render writes a page with the headers every page carries; extraCSP adds
// CSP directives.
func (h *Handler) render(w http.ResponseWriter, status int, name string, p page, extraCSP string) {
	p.Nonce = secret.ID(22)
	csp := "default-src 'none'; style-src 'nonce-" + p.Nonce + "'; script-src 'nonce-" + p.Nonce + "'; base-uri 'none'; frame-ancestors 'none'"
	if extraCSP != "" {
		csp += "; " + extraCSP
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Pragma", "no-cache")
	hdr.Set("Content-Security-Policy", csp)
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, p); err != nil {
		h.logger.Error("render page", "page", name, "err", err)
	}
}

// statusOf maps an error to its HTTP status.
var statusOf = map[string]int{
	signet.EINVALID:   http.StatusBadRequest,
	signet.ENOTFOUND:  http.StatusNotFound,
	signet.ECONFLICT:  http.StatusConflict,
	signet.EFORBIDDEN: http.StatusForbidden,
}

// fail answers with an error page: the message of a signet.Error, or
// "Internal error." (logged) for any other error.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	if errors.Is(err, keyring.ErrStale) {
		// The replica may not know of a revocation: it must not sign.
		h.logger.Warn("saml: not signing", "err", err)
		h.render(w, http.StatusServiceUnavailable, "error", page{Title: "Sign-on failed", Message: "This server cannot confirm that its signing keys are current; retry shortly."}, "")
		return
	}
	status, ok := statusOf[signet.ErrorCode(err)]
	if !ok {
		status = http.StatusInternalServerError
		h.logger.Error("saml", "err", err)
	}
	h.render(w, status, "error", page{Title: "Sign-on failed", Message: signet.ErrorMessage(err)}, "")
}
