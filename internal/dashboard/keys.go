package dashboard

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
)

// tenantHandler serves a signed-in request about a tenant granted to the
// administrator.
type tenantHandler func(w http.ResponseWriter, r *http.Request, v *visit, tv *keyring.View)

// tenant runs next for a signed-in administrator granted the path's tenant.
// A tenant not granted is refused with 403 whether it exists or not, so the
// answer does not reveal other tenants' names.
func (h *Handler) tenant(next tenantHandler) http.HandlerFunc {
	return h.signedIn(func(w http.ResponseWriter, r *http.Request, v *visit) {
		name := r.PathValue("tenant")
		if !v.admin.CanManage(name) {
			h.problem(w, http.StatusForbidden, h.baseView(v), "No access to this tenant",
				"Your account has not been granted tenant “"+name+"”. An operator can grant it with: signet admins grant "+v.admin.Email+" "+name)
			return
		}
		tv, ok := h.cfg.Ring.View(name)
		if !ok {
			h.problem(w, http.StatusNotFound, h.baseView(v), "Tenant not found", "Tenant “"+name+"” does not exist (any more).")
			return
		}
		next(w, r, v, tv)
	})
}

// tenantView is the view of a page of tenant tv on tab tab (without the
// notice: the pages that show one take it).
func (h *Handler) tenantView(r *http.Request, v *visit, tv *keyring.View, title, tab string) view {
	out := h.baseView(v)
	out.Title = title + " · " + tv.Tenant.Name
	out.Tenant = tv.Tenant.Name
	out.Tab = tab
	return out
}

// home sends the administrator to the first tenant granted to them.
func (h *Handler) home(w http.ResponseWriter, r *http.Request, v *visit) {
	bv := h.baseView(v)
	if len(bv.Tenants) == 0 {
		bv.Title = "No tenants"
		h.render(w, http.StatusOK, "notenants", bv)
		return
	}
	redirect(w, r, keysPath(bv.Tenants[0]))
}

// switchTenant answers the tenant switcher (a GET form, so it works without
// JavaScript) by going to the same tab of the chosen tenant.
func (h *Handler) switchTenant(w http.ResponseWriter, r *http.Request, v *visit) {
	name := r.URL.Query().Get("tenant")
	if !v.admin.CanManage(name) {
		h.problem(w, http.StatusForbidden, h.baseView(v), "No access to this tenant",
			"Your account has not been granted tenant “"+name+"”.")
		return
	}
	if r.URL.Query().Get("tab") == "general" {
		redirect(w, r, "/dashboard/tenants/"+name+"/settings")
		return
	}
	redirect(w, r, keysPath(name))
}

// tenantHome goes to the tenant's Signing Keys tab.
func (h *Handler) tenantHome(w http.ResponseWriter, r *http.Request, v *visit, tv *keyring.View) {
	redirect(w, r, keysPath(tv.Tenant.Name))
}

// generalData is the General tab's.
type generalData struct {
	Tenant  signet.Tenant
	Issuers []string
	JWKS    string
	MaxAge  time.Duration
}

// general shows the tenant's settings that the dashboard does not change.
func (h *Handler) general(w http.ResponseWriter, r *http.Request, v *visit, tv *keyring.View) {
	out := h.tenantView(r, v, tv, "Tenant Settings", "general")
	out.Notice = h.takeNotice(r.Context(), v)
	issuers := h.cfg.Ring.Issuers(tv)
	out.Data = generalData{Tenant: tv.Tenant, Issuers: issuers, JWKS: issuers[0] + ".well-known/jwks.json", MaxAge: h.cfg.JWKSMaxAge}
	h.render(w, http.StatusOK, "general", out)
}

// keyRow is one key in the lists.
type keyRow struct {
	signet.Key
	Thumbprint  string
	Fingerprint string
}

// StoppedAt is when the key stopped signing, to the millisecond: the
// precision of the bulk revocation's time.
func (k keyRow) StoppedAt() string { return preciseStamp(k.CurrentUntil) }

// preciseStamp formats t in UTC to the millisecond.
func preciseStamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000 UTC") }

// keysData is the Signing Keys tab's.
type keysData struct {
	Tenant  signet.Tenant
	Current keyRow
	Next    keyRow
	// Valid are the published keys (current, next, previous); Revoked the rest.
	Valid, Revoked []keyRow
	// Previous are the previous keys, which can be revoked.
	Previous []keyRow
	// Young is set while the next key has been published for less than
	// MinNextAge: then NextAge is its age and SafeAt when it is old enough.
	Young   bool
	NextAge time.Duration
	MinAge  time.Duration
	SafeAt  time.Time
	// YoungInNotice is set when the page's notice, a rotation's, says when
	// the next key is old enough, in place of the tab's own banner.
	YoungInNotice bool
	Base          string // the tab's path
	// Growth is Keyset.GrowthWarning: set when the tenant publishes too
	// many previous keys.
	Growth string
	// RetireBefore is the cutoff the bulk revocation offers: when the most
	// recently current previous key stopped signing, to the millisecond (the
	// input's precision; truncated, so that key itself is kept, and precise
	// enough to revoke a key rotated out a moment before it). Zero without
	// previous keys.
	RetireBefore time.Time
	// RetireInput is RetireBefore as the value of a datetime-local input.
	RetireInput string
}

