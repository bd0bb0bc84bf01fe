package seal_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/signet-auth/signet/internal/seal"
)

func newSealer(t testing.TB) *seal.Sealer {
	t.Helper()
	key := make([]byte, seal.KeySize)
	rand.Read(key)
	s, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if _, err := seal.New(make([]byte, n)); err == nil {
			t.Errorf("New(%d bytes) = nil error, want error", n)
		}
	}
	if _, err := seal.New(make([]byte, 32)); err != nil {
		t.Errorf("New(32 bytes) = %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	s := newSealer(t)
	tests := []struct {
		name      string
		plaintext []byte
		ad        []byte
	}{
		{"empty", nil, nil},
		{"short", []byte("x"), seal.AD("t", "k")},
		{"pkcs8-sized", bytes.Repeat([]byte{0xAB}, 1218), seal.AD("default", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := s.Seal(tt.plaintext, tt.ad)
			if err != nil {
				t.Fatal(err)
			}
			if len(sealed) != len(tt.plaintext)+seal.Overhead {
				t.Errorf("len(sealed) = %d, want %d", len(sealed), len(tt.plaintext)+seal.Overhead)
			}
			if sealed[0] != 1 {
				t.Errorf("version byte = %d, want 1", sealed[0])
			}
			if len(tt.plaintext) > 4 && bytes.Contains(sealed, tt.plaintext) {
				t.Error("sealed output contains the plaintext")
			}
			got, err := s.Open(sealed, tt.ad)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open = %x, want %x", got, tt.plaintext)
			}
		})
	}
}

func TestNonceFresh(t *testing.T) {
	s := newSealer(t)
	a, _ := s.Seal([]byte("same"), nil)
	b, _ := s.Seal([]byte("same"), nil)
	if bytes.Equal(a[1:13], b[1:13]) {
		t.Error("two seals share a nonce")
	}
}

func TestTamper(t *testing.T) {
	s := newSealer(t)
	ad := seal.AD("acme", "kid1")
	sealed, err := s.Seal([]byte("private key bytes"), ad)
	if err != nil {
		t.Fatal(err)
	}
	regions := []struct {
		name     string
		from, to int
		want     error
	}{
		{"version", 0, 1, seal.ErrVersion},
		{"nonce", 1, 13, seal.ErrOpen},
		{"ciphertext", 13, len(sealed) - 16, seal.ErrOpen},
		{"tag", len(sealed) - 16, len(sealed), seal.ErrOpen},
	}
	for _, r := range regions {
		t.Run(r.name, func(t *testing.T) {
			for i := r.from; i < r.to; i++ {
				for _, mask := range []byte{0x01, 0x80, 0xFF} {
					bad := bytes.Clone(sealed)
					bad[i] ^= mask
					if _, err := s.Open(bad, ad); !errors.Is(err, r.want) {
						t.Fatalf("byte %d ^ %#x: Open error = %v, want %v", i, mask, err, r.want)
					}
				}
			}
		})
	}
	t.Run("truncated", func(t *testing.T) {
		for n := 0; n < len(sealed); n++ {
			if _, err := s.Open(sealed[:n], ad); err == nil {
				t.Fatalf("Open(first %d bytes) succeeded", n)
			}
		}
		for n := 0; n < seal.Overhead; n++ {
			if _, err := s.Open(sealed[:n], ad); !errors.Is(err, seal.ErrTruncated) {
				t.Fatalf("Open(first %d bytes) = %v, want ErrTruncated", n, err)
			}
		}
	})
	t.Run("extended", func(t *testing.T) {
		if _, err := s.Open(append(bytes.Clone(sealed), 0), ad); !errors.Is(err, seal.ErrOpen) {
			t.Fatalf("Open(sealed+1 byte) = %v, want ErrOpen", err)
		}
	})
}

