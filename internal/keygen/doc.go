// Package keygen generates signing keys and their certificates, and opens
// sealed ones.
//
// Generate makes a private key for a JWS algorithm (RS256: RSA-2048,
// e = 65537; ES256: ECDSA P-256). A Pool keeps a few generated keys ready so
// that a rotation never waits for RSA key generation (tens to hundreds of
// milliseconds) on its request path. NewKey turns a private key into a
// signet.Key: its kid (the RFC 7638 thumbprint), a self-signed X.509
// certificate shaped like Auth0's, and the private key sealed under the
// master key. Open reverses the sealing.
//
// The remaining functions render a certificate the ways Auth0 publishes it:
// PEM with CRLF line ends (CertPEM), the bare PEM body (RawPEM), degenerate
// PKCS#7 (PKCS7), SHA-1 fingerprints (Fingerprint, Thumbprint, X5T) and a
// public JWK (JWK).
package keygen
