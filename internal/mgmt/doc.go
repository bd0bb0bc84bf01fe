// Package mgmt serves Signet's Management API under /api/v2, with Auth0's
// paths, scopes, JSON shapes and error bodies:
//
//   - signing keys: GET /api/v2/keys/signing, GET /api/v2/keys/signing/{kid},
//     POST /api/v2/keys/signing/rotate, PUT /api/v2/keys/signing/{kid}/revoke;
//   - clients: /api/v2/clients (create, list, get, update, delete, rotate-secret);
//   - resource servers: /api/v2/resource-servers;
//   - client grants: /api/v2/client-grants;
//   - GET /api/v2/openapi.json, the OpenAPI 3.1 document of this API and of
//     the public endpoints (OpenAPI), which needs no token.
//
// Every other call needs a bearer access token for the tenant's Management API
// (audience "<issuer>api/v2/" for any of the tenant's issuers), signed by a
// non-revoked key of that tenant, with the scope the endpoint names.
//
// Errors are Auth0's {"statusCode","error","message","errorCode"} bodies. One
// table (statusOf) maps signet error codes to HTTP statuses; only internal
// errors are logged, and their details never reach the caller.
//
// Key objects map key states one to one onto Auth0's booleans: current,
// next, previous and revoked are each true exactly when the key is in that
// state (a revoked key that was once current has previous=false and keeps
// current_since and current_until). Timestamps are RFC 3339 in UTC, or absent
// when unset, never "" or null.
//
// Extensions beyond Auth0 (ignored by its SDKs): rotate accepts
// ?revoke_current=true to rotate and revoke the former current key in one
// step, and an Idempotency-Key header, which belongs to the calling client
// and is bound to the request's method, path, query and body: a retry of the
// same request replays the first answer with Idempotent-Replayed: true, and
// another request with the same key is a 422.
//
// At start, API.Upgrade gives a tenant's built-in Management API (found with
// ResourceServer) the scopes of keyring.ManagementScopes it lacks, and
// API.GrantNewScopes gives them to the client granted the whole of it.
package mgmt
