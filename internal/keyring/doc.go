// Package keyring is Signet's key authority at run time. It creates tenants,
// rotates and revokes their keys through the Store, and keeps one in-memory
// View per tenant — the signer of the current key, the verification keys,
// the JWKS bytes and ETag — rebuilt whenever the tenant's keyset changes,
// never per request.
package keyring
