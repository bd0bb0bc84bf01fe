package sqlcodec

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/signet-auth/signet"
)

// TenantColumns are the columns of tenants: the ones an update sets, then
// name and created_at. Hosts live in tenant_hosts.
const TenantColumns = `algorithm, rotation_period, revoke_previous_after, min_next_age, name, created_at`

// TenantArgs returns t's TenantColumns (its policy as int64 nanoseconds).
// Returns EINVALID for a CreatedAt out of range.
func TenantArgs(t signet.Tenant) ([]any, error) {
	created, err := EncodeTime(t.CreatedAt)
	if err != nil {
		return nil, err
	}
	p := t.Policy
	return []any{t.Algorithm, int64(p.RotationPeriod), int64(p.RevokePreviousAfter), int64(p.MinNextAge), t.Name, created}, nil
}

// ScanTenant reads a row of TenantColumns followed by more (say the hosts,
// where a backend selects them in the same row).
func ScanTenant(r Scanner, more ...any) (signet.Tenant, error) {
	var (
		t                 signet.Tenant
		rot, revoke, next int64
		created           *int64
	)
	if err := r.Scan(append([]any{&t.Algorithm, &rot, &revoke, &next, &t.Name, &created}, more...)...); err != nil {
		return signet.Tenant{}, err
	}
	t.Policy = signet.Policy{
		RotationPeriod:      time.Duration(rot),
		RevokePreviousAfter: time.Duration(revoke),
		MinNextAge:          time.Duration(next),
	}
	t.CreatedAt = DecodeTime(created)
	return t, nil
}

// KeyColumns are the columns of signing_keys: the ones an update sets, then
// tenant and kid.
const KeyColumns = `algorithm, state, certificate, sealed_private_key, created_at, current_since,
	current_until, revoked_at, tenant, kid`

// KeyArgs returns k's KeyColumns as a key of tenant.
// Returns EINVALID for a time out of range.
func KeyArgs(tenant string, k signet.Key) ([]any, error) {
	ts, err := EncodeTimes(k.CreatedAt, k.CurrentSince, k.CurrentUntil, k.RevokedAt)
	if err != nil {
		return nil, err
	}
	return []any{k.Algorithm, string(k.State), k.Certificate, k.SealedPrivateKey, ts[0], ts[1], ts[2], ts[3], tenant, k.KID}, nil
}

// EventColumns are the columns of events a write sets; seq is the store's.
const EventColumns = `tenant, time, type, actor, kid, idempotency_key, data`

// EventArgs returns e's EventColumns as an event of tenant (whatever
// e.Tenant says): no idempotency key is NULL, Data is JSON.
// Returns EINVALID for a time out of range.
func EventArgs(tenant string, e signet.Event) ([]any, error) {
	at, err := EncodeTime(e.Time)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(e.Data)
	if err != nil {
		return nil, err
	}
	return []any{tenant, at, e.Type, e.Actor, e.KID, NullString(e.IdempotencyKey), string(data)}, nil
}

// ScanEvent reads a row of seq and EventColumns.
func ScanEvent(r Scanner) (signet.Event, error) {
	var (
		e    signet.Event
		at   *int64
		idem *string
		data string
	)
	if err := r.Scan(&e.Seq, &e.Tenant, &at, &e.Type, &e.Actor, &e.KID, &idem, &data); err != nil {
		return signet.Event{}, err
	}
	if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
		return signet.Event{}, fmt.Errorf("event %d: %w", e.Seq, err)
	}
	e.Time = DecodeTime(at)
	if idem != nil {
		e.IdempotencyKey = *idem
	}
	return e, nil
}

// ClientColumns are the columns of clients: the ones an update sets, then
// tenant and client_id.
const ClientColumns = `name, description, app_type, secret_hash, grant_types, callbacks,
	allowed_logout_urls, token_endpoint_auth_method, id_token_lifetime, refresh_token_lifetime, addons,
	created_at, updated_at, tenant, client_id`