// keysDataOf builds the Signing Keys tab's data: the tenant of view tv,
// its keys as stored now.
func (h *Handler) keysDataOf(ctx context.Context, tv *keyring.View) (keysData, error) {
	row := func(k signet.Key) keyRow {
		return keyRow{Key: k, Thumbprint: keygen.Thumbprint(k.Certificate), Fingerprint: keygen.Fingerprint(k.Certificate)}
	}
	ks, err := h.cfg.Store.Keyset(ctx, tv.Tenant.Name)
	if err != nil {
		return keysData{}, err
	}
	d := keysData{Tenant: tv.Tenant, Current: row(ks.Current()), Next: row(ks.Next()), Base: keysPath(tv.Tenant.Name)}
	for _, k := range ks.Sorted() {
		switch k.State {
		case signet.StateRevoked:
			d.Revoked = append(d.Revoked, row(k))
		case signet.StatePrevious:
			d.Previous = append(d.Previous, row(k))
			d.Valid = append(d.Valid, row(k))
		default:
			d.Valid = append(d.Valid, row(k))
		}
	}
	d.Growth = ks.GrowthWarning()
	if len(d.Previous) > 0 {
		d.RetireBefore = d.Previous[0].CurrentUntil.UTC().Truncate(time.Millisecond)
		d.RetireInput = d.RetireBefore.Format("2006-01-02T15:04:05.000")
	}
	d.MinAge = max(tv.Tenant.Policy.MinNextAge, h.cfg.JWKSMaxAge)
	d.NextAge = max(h.cfg.Now().Sub(d.Next.CreatedAt), 0)
	if d.NextAge < d.MinAge {
		d.Young = true
		d.SafeAt = d.Next.CreatedAt.Add(d.MinAge)
	}
	return d, nil
}

// signingKeys shows the Signing Keys tab.
func (h *Handler) signingKeys(w http.ResponseWriter, r *http.Request, v *visit, tv *keyring.View) {
	out := h.tenantView(r, v, tv, "Signing Keys", "signing-keys")
	d, err := h.keysDataOf(r.Context(), tv)
	if err != nil {
		h.internalError(w, r, h.baseView(v), err)
		return
	}
	out.Notice = h.takeNotice(r.Context(), v)
	if n := out.Notice; n != nil && strings.HasPrefix(n.Kind, "rotated") && d.Young && n.Next == d.Next.KID {
		// One notice after a rotation: its fresh next key is young by nature.
		n.SafeAt, n.MinAge = d.SafeAt, d.MinAge
		d.YoungInNotice = true
	}
	out.Data = d
	h.render(w, http.StatusOK, "keys", out)
}

// confirmRotate is the rotation's confirmation as a page of its own, for
// browsers without JavaScript (with it, a dialog on the tab asks instead).
func (h *Handler) confirmRotate(w http.ResponseWriter, r *http.Request, v *visit, tv *keyring.View) {
	d, err := h.keysDataOf(r.Context(), tv)
	if err != nil {
		h.internalError(w, r, h.baseView(v), err)
		return
	}
	out := h.tenantView(r, v, tv, "Rotate Signing Key", "signing-keys")
	out.Data = d
	h.render(w, http.StatusOK, "rotate", out)
}

// revokeData is the revocation confirmation's.
type revokeData struct {
	Keys keysData
	Key  keyRow
}

// confirmRevoke is a revocation's confirmation as a page of its own, for
// browsers without JavaScript.
func (h *Handler) confirmRevoke(w http.ResponseWriter, r *http.Request, v *visit, tv *keyring.View) {
	d, err := h.keysDataOf(r.Context(), tv)
	if err != nil {
		h.internalError(w, r, h.baseView(v), err)
		return
	}
	var k signet.Key
	for _, row := range append(d.Valid, d.Revoked...) {
		if row.KID == r.PathValue("kid") {
			k = row.Key
		}
	}
	if k.KID == "" {
		h.problem(w, http.StatusNotFound, h.baseView(v), "Signing key not found",
			"Tenant “"+tv.Tenant.Name+"” has no signing key with this id.")
		return
	}
	out := h.tenantView(r, v, tv, "Revoke Signing Key", "signing-keys")
	out.Data = revokeData{Keys: d, Key: keyRow{Key: k, Thumbprint: keygen.Thumbprint(k.Certificate)}}
	h.render(w, http.StatusOK, "revoke", out)
}

