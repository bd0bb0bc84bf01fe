// Package password hashes and checks passwords with Argon2id (RFC 9106).
//
// A hash is a PHC string that records its parameters,
// "$argon2id$v=19$m=65536,t=3,p=2$<salt>$<key>" (unpadded standard base64),
// so the parameters can be raised later without breaking stored hashes:
// Verify reads them from the hash and NeedsRehash tells when a hash is weaker
// than the current Default.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are Argon2id cost parameters.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLen and KeyLen are the salt and derived-key lengths in bytes.
	SaltLen, KeyLen uint32
}

// Default holds the parameters new hashes use: 64 MiB, 3 passes, 2 lanes
// (RFC 9106 §4's second recommended option, with the lanes of a small
// server). Tests may lower it; production code must not change it.
var Default = Params{Memory: 64 * 1024, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}

// MaxLength is the longest password accepted, in bytes. Longer input is
// refused before hashing so that a request cannot buy unbounded CPU.
const MaxLength = 1024

// Errors returned by this package.
var (
	// ErrMalformed reports a stored hash that is not an Argon2id PHC string
	// this package can read.
	ErrMalformed = errors.New("password: malformed hash")
	// ErrTooLong reports a password longer than MaxLength.
	ErrTooLong = errors.New("password: longer than 1024 bytes")
)

// b64 is the PHC string format's base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// Hash returns the Argon2id hash of password, with a fresh random salt and
// the Default parameters. Returns ErrTooLong for an overlong password.
func Hash(password string) (string, error) {
	return HashWith(Default, password)
}

// HashWith is Hash with explicit parameters.
func HashWith(p Params, password string) (string, error) {
	if len(password) > MaxLength {
		return "", ErrTooLong
	}
	salt := make([]byte, p.SaltLen)
	rand.Read(salt) // never fails (Go 1.24+)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches the encoded hash, comparing in
// constant time. The error is ErrMalformed for a hash it cannot read (the
// answer is then false); a wrong password is (false, nil).
func Verify(encoded, password string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > MaxLength {
		return false, nil
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded should be replaced by a fresh Hash at
// the next successful sign-in: it is malformed or any of its parameters is
// weaker than Default's.
func NeedsRehash(encoded string) bool {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return true
	}
	d := Default
	return p.Memory < d.Memory || p.Time < d.Time || p.Threads < d.Threads ||
		uint32(len(salt)) < d.SaltLen || uint32(len(key)) < d.KeyLen
}

// Burn spends about the time of a Verify against a Default hash. Call it
// when the account does not exist, so that response times do not tell
// whether an email is registered.
func Burn(password string) {
	if len(password) > MaxLength {
		password = password[:MaxLength]
	}
	argon2.IDKey([]byte(password), burnSalt[:], Default.Time, Default.Memory, Default.Threads, Default.KeyLen)
}

// burnSalt is the salt Burn hashes with; its value does not matter.
var burnSalt [16]byte

// Upper bounds on parameters read from a stored hash, so that a tampered
// row cannot make one sign-in take minutes or gigabytes.
const (
	maxMemory  = 1 << 18 // KiB: 256 MiB, four times Default
	maxTime    = 64
	maxKeySalt = 128
)

// decode parses a PHC Argon2id string.
func decode(encoded string) (p Params, salt, key []byte, err error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, ErrMalformed
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 {
		return p, nil, nil, ErrMalformed
	}
	if p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > maxTime || threads == 0 || threads > 255 ||
		p.Memory < 8*threads {
		return p, nil, nil, ErrMalformed
	}
	p.Threads = uint8(threads)
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(salt) > maxKeySalt || len(key) < 16 || len(key) > maxKeySalt {
		return p, nil, nil, ErrMalformed
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	// Reject trailing garbage Sscanf ignores: re-encode the header and compare.
	if parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, threads) {
		return p, nil, nil, ErrMalformed
	}
	return p, salt, key, nil
}