func TestWrongADAndKey(t *testing.T) {
	s := newSealer(t)
	sealed, err := s.Seal([]byte("secret"), seal.AD("acme", "kid1"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		s    *seal.Sealer
		ad   []byte
	}{
		{"other tenant", s, seal.AD("evil", "kid1")},
		{"other kid", s, seal.AD("acme", "kid2")},
		{"swapped", s, seal.AD("kid1", "acme")},
		{"shifted boundary", s, seal.AD("acmek", "id1")},
		{"no ad", s, nil},
		{"other master key", newSealer(t), seal.AD("acme", "kid1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.s.Open(sealed, tt.ad); !errors.Is(err, seal.ErrOpen) {
				t.Errorf("Open = %v, want ErrOpen", err)
			}
		})
	}
}

func TestADUnambiguous(t *testing.T) {
	pairs := [][2]string{
		{"ab", "c"}, {"a", "bc"}, {"", "abc"}, {"abc", ""},
		{"a\x00\x00\x00\x01", "b"}, {"a", "\x00\x00\x00\x01b"},
	}
	seen := map[string][2]string{}
	for _, p := range pairs {
		ad := string(seal.AD(p[0], p[1]))
		if prev, ok := seen[ad]; ok {
			t.Errorf("AD%q == AD%q", p, prev)
		}
		seen[ad] = p
	}
}

func TestLoadKeyEnv(t *testing.T) {
	raw := make([]byte, 32)
	rand.Read(raw)
	dir := t.TempDir()
	path := filepath.Join(dir, "never-created")
	tests := []struct {
		name    string
		env     string
		wantErr bool
	}{
		{"std", base64.StdEncoding.EncodeToString(raw), false},
		{"raw std", base64.RawStdEncoding.EncodeToString(raw), false},
		{"url", base64.URLEncoding.EncodeToString(raw), false},
		{"raw url", base64.RawURLEncoding.EncodeToString(raw), false},
		{"trailing newline", base64.StdEncoding.EncodeToString(raw) + "\n", false},
		{"too short", base64.StdEncoding.EncodeToString(raw[:31]), true},
		{"too long", base64.StdEncoding.EncodeToString(append(raw, 1)), true},
		{"not base64", "this is not base64 !!", true},
		{"hex", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, created, err := seal.LoadKey(tt.env, path)
			if tt.wantErr {
				if err == nil {
					t.Fatal("LoadKey succeeded, want error")
				}
				if bytes.Contains([]byte(err.Error()), []byte(tt.env)) {
					t.Errorf("error %q echoes the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if created || !bytes.Equal(key, raw) {
				t.Errorf("LoadKey = %x, %v; want %x, false", key, created, raw)
			}
		})
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("LoadKey with env created the key file")
	}
}

func TestLoadKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "dir", "master.key")

	key, created, err := seal.LoadKey("", path)
	if err != nil {
		t.Fatal(err)
	}
	if !created || len(key) != 32 {
		t.Fatalf("first LoadKey = %d bytes, created %v; want 32, true", len(key), created)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("key dir mode = %v, want 0700", di.Mode().Perm())
	}
	text, _ := os.ReadFile(path)
	if want := base64.StdEncoding.EncodeToString(key) + "\n"; string(text) != want {
		t.Errorf("key file = %q, want %q", text, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("key dir holds %d entries, want 1 (temporary file left behind?)", len(entries))
	}

	again, created, err := seal.LoadKey("", path)
	if err != nil {
		t.Fatal(err)
	}
	if created || !bytes.Equal(again, key) {
		t.Errorf("second LoadKey: created %v, same key %v; want false, true", created, bytes.Equal(again, key))
	}

	t.Run("no trailing newline", func(t *testing.T) {
		p := filepath.Join(dir, "nonl.key")
		os.WriteFile(p, []byte(base64.StdEncoding.EncodeToString(key)), 0o600)
		got, _, err := seal.LoadKey("", p)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("LoadKey = %x, %v", got, err)
		}
	})
	for name, content := range map[string]string{
		"empty":      "",
		"garbage":    "not a key\n",
		"short":      base64.StdEncoding.EncodeToString(key[:16]) + "\n",
		"binary key": string(key),
		"two keys":   base64.StdEncoding.EncodeToString(key) + "\n" + base64.StdEncoding.EncodeToString(key) + "\n",
	} {
		t.Run("invalid "+name, func(t *testing.T) {
			p := filepath.Join(dir, "bad.key")
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, err := seal.LoadKey("", p); err == nil {
				t.Error("LoadKey succeeded, want error")
			}
			if got, _ := os.ReadFile(p); string(got) != content {
				t.Error("LoadKey rewrote an invalid key file")
			}
		})
	}
	t.Run("unreadable path", func(t *testing.T) {
		if _, _, err := seal.LoadKey("", dir); err == nil {
			t.Error("LoadKey(directory) succeeded, want error")
		}
	})
	t.Run("no env no path", func(t *testing.T) {
		if _, _, err := seal.LoadKey("", ""); err == nil {
			t.Error("LoadKey(\"\", \"\") succeeded, want error")
		}
	})
}

func TestLoadKeyRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	const n = 16
	keys := make([][]byte, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			keys[i], created[i], err = seal.LoadKey("", path)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	winners := 0
	for i := range n {
		if created[i] {
			winners++
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Errorf("caller %d got a different key", i)
		}
	}
	if winners != 1 {
		t.Errorf("%d callers created the key, want 1", winners)
	}
}

func FuzzOpen(f *testing.F) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := seal.New(key)
	if err != nil {
		f.Fatal(err)
	}
	ad := seal.AD("acme", "kid")
	good, _ := s.Seal([]byte("hello"), ad)
	f.Add(good, ad)
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1}, ad)
	f.Add(make([]byte, seal.Overhead), ad)
	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		pt, err := s.Open(sealed, ad)
		if err != nil {
			return
		}
		// Anything that opens must re-seal and open to the same plaintext.
		again, err := s.Seal(pt, ad)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.Open(again, ad); err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("re-seal round trip failed: %v", err)
		}
	})
}

func TestCheck(t *testing.T) {
	s, other := newSealer(t), newSealer(t)
	check, err := s.Check()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(check); err != nil {
		t.Errorf("Verify(own check) = %v", err)
	}
	again, _ := s.Check()
	if again == check {
		t.Error("two checks are equal (no fresh nonce)")
	}
	if err := s.Verify(again); err != nil {
		t.Errorf("Verify(second check) = %v", err)
	}
	if len(s.KeyID()) != 16 || s.KeyID() == other.KeyID() {
		t.Errorf("key ids %q and %q: want 16 hex digits, different", s.KeyID(), other.KeyID())
	}
	err = other.Verify(check)
	if !errors.Is(err, seal.ErrWrongKey) {
		t.Fatalf("Verify under another key = %v, want ErrWrongKey", err)
	}
	for _, id := range []string{s.KeyID(), other.KeyID()} {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("error %q does not name key id %s", err, id)
		}
	}
	tampered := []byte(check)
	tampered[len(tampered)-3] ^= 1
	if tampered[len(tampered)-3] == '+' || tampered[len(tampered)-3] == '/' {
		tampered[len(tampered)-3] = 'A'
	}
	for name, bad := range map[string]string{
		"empty":        "",
		"no prefix":    check[3:],
		"not base64":   check + "!",
		"tampered":     string(tampered),
		"other format": "v2" + check[2:],
	} {
		if err := s.Verify(bad); err == nil {
			t.Errorf("Verify(%s) succeeded", name)
		}
	}
}

func TestReadKeyCreatesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	if _, err := seal.ReadKey("", path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadKey(missing file) = %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadKey created %s", path)
	}
	key, _, err := seal.LoadKey("", path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := seal.ReadKey("", path)
	if err != nil || !bytes.Equal(got, key) {
		t.Errorf("ReadKey = %x, %v; want LoadKey's %x", got, err, key)
	}
	env := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	if got, err := seal.ReadKey(env, path); err != nil || !bytes.Equal(got, bytes.Repeat([]byte{3}, 32)) {
		t.Errorf("ReadKey(env) = %x, %v", got, err)
	}
	if _, err := seal.ReadKey("bad", path); err == nil {
		t.Error("ReadKey(bad env) succeeded")
	}
}
