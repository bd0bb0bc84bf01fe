// Package signet is the domain of Signet, a self-hosted signing-key authority.
//
// It holds the types every other package shares — Tenant, Key, Keyset,
// Client, ResourceServer, ClientGrant, Event — and the rules of the key
// lifecycle as pure functions on a Keyset: Rotate, Revoke and
// RotateAndRevoke. Each tenant always has exactly one current key (it signs)
// and exactly one next key (published ahead of use), plus any number of
// previous keys (still verify) and revoked keys (never published or accepted).
//
// The Store interface is the one seam to persistence; backends run keyset
// changes through Store.UpdateKeyset inside a single transaction. The package
// imports nothing but the standard library.
package signet