// confirmRevokePrevious is the bulk revocation's confirmation as a page of
// its own, for browsers without JavaScript.
func (h *Handler) confirmRevokePrevious(w http.ResponseWriter, r *http.Request, v *visit, tv *keyring.View) {
	d, err := h.keysDataOf(r.Context(), tv)
	if err != nil {
		h.internalError(w, r, h.baseView(v), err)
		return
	}
	out := h.tenantView(r, v, tv, "Revoke Previous Keys", "signing-keys")
	out.Data = d
	h.render(w, http.StatusOK, "revokeprevious", out)
}

// notice is what the page after an action says about it. It is stored in
// the session (Flash) between the POST and the page it redirects to.
type notice struct {
	// Kind is "rotated", "rotated-revoked", "revoked", "revoked-before" or
	// "error".
	Kind   string `json:"kind"`
	Tenant string `json:"tenant"`
	// Current is the key that signs now; Previous the one that did before
	// a rotation; Next the fresh next key; Revoked the key just revoked.
	Current  string `json:"current,omitempty"`
	Previous string `json:"previous,omitempty"`
	Next     string `json:"next,omitempty"`
	Revoked  string `json:"revoked,omitempty"`
	// RevokedKIDs are the keys a bulk revocation revoked: every previous key
	// that stopped signing before Before.
	RevokedKIDs []string  `json:"revoked_kids,omitempty"`
	Before      time.Time `json:"before,omitzero"`
	BeforeText  string    `json:"before_text,omitempty"` // Before to the millisecond
	// Young is set when the promoted key had been published for only
	// NextAge, less than MinAge (the JWKS max-age or the tenant's MinNextAge).
	Young   bool          `json:"young,omitempty"`
	NextAge time.Duration `json:"next_age,omitempty"`
	MinAge  time.Duration `json:"min_age,omitempty"`
	// SafeAt, set on the page after a rotation (not stored), is when the
	// fresh next key will have been published for MinAge.
	SafeAt time.Time `json:"-"`
	// Message is an error's text.
	Message string `json:"message,omitempty"`
}

// rotate rotates the tenant's keys, and with revoke_current=true also
// revokes the key that was current, in one step, then shows the tab with a
// notice of what happened.
func (h *Handler) rotate(w http.ResponseWriter, r *http.Request, v *visit, tv *keyring.View) {
	revoke := r.PostForm.Get("revoke_current") == "true"
	name := tv.Tenant.Name
	rot, err := h.cfg.Ring.Rotate(r.Context(), name, keyring.RotateOptions{RevokeCurrent: revoke, Actor: v.admin.Actor()})
	if err != nil {
		h.refused(w, r, v, name, err)
		return
	}
	n := notice{Kind: "rotated", Tenant: name, Current: rot.Current.KID, Previous: rot.Previous.KID, Next: rot.Next.KID}
	if rot.Warning != "" { // the ring's judgement; the dashboard words it
		n.Young, n.NextAge = true, max(rot.NextAge, 0)
		n.MinAge = max(tv.Tenant.Policy.MinNextAge, h.cfg.JWKSMaxAge)
	}
	if revoke {
		n.Kind, n.Revoked = "rotated-revoked", rot.Previous.KID
	}
	h.cfg.Logger.Info("dashboard: signing key rotated", "tenant", name, "admin", v.admin.Email,
		"current", rot.Current.KID, "revoked_previous", revoke)
	h.done(w, r, v, n)
}

// revoke revokes a previous key, then shows the tab with a notice.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request, v *visit, tv *keyring.View) {
	name := tv.Tenant.Name
	k, err := h.cfg.Ring.Revoke(r.Context(), name, r.PathValue("kid"), v.admin.Actor())
	if err != nil {
		h.refused(w, r, v, name, err)
		return
	}
	n := notice{Kind: "revoked", Tenant: name, Revoked: k.KID}
	if cur, ok := h.cfg.Ring.View(name); ok {
		n.Current = cur.Current.KID
	}
	h.cfg.Logger.Info("dashboard: signing key revoked", "tenant", name, "admin", v.admin.Email, "kid", k.KID)
	h.done(w, r, v, n)
}

