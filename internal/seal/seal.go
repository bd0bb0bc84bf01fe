package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
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
	aead cipher.AEAD
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
	return &Sealer{aead: aead}, nil
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
