package password

import (
	"errors"
	"strings"
	"testing"
)

// fast are cheap parameters so that the tests run quickly.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	h, err := HashWith(fast, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q does not record its parameters", h)
	}
	tests := []struct {
		password string
		want     bool
	}{
		{"correct horse", true},
		{"correct horse ", false},
		{"Correct horse", false},
		{"", false},
		{strings.Repeat("x", MaxLength+1), false},
	}
	for _, tt := range tests {
		got, err := Verify(h, tt.password)
		if err != nil || got != tt.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tt.password, got, err, tt.want)
		}
	}
	h2, _ := HashWith(fast, "correct horse")
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestHashTooLong(t *testing.T) {
	if _, err := HashWith(fast, strings.Repeat("x", MaxLength+1)); !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v, want ErrTooLong", err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, _ := HashWith(fast, "pw")
	parts := strings.Split(good, "$")
	for _, h := range []string{
		"",
		"plain",
		"$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=16$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1,x=2$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=1048576,t=1,p=1$" + parts[4] + "$" + parts[5], // 1 GiB
		"$argon2id$v=19$m=64,t=1000,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=0$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$c2hvcnQ",
		good + "$",
	} {
		if ok, err := Verify(h, "pw"); ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) = %v, %v; want false, ErrMalformed", h, ok, err)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	weak, _ := HashWith(fast, "pw")
	if !NeedsRehash(weak) {
		t.Error("a hash weaker than Default does not need a rehash")
	}
	saved := Default
	defer func() { Default = saved }()
	Default = fast
	if NeedsRehash(weak) {
		t.Error("a hash with the Default parameters needs a rehash")
	}
	if !NeedsRehash("garbage") {
		t.Error("a malformed hash does not need a rehash")
	}
}

func TestBurnDoesNotPanic(t *testing.T) {
	saved := Default
	defer func() { Default = saved }()
	Default = fast
	Burn("x")
	Burn(strings.Repeat("y", 2*MaxLength))
}

// FuzzVerify checks that no stored string makes Verify panic or accept a
// password that was not hashed into it.
func FuzzVerify(f *testing.F) {
	good, _ := HashWith(fast, "pw")
	f.Add(good, "pw")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "")
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		ok, err := Verify(encoded, pw)
		if err != nil && ok {
			t.Fatal("ok with an error")
		}
	})
}

// BenchmarkVerify measures one sign-in's hashing cost with Default.
func BenchmarkVerify(b *testing.B) {
	h, _ := Hash("correct horse battery staple")
	for b.Loop() {
		Verify(h, "correct horse battery staple")
	}
}
