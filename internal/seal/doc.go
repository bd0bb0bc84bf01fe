// Package seal encrypts private keys at rest with AES-256-GCM.
//
// A Sealer holds the 32-byte master key. Seal produces
//
//	version (1 byte, 0x01) || nonce (12 random bytes) || ciphertext || tag (16 bytes)
//
// and Open reverses it. The additional data binds a ciphertext to where it
// belongs: Signet seals every private key with AD(tenant, kid), so a sealed
// key copied to another tenant's row, or to another kid, does not open.
//
// LoadKey finds the master key: in an environment variable's value when one is
// set, else in a key file, which it creates with a fresh random key (mode
// 0600) on first start; ReadKey never creates it. Check and Verify make and
// test a key-check value, stored with the sealed data, that tells a wrong
// master key from a damaged ciphertext before anything is sealed under it.
package seal
