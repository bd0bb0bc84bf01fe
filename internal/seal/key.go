package seal

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadKey returns the master key and whether it was just created.
//
// If env (the value of an environment variable such as SIGNET_MASTER_KEY) is
// non-empty, it must be 32 bytes in standard or URL-safe base64, padded or
// not. Otherwise the key is read from the file at path, base64 text with an
// optional trailing newline. If that file does not exist, LoadKey creates it
// with 32 fresh random bytes, mode 0600, creating its parent directory with
// mode 0700 if needed, and reports created = true. The file appears
// atomically, complete, and only once: when two processes race to create it,
// both end up with the winner's key.
//
// Returns an error if env or the file does not hold a valid key, or if the
// file cannot be read or created. Errors never contain key material.
func LoadKey(env, path string) (key []byte, created bool, err error) {
	if env != "" {
		key, err := decodeKey(env)
		if err != nil {
			return nil, false, fmt.Errorf("seal: master key from environment: %w", err)
		}
		return key, false, nil
	}
	if path == "" {
		return nil, false, errors.New("seal: no master key: neither environment value nor key file path given")
	}
	key, err = readKeyFile(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	return createKeyFile(path)
}

// ReadKey is LoadKey without creating anything: when env is empty and the
// file at path does not exist it returns an error matching fs.ErrNotExist,
// so that the caller decides whether a new key may be made.
// Returns an error if env or the file does not hold a valid key, or if the
// file cannot be read. Errors never contain key material.
func ReadKey(env, path string) ([]byte, error) {
	if env != "" {
		key, err := decodeKey(env)
		if err != nil {
			return nil, fmt.Errorf("seal: master key from environment: %w", err)
		}
		return key, nil
	}
	if path == "" {
		return nil, errors.New("seal: no master key: neither environment value nor key file path given")
	}
	return readKeyFile(path)
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: read master key file: %w", err)
	}
	key, err := decodeKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("seal: master key file %s: %w", path, err)
	}
	return key, nil
}

// decodeKey decodes s (surrounding white space ignored) in any of the four
// base64 alphabets/paddings and checks it is KeySize bytes.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != KeySize {
			return nil, fmt.Errorf("must be base64 of exactly %d bytes, decodes to %d bytes", KeySize, len(b))
		}
		return b, nil
	}
	return nil, fmt.Errorf("must be base64 of exactly %d bytes (e.g. `openssl rand -base64 %d`), is not valid base64", KeySize, KeySize)
}

// createKeyFile writes a new random key to a private temporary file in the
// key's directory and hard-links it into place, which fails if another
// process got there first; then the winner's key is read instead.
func createKeyFile(path string) ([]byte, bool, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("seal: create master key directory: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("seal: generate master key: %w", err)
	}
	text := base64.StdEncoding.EncodeToString(key) + "\n"

	tmp, err := os.CreateTemp(dir, ".masterkey-*") // O_EXCL, mode 0600
	if err != nil {
		return nil, false, fmt.Errorf("seal: create master key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("seal: create master key file: %w", err)
	}
	if _, err := tmp.WriteString(text); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("seal: write master key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("seal: write master key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, false, fmt.Errorf("seal: write master key file: %w", err)
	}

	switch err := os.Link(tmpName, path); {
	case err == nil:
		syncDir(dir)
		return key, true, nil
	case errors.Is(err, fs.ErrExist):
		// Another process created the key first; use theirs.
		key, err := readKeyFile(path)
		return key, false, err
	}

	// No hard links on this file system: fall back to an exclusive create.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		key, err := readKeyFile(path)
		return key, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("seal: create master key file: %w", err)
	}
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, false, fmt.Errorf("seal: write master key file: %w", err)
	}
	syncDir(dir)
	return key, true, nil
}

// syncDir makes a new directory entry durable; failure is harmless enough
// to ignore (the key file itself is already synced).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