// ClientArgs returns c's ClientColumns: its lists and add-ons as JSON.
// Returns EINVALID for a time out of range.
func ClientArgs(c signet.Client) ([]any, error) {
	ts, err := EncodeTimes(c.CreatedAt, c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	var lists [3]string
	for i, l := range [][]string{c.GrantTypes, c.Callbacks, c.AllowedLogoutURLs} {
		if lists[i], err = list(l); err != nil {
			return nil, err
		}
	}
	addons, err := json.Marshal(c.Addons)
	if err != nil {
		return nil, err
	}
	return []any{c.Name, c.Description, c.AppType, c.SecretHash, lists[0], lists[1], lists[2],
		c.TokenEndpointAuthMethod, c.IDTokenLifetime, c.RefreshTokenLifetime, string(addons), ts[0], ts[1],
		c.Tenant, c.ClientID}, nil
}

// ScanClient reads a row of ClientColumns.
func ScanClient(r Scanner) (signet.Client, error) {
	var (
		c                                         signet.Client
		grantTypes, callbacks, logoutURLs, addons string
		created, updated                          *int64
	)
	if err := r.Scan(&c.Name, &c.Description, &c.AppType, &c.SecretHash, &grantTypes, &callbacks, &logoutURLs,
		&c.TokenEndpointAuthMethod, &c.IDTokenLifetime, &c.RefreshTokenLifetime, &addons, &created, &updated,
		&c.Tenant, &c.ClientID); err != nil {
		return signet.Client{}, err
	}
	for _, f := range []struct {
		name string
		text string
		dst  any
	}{
		{"grant types", grantTypes, &c.GrantTypes},
		{"callbacks", callbacks, &c.Callbacks},
		{"allowed logout urls", logoutURLs, &c.AllowedLogoutURLs},
		{"addons", addons, &c.Addons},
	} {
		if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
			return signet.Client{}, fmt.Errorf("client %s: %s: %w", c.ClientID, f.name, err)
		}
	}
	c.CreatedAt, c.UpdatedAt = DecodeTime(created), DecodeTime(updated)
	return c, nil
}

// ResourceServerColumns are the columns of resource_servers: the ones an
// update sets, then tenant and id.
const ResourceServerColumns = `name, identifier, scopes, signing_alg, token_lifetime, system, created_at,
	updated_at, tenant, id`

// ResourceServerArgs returns rs's ResourceServerColumns: its scopes as JSON.
// Returns EINVALID for a time out of range.
func ResourceServerArgs(rs signet.ResourceServer) ([]any, error) {
	ts, err := EncodeTimes(rs.CreatedAt, rs.UpdatedAt)
	if err != nil {
		return nil, err
	}
	scopes, err := list(rs.Scopes)
	if err != nil {
		return nil, err
	}
	return []any{rs.Name, rs.Identifier, scopes, rs.SigningAlg, rs.TokenLifetime, rs.System,
		ts[0], ts[1], rs.Tenant, rs.ID}, nil
}

// ScanResourceServer reads a row of ResourceServerColumns.
func ScanResourceServer(r Scanner) (signet.ResourceServer, error) {
	var (
		rs               signet.ResourceServer
		scopes           string
		created, updated *int64
	)
	if err := r.Scan(&rs.Name, &rs.Identifier, &scopes, &rs.SigningAlg, &rs.TokenLifetime, &rs.System,
		&created, &updated, &rs.Tenant, &rs.ID); err != nil {
		return signet.ResourceServer{}, err
	}
	if err := json.Unmarshal([]byte(scopes), &rs.Scopes); err != nil {
		return signet.ResourceServer{}, fmt.Errorf("resource server %s: scopes: %w", rs.ID, err)
	}
	rs.CreatedAt, rs.UpdatedAt = DecodeTime(created), DecodeTime(updated)
	return rs, nil
}

// ClientGrantColumns are the columns of client_grants: the ones an update
// sets, then tenant and id.
const ClientGrantColumns = `client_id, audience, scope, created_at, updated_at, tenant, id`

// ClientGrantArgs returns g's ClientGrantColumns: its scope as JSON.
// Returns EINVALID for a time out of range.
func ClientGrantArgs(g signet.ClientGrant) ([]any, error) {
	ts, err := EncodeTimes(g.CreatedAt, g.UpdatedAt)
	if err != nil {
		return nil, err
	}
	scope, err := list(g.Scope)
	if err != nil {
		return nil, err
	}
	return []any{g.ClientID, g.Audience, scope, ts[0], ts[1], g.Tenant, g.ID}, nil
}

// ScanClientGrant reads a row of ClientGrantColumns.
func ScanClientGrant(r Scanner) (signet.ClientGrant, error) {
	var (
		g                signet.ClientGrant
		scope            string
		created, updated *int64
	)
	if err := r.Scan(&g.ClientID, &g.Audience, &scope, &created, &updated, &g.Tenant, &g.ID); err != nil {
		return signet.ClientGrant{}, err
	}
	if err := json.Unmarshal([]byte(scope), &g.Scope); err != nil {
		return signet.ClientGrant{}, fmt.Errorf("client grant %s: scope: %w", g.ID, err)
	}
	g.CreatedAt, g.UpdatedAt = DecodeTime(created), DecodeTime(updated)
	return g, nil
}
