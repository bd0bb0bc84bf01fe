package saml

import (
	"net/http"
	"slices"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/reqctx"
)

// serveWSFed answers /wsfed/{client} and /wsfed (which finds the
// application by wtrealm): wa=wsignin1.0 posts a wresult holding a signed
// SAML 1.1 assertion to wreply; wa=wsignout1.0 ends the session.
func (h *Handler) serveWSFed(w http.ResponseWriter, r *http.Request) {
	req, ok := h.tenant(w, r)
	if !ok {
		return
	}
	q, err := ParseWSFedQuery(r.URL.RawQuery)
	if err != nil {
		h.fail(w, err)
		return
	}
	var c signet.Client
	if id := r.PathValue("client"); id != "" {
		c, err = h.client(r, req, id, "WS-Federation", hasWSFed)
	} else {
		c, err = h.clientByRealm(r, req, q.Realm)
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	s, err := resolve(c, req.Issuer)
	if err != nil {
		h.fail(w, err)
		return
	}
	realms := wsfedRealms(c)
	realm := q.Realm
	if realm == "" {
		realm = realms[0]
	}
	if !slices.Contains(realms, realm) {
		h.fail(w, invalidRequest("The wtrealm %q is not this application's realm.", truncate(realm, 256)))
		return
	}
	if q.Action != ActionSignIn {
		h.wsfedSignOut(w, r, c, q)
		return
	}
	reply := q.Reply
	if reply == "" && len(c.Callbacks) > 0 {
		reply = c.Callbacks[0]
	}
	if reply == "" || !slices.Contains(c.Callbacks, reply) {
		h.fail(w, invalidRequest("The wreply URL is missing or not one of the application's callbacks."))
		return
	}
	sg, err := currentSigner(req, s.alg)
	if err != nil {
		h.fail(w, err)
		return
	}
	u, authTime, ok := h.auth.Session(r)
	if !ok {
		h.login(w, r, false)
		return
	}
	p := profile(u)
	a := assertion{
		Issuer: s.entityID, Audience: realm, Now: h.now(), Lifetime: s.lifetime,
		NameIDFormat: s.nameIDFmt, AuthTime: authTime,
	}
	a.Attributes = s.attributes(p)
	a.NameID = s.nameID(a.Attributes, p)
	doc, err := buildRSTR(a, sg)
	if err != nil {
		h.fail(w, err)
		return
	}
	b, err := doc.WriteToBytes()
	if err != nil {
		h.fail(w, err)
		return
	}
	fields := []formField{{"wa", ActionSignIn}, {"wresult", string(b)}}
	if q.Context != "" {
		fields = append(fields, formField{"wctx", q.Context})
	}
	h.post(w, reply, fields)
}

// wsfedSignOut ends the session and returns to wreply if it is one of the
// application's allowed logout URLs or callbacks.
func (h *Handler) wsfedSignOut(w http.ResponseWriter, r *http.Request, c signet.Client, q WSFedRequest) {
	if q.Reply != "" && !slices.Contains(c.AllowedLogoutURLs, q.Reply) && !slices.Contains(c.Callbacks, q.Reply) {
		h.fail(w, invalidRequest("The wreply URL is not one of the application's allowed logout URLs."))
		return
	}
	if !h.endSession(w, r) {
		return
	}
	if q.Reply != "" {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, q.Reply, http.StatusFound)
		return
	}
	h.render(w, http.StatusOK, "message", page{Title: "Signed out", Message: "You are signed out."}, "")
}

// endSession ends the request's login session through the Authenticator.
// It answers with an error page and returns false if it cannot.
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request) bool {
	e, ok := h.auth.(SessionEnder)
	if !ok {
		h.fail(w, signet.Errorf(signet.ECONFLICT, "Signing out is not available on this server."))
		return false
	}
	if err := e.EndSession(w, r); err != nil {
		h.fail(w, err)
		return false
	}
	return true
}

// wsfedRealms returns the wtrealm values an application accepts, the
// default first: the WS-Fed add-on's realm, the SAML add-on's audience, the
// client id.
func wsfedRealms(c signet.Client) []string {
	var out []string
	if c.Addons.WSFed != nil && c.Addons.WSFed.Realm != "" {
		out = append(out, c.Addons.WSFed.Realm)
	}
	if c.Addons.SAMLP != nil && c.Addons.SAMLP.Audience != "" && !slices.Contains(out, c.Addons.SAMLP.Audience) {
		out = append(out, c.Addons.SAMLP.Audience)
	}
	if !slices.Contains(out, c.ClientID) {
		out = append(out, c.ClientID)
	}
	return out
}

// clientByRealm finds the WS-Fed application of the tenant whose client id
// or realm is realm. Returns errNoApp if there is none.
func (h *Handler) clientByRealm(r *http.Request, req reqctx.Request, realm string) (signet.Client, error) {
	if realm == "" {
		return signet.Client{}, invalidRequest("A WS-Federation request to /wsfed needs a wtrealm naming the application.")
	}
	c, err := h.client(r, req, realm, "WS-Federation", hasWSFed)
	if err == nil || signet.ErrorCode(err) != signet.ENOTFOUND {
		return c, err
	}
	cs, err := h.store.Clients(r.Context(), req.View.Tenant.Name)
	if err != nil {
		return signet.Client{}, err
	}
	for _, c := range cs {
		if c.Addons.WSFed != nil && slices.Contains(wsfedRealms(c), realm) {
			return c, nil
		}
	}
	return signet.Client{}, errNoApp("WS-Federation")
}
