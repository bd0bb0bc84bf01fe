package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a master key in bytes (AES-256).
const KeySize = 32

const (
	version   = 1
	nonceSize = 12
	tagSize   = 16
	// Overhead is how many bytes Seal adds to the plaintext.
	Overhead = 1 + nonceSize + tagSize
)

// Errors returned by Open. Compare with errors.Is.
var (
	// ErrVersion is returned for sealed data of an unknown format version.
	ErrVersion = errors.New("seal: unknown format version")
	// ErrTruncated is returned for sealed data too short to hold a header and tag.
	ErrTruncated = errors.New("seal: sealed data truncated")
	// ErrOpen is returned when authentication fails: the wrong master key, the
	// wrong additional data, or tampered data.
	ErrOpen = errors.New("seal: message authentication failed")
)

// Sealer seals and opens data under one master key. It is safe for
// concurrent use.
type Sealer struct {
	aead  cipher.AEAD
	keyID string
}

// New returns a Sealer for the 32-byte master key.
// Returns an error if the key is not exactly 32 bytes.
func New(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal: master key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("signet master key id"))
	return &Sealer{aead: aead, keyID: hex.EncodeToString(mac.Sum(nil)[:8])}, nil
}

// Seal encrypts and authenticates plaintext, and authenticates ad, under a
// fresh random nonce. The result is version || nonce || ciphertext+tag.
// Returns an error only if the system's random source fails.
func (s *Sealer) Seal(plaintext, ad []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, Overhead+len(plaintext))
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:1+nonceSize], plaintext, ad), nil
}

// Open checks and decrypts data made by Seal with the same ad.
// Returns ErrTruncated if sealed is too short, ErrVersion if its version is
// unknown, and ErrOpen if the master key or ad differ or the data was altered.
func (s *Sealer) Open(sealed, ad []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrTruncated
	}
	if sealed[0] != version {
		return nil, ErrVersion
	}
	nonce, ciphertext := sealed[1:1+nonceSize], sealed[1+nonceSize:]
	plaintext, err := s.aead.Open(nil, nonce, ciphertext, ad)
	if err != nil {
		return nil, ErrOpen
	}
	return plaintext, nil
}

// AD returns the additional data that binds a sealed private key to its
// tenant and kid: each string preceded by its length as a 4-byte big-endian
// integer, so no two (tenant, kid) pairs share an encoding.
func AD(tenant, kid string) []byte {
	b := make([]byte, 0, 8+len(tenant)+len(kid))
	b = binary.BigEndian.AppendUint32(b, uint32(len(tenant)))
	b = append(b, tenant...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(kid)))
	b = append(b, kid...)
	return b
}

// KeyID returns a public name for the master key: 16 hex digits, the start
// of HMAC-SHA256(key, "signet master key id"). It tells keys apart in
// messages and reveals nothing that helps to find the key.
func (s *Sealer) KeyID() string { return s.keyID }

// checkPrefix starts every key-check value (format version 1).
const checkPrefix = "v1:"

// checkLabel and checkAD are what a key-check value seals: no private key
// uses this additional data (AD never makes a 15-byte value).
var (
	checkLabel = []byte("signet master key check")
	checkAD    = []byte("signet/check")
)

// ErrWrongKey is returned by Verify for a check value made under another
// master key.
var ErrWrongKey = errors.New("seal: wrong master key")

// Check returns a key-check value for the master key, to store next to the
// data it seals: "v1:", KeyID, ":" and, in base64, a fixed label sealed under
// the key. Only the same key verifies it; it holds no secret.
// Returns an error only if the system's random source fails.
func (s *Sealer) Check() (string, error) {
	sealed, err := s.Seal(checkLabel, checkAD)
	if err != nil {
		return "", err
	}
	return checkPrefix + s.keyID + ":" + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// Verify checks that check was made by Check under this master key.
// Returns an error matching ErrWrongKey, naming both key ids, if it was made
// under another key (or altered), and another error if it is not a key-check
// value.
func (s *Sealer) Verify(check string) error {
	rest, ok := strings.CutPrefix(check, checkPrefix)
	id, enc, ok2 := strings.Cut(rest, ":")
	sealed, err := base64.RawStdEncoding.DecodeString(enc)
	if !ok || !ok2 || err != nil {
		return errors.New("seal: malformed key-check value")
	}
	if pt, err := s.Open(sealed, checkAD); err != nil || !hmac.Equal(pt, checkLabel) {
		return fmt.Errorf("%w: this key's id is %s, the data's key id is %s", ErrWrongKey, s.keyID, id)
	}
	return nil
}