// revokePrevious revokes every previous key that stopped signing before the
// form's time (field "before", UTC), in one transaction, then shows the tab
// with a notice naming them.
func (h *Handler) revokePrevious(w http.ResponseWriter, r *http.Request, v *visit, tv *keyring.View) {
	name := tv.Tenant.Name
	before, ok := parseCutoff(r.PostForm.Get("before"))
	if !ok {
		h.done(w, r, v, notice{Kind: "error", Tenant: name,
			Message: "Enter the time as YYYY-MM-DD HH:MM (UTC): previous keys that stopped signing before it are revoked."})
		return
	}
	keys, err := h.cfg.Ring.RevokePreviousBefore(r.Context(), name, before, v.admin.Actor())
	if err != nil {
		h.refused(w, r, v, name, err)
		return
	}
	if len(keys) == 0 {
		h.done(w, r, v, notice{Kind: "error", Tenant: name,
			Message: "No previous key stopped signing before " + preciseStamp(before) + "."})
		return
	}
	n := notice{Kind: "revoked-before", Tenant: name, Before: before, BeforeText: preciseStamp(before)}
	for _, k := range keys {
		n.RevokedKIDs = append(n.RevokedKIDs, k.KID)
	}
	h.cfg.Logger.Info("dashboard: previous signing keys revoked", "tenant", name, "admin", v.admin.Email,
		"before", before, "kids", n.RevokedKIDs)
	h.done(w, r, v, n)
}

// parseCutoff reads the bulk revocation's time: a datetime-local value
// (to the minute, second or fraction of a second) taken as UTC, or RFC 3339.
func parseCutoff(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// refused answers a key change that failed: a refused change goes back to
// the Signing Keys tab with an error notice in the dashboard's words; an
// internal error gets the error page.
func (h *Handler) refused(w http.ResponseWriter, r *http.Request, v *visit, tenant string, err error) {
	n := errorNotice(tenant, err)
	if n.Kind == "" {
		h.internalError(w, r, h.baseView(v), err)
		return
	}
	h.done(w, r, v, n)
}

// errorNotice turns a refused change into a notice in the dashboard's
// words; its Kind is "" for an internal error, which is not shown.
func errorNotice(tenant string, err error) notice {
	n := notice{Kind: "error", Tenant: tenant}
	switch {
	case errors.Is(err, signet.ErrRevokeCurrent):
		n.Message = "The current signing key cannot be revoked on its own: use Rotate Key and tick “Yes, revoke the currently used signing key”."
	case errors.Is(err, signet.ErrRevokeNext):
		n.Message = "The next signing key cannot be revoked: it has never signed anything. Rotate to make it current first."
	case errors.Is(err, signet.ErrAlreadyRevoked):
		n.Message = "That signing key is already revoked."
	case errors.Is(err, signet.ErrKeyNotFound):
		n.Message = "The tenant has no signing key with that id."
	case signet.ErrorCode(err) == signet.EINTERNAL:
		return notice{}
	default:
		n.Message = signet.ErrorMessage(err)
	}
	return n
}

// done stores n for the next page and sends the administrator back to the
// Signing Keys tab (Post/Redirect/Get: reloading it repeats nothing).
func (h *Handler) done(w http.ResponseWriter, r *http.Request, v *visit, n notice) {
	if err := h.flash(r.Context(), v, n); err != nil {
		h.cfg.Logger.Warn("dashboard: store notice", "err", err)
	}
	redirect(w, r, keysPath(n.Tenant))
}

// certificatePEM downloads a key's certificate as PEM.
func (h *Handler) certificatePEM(w http.ResponseWriter, r *http.Request, v *visit, tv *keyring.View) {
	h.certificate(w, r, v, tv, "pem", "application/x-pem-file", func(der []byte) []byte { return []byte(keygen.CertPEM(der) + "\r\n") })
}

// certificateCER downloads a key's certificate as DER.
func (h *Handler) certificateCER(w http.ResponseWriter, r *http.Request, v *visit, tv *keyring.View) {
	h.certificate(w, r, v, tv, "cer", "application/pkix-cert", func(der []byte) []byte { return der })
}

// certificate serves a key's certificate as an attachment named
// <tenant>-<kid>.<ext>.
func (h *Handler) certificate(w http.ResponseWriter, r *http.Request, v *visit, tv *keyring.View, ext, contentType string, render func([]byte) []byte) {
	ks, err := h.cfg.Store.Keyset(r.Context(), tv.Tenant.Name)
	if err != nil {
		h.internalError(w, r, h.baseView(v), err)
		return
	}
	k, err := ks.Key(r.PathValue("kid"))
	if err != nil {
		h.problem(w, http.StatusNotFound, h.baseView(v), "Signing key not found",
			"Tenant “"+tv.Tenant.Name+"” has no signing key with this id.")
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Content-Disposition", `attachment; filename="`+tv.Tenant.Name+"-"+k.KID+"."+ext+`"`)
	hdr.Set("Cache-Control", "no-store")
	w.Write(render(k.Certificate))
}
