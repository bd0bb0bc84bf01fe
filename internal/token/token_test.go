package token_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-auth/signet/internal/token"
)

const (
	issuer   = "https://acme.example.com/"
	audience = "https://acme.example.com/api/v2/"
)

// fixtureKey loads the test-only RSA key in testdata (see testdata/gen.sh).
func fixtureKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile("testdata/rsa2048.pem")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("testdata/rsa2048.pem: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

func newRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newEC(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func typical(now time.Time) token.Claims {
	return token.Claims{
		Issuer:          issuer,
		Subject:         "k3VXhZ0Bq2mWzR8sYtUe1cJfLnOaPdGi@clients",
		Audience:        token.Audience{audience},
		IssuedAt:        now.Unix(),
		Expiry:          now.Add(24 * time.Hour).Unix(),
		Scope:           "read:signing_keys create:signing_keys update:signing_keys",
		GrantType:       "client-credentials",
		AuthorizedParty: "k3VXhZ0Bq2mWzR8sYtUe1cJfLnOaPdGi",
		ID:              "9f2c1e0b7a6d4c3b8e5f1a2d0c9b8a7e",
	}
}

func sign(t testing.TB, signer crypto.Signer, alg, kid string, claims any) string {
	t.Helper()
	tok, err := token.Sign(signer, alg, kid, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// opaque hides the concrete key type, as an HSM or KMS signer would.
type opaque struct{ s crypto.Signer }

func (o opaque) Public() crypto.PublicKey { return o.s.Public() }
func (o opaque) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.s.Sign(r, d, opts)
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	rsaKey, ecKey, attacker := fixtureKey(t), newEC(t, elliptic.P256()), newRSA(t)
	keys := func(kid string) (token.VerifyKey, bool) {
		switch kid {
		case "rsa":
			return token.VerifyKey{Key: &rsaKey.PublicKey, Algorithm: "RS256"}, true
		case "ec":
			return token.VerifyKey{Key: &ecKey.PublicKey, Algorithm: "ES256"}, true
		}
		return token.VerifyKey{}, false
	}
	want := token.Expect{Issuers: []string{"https://other/", issuer}, Audiences: []string{audience}, Now: now, Leeway: time.Minute}

	with := func(f func(*token.Claims)) token.Claims {
		c := typical(now)
		f(&c)
		return c
	}
	good := sign(t, rsaKey, "RS256", "rsa", typical(now))
	parts := strings.Split(good, ".")
	goodHeader, goodPayload, goodSig := parts[0], parts[1], parts[2]

	// A header crafted by hand, then signed (or not) by hand.
	craft := func(header map[string]any, claims any, sig func(input []byte) []byte) string {
		input := b64(mustJSON(header)) + "." + b64(mustJSON(claims))
		return input + "." + b64(sig([]byte(input)))
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&rsaKey.PublicKey))})
	pubDER := x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)
	hs256 := func(secret []byte) func([]byte) []byte {
		return func(input []byte) []byte {
			m := hmac.New(sha256.New, secret)
			m.Write(input)
			return m.Sum(nil)
		}
	}

	// Two signatures in the JSON serialization: the real key and an attacker's.
	multi, err := jose.NewMultiSigner([]jose.SigningKey{
		{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: rsaKey, KeyID: "rsa"}},
		{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: attacker, KeyID: "rsa"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	twoSigs, err := multi.Sign(mustJSON(typical(now)))
	if err != nil {
		t.Fatal(err)
	}
	flattened, err := jose.ParseSignedCompact(good, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	// An attacker embeds their own key in the header; it must be ignored.
	embedded, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: attacker},
		(&jose.SignerOptions{EmbedJWK: true}).WithHeader("kid", "rsa"))
	if err != nil {
		t.Fatal(err)
	}
	embeddedTok, err := embedded.Sign(mustJSON(typical(now)))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		tok    string
		want   token.Expect
		reason string // "" = valid
	}{
		{"valid RS256", good, want, ""},
		{"valid ES256", sign(t, ecKey, "ES256", "ec", typical(now)), want, ""},
		{"valid from opaque signer", sign(t, opaque{rsaKey}, "RS256", "rsa", typical(now)), want, ""},
		{"valid aud array", sign(t, rsaKey, "RS256", "rsa", with(func(c *token.Claims) {
			c.Audience = token.Audience{"https://acme.example.com/userinfo", audience}
		})), want, ""},
		{"valid just inside exp leeway", sign(t, rsaKey, "RS256", "rsa", with(func(c *token.Claims) {
			c.Expiry = now.Add(-59 * time.Second).Unix()
		})), want, ""},
		{"valid iat just inside leeway", sign(t, rsaKey, "RS256", "rsa", with(func(c *token.Claims) {
			c.IssuedAt = now.Add(time.Minute).Unix()
		})), want, ""},
		{"expired", sign(t, rsaKey, "RS256", "rsa", with(func(c *token.Claims) {
			c.Expiry = now.Add(-time.Hour).Unix()
		})), want, "expired"},
		{"expires now, no leeway", sign(t, rsaKey, "RS256", "rsa", with(func(c *token.Claims) {
			c.Expiry = now.Unix()
		})), token.Expect{Issuers: want.Issuers, Audiences: want.Audiences, Now: now}, "expired"},
		{"expired at the edge of leeway", sign(t, rsaKey, "RS256", "rsa", with(func(c *token.Claims) {
			c.Expiry = now.Add(-time.Minute).Unix()
		})), want, "expired"},
		{"no exp", sign(t, rsaKey, "RS256", "rsa", with(func(c *token.Claims) { c.Expiry = 0 })), want, "no exp"},
		{"issued in the future", sign(t, rsaKey, "RS256", "rsa", with(func(c *token.Claims) {
			c.IssuedAt = now.Add(time.Hour).Unix()
		})), want, "issued in the future"},
		{"not yet valid", sign(t, rsaKey, "RS256", "rsa", map[string]any{
			"iss": issuer, "aud": audience, "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(time.Hour).Unix(),
		}), want, "not yet valid"},
		{"wrong iss", sign(t, rsaKey, "RS256", "rsa", with(func(c *token.Claims) {
			c.Issuer = "https://evil.example.com/"
		})), want, "wrong issuer"},
		{"iss without trailing slash", sign(t, rsaKey, "RS256", "rsa", with(func(c *token.Claims) {
			c.Issuer = strings.TrimSuffix(issuer, "/")
		})), want, "wrong issuer"},
		{"no issuers expected", good, token.Expect{Audiences: want.Audiences, Now: now}, "wrong issuer"},
		{"wrong aud", sign(t, rsaKey, "RS256", "rsa", with(func(c *token.Claims) {
			c.Audience = token.Audience{"https://other.example.com/api/v2/"}
		})), want, "wrong audience"},
		{"no aud", sign(t, rsaKey, "RS256", "rsa", with(func(c *token.Claims) { c.Audience = nil })), want, "wrong audience"},
		{"aud of wrong type", sign(t, rsaKey, "RS256", "rsa", map[string]any{
			"iss": issuer, "aud": 42, "exp": now.Add(time.Hour).Unix(),
		}), want, "malformed claims"},
		{"exp of wrong type", sign(t, rsaKey, "RS256", "rsa", map[string]any{
			"iss": issuer, "aud": audience, "exp": "tomorrow",
		}), want, "malformed claims"},
		{"unknown kid", sign(t, rsaKey, "RS256", "other", typical(now)), want, "unknown kid"},
		{"no kid", craft(map[string]any{"alg": "RS256", "typ": "JWT"}, typical(now), func(in []byte) []byte {
			d := sha256.Sum256(in)
			return must(rsa.SignPKCS1v15(nil, rsaKey, crypto.SHA256, d[:]))
		}), want, "no kid"},
		{"alg none", craft(map[string]any{"alg": "none", "kid": "rsa", "typ": "JWT"}, typical(now),
			func([]byte) []byte { return nil }), want, "malformed"},
		{"alg none with the real signature", craft(map[string]any{"alg": "none", "kid": "rsa"}, typical(now),
			func([]byte) []byte { return must(base64.RawURLEncoding.DecodeString(goodSig)) }), want, "malformed"},
		{"HS256 keyed with the public key PEM", craft(map[string]any{"alg": "HS256", "kid": "rsa", "typ": "JWT"},
			typical(now), hs256(pubPEM)), want, "malformed"},
		{"HS256 keyed with the public key DER", craft(map[string]any{"alg": "HS256", "kid": "rsa", "typ": "JWT"},
			typical(now), hs256(pubDER)), want, "malformed"},
		{"header RS256 but key is ES256", sign(t, rsaKey, "RS256", "ec", typical(now)), want, "algorithm does not match the key"},
		{"header ES256 but key is RS256", sign(t, ecKey, "ES256", "rsa", typical(now)), want, "algorithm does not match the key"},
		{"PS256 with an RS256 key", sign(t, rsaKey, "PS256", "rsa", typical(now)), want, "algorithm does not match the key"},
		{"tampered payload", goodHeader + "." + b64(mustJSON(with(func(c *token.Claims) {
			c.Scope += " delete:everything"
		}))) + "." + goodSig, want, "bad signature"},
		{"tampered header", b64(mustJSON(map[string]any{"alg": "RS256", "kid": "rsa", "typ": "at+jwt"})) + "." +
			goodPayload + "." + goodSig, want, "bad signature"},
		{"tampered signature", goodHeader + "." + goodPayload + "." + b64(append(must(base64.RawURLEncoding.DecodeString(goodSig))[1:], 0)), want, "bad signature"},
		{"no signature", goodHeader + "." + goodPayload + ".", want, "bad signature"},
		{"another key with the same kid", sign(t, attacker, "RS256", "rsa", typical(now)), want, "bad signature"},
		{"attacker's embedded jwk ignored", must(embeddedTok.CompactSerialize()), want, "bad signature"},
		{"two signatures (JSON serialization)", twoSigs.FullSerialize(), want, "malformed"},
		{"one signature in JSON serialization", flattened.FullSerialize(), want, "malformed"},
		{"empty", "", want, "malformed"},
		{"two parts", goodHeader + "." + goodPayload, want, "malformed"},
		{"four parts", good + ".x", want, "malformed"},
		{"bearer prefix", "Bearer " + good, want, "malformed"},
		{"too large", good + strings.Repeat("A", token.MaxTokenSize), want, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := token.Verify(tt.tok, keys, tt.want)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want valid", err)
				}
				if got.Issuer != issuer || got.Subject == "" {
					t.Errorf("claims = %+v", got)
				}
				return
			}
			if !errors.Is(err, token.ErrInvalidToken) {
				t.Fatalf("Verify error = %v, want ErrInvalidToken", err)
			}
			if want := "invalid token: " + tt.reason; err.Error() != want {
				t.Errorf("Verify error = %q, want %q", err, want)
			}
			if got.Issuer != "" || got.Audience != nil {
				t.Errorf("Verify returned claims %+v with an error", got)
			}
		})
	}

	t.Run("claims round trip", func(t *testing.T) {
		got, err := token.Verify(good, keys, want)
		if err != nil {
			t.Fatal(err)
		}
		if string(mustJSON(got)) != string(mustJSON(typical(now))) {
			t.Errorf("claims = %+v, want %+v", got, typical(now))
		}
	})
	t.Run("zero Now means the wall clock", func(t *testing.T) {
		fresh := sign(t, rsaKey, "RS256", "rsa", typical(time.Now()))
		if _, err := token.Verify(fresh, keys, token.Expect{Issuers: want.Issuers, Audiences: want.Audiences}); err != nil {
			t.Errorf("Verify = %v", err)
		}
		if _, err := token.Verify(good, keys, token.Expect{Issuers: want.Issuers, Audiences: want.Audiences}); err == nil {
			t.Error("a token issued in 2030 verified in the present")
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestIndependentVerifier checks Sign's output with go-jose's own jwt package.
func TestIndependentVerifier(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	tests := []struct {
		alg    string
		signer crypto.Signer
	}{
		{"RS256", fixtureKey(t)},
		{"PS256", fixtureKey(t)},
		{"ES256", newEC(t, elliptic.P256())},
		{"ES384", newEC(t, elliptic.P384())},
		{"RS256", opaque{fixtureKey(t)}},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			raw := sign(t, tt.signer, tt.alg, "kid-1", typical(now))
			tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tt.alg)})
			if err != nil {
				t.Fatal(err)
			}
			h := tok.Headers[0]
			if h.Algorithm != tt.alg || h.KeyID != "kid-1" || h.ExtraHeaders["typ"] != "JWT" {
				t.Errorf("header alg %q kid %q typ %v", h.Algorithm, h.KeyID, h.ExtraHeaders["typ"])
			}
			var std jwt.Claims
			var extra struct {
				Scope string `json:"scope"`
				Gty   string `json:"gty"`
				Azp   string `json:"azp"`
			}
			if err := tok.Claims(tt.signer.Public(), &std, &extra); err != nil {
				t.Fatal(err)
			}
			err = std.ValidateWithLeeway(jwt.Expected{
				Issuer: issuer, Subject: typical(now).Subject, AnyAudience: jwt.Audience{audience}, Time: now,
			}, 0)
			if err != nil {
				t.Error(err)
			}
			if std.ID != typical(now).ID || !std.IssuedAt.Time().Equal(now) || !std.Expiry.Time().Equal(now.Add(24*time.Hour)) {
				t.Errorf("claims jti %q iat %v exp %v", std.ID, std.IssuedAt.Time(), std.Expiry.Time())
			}
			if extra.Scope != typical(now).Scope || extra.Gty != "client-credentials" || extra.Azp != typical(now).AuthorizedParty {
				t.Errorf("extra claims %+v", extra)
			}
			// The raw header is exactly alg, kid, typ.
			hdr := must(base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0]))
			if want := `{"alg":"` + tt.alg + `","kid":"kid-1","typ":"JWT"}`; string(hdr) != want {
				t.Errorf("header = %s, want %s", hdr, want)
			}
			// aud is a string, as Auth0 sends it.
			payload := must(base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1]))
			if !strings.Contains(string(payload), `"aud":"`+audience+`"`) {
				t.Errorf("payload %s: aud is not a plain string", payload)
			}
		})
	}
}

func TestNewSignerRejects(t *testing.T) {
	rsaKey, p256, p384 := fixtureKey(t), newEC(t, elliptic.P256()), newEC(t, elliptic.P384())
	tests := []struct {
		name   string
		signer crypto.Signer
		alg    string
		kid    string
	}{
		{"RSA key as ES256", rsaKey, "ES256", "k"},
		{"P-256 key as RS256", p256, "RS256", "k"},
		{"P-384 key as ES256", p384, "ES256", "k"},
		{"opaque P-384 key as ES256", opaque{p384}, "ES256", "k"},
		{"HS256", rsaKey, "HS256", "k"},
		{"none", rsaKey, "none", "k"},
		{"empty alg", rsaKey, "", "k"},
		{"empty kid", rsaKey, "RS256", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := token.NewSigner(tt.signer, tt.alg, tt.kid); err == nil {
				t.Errorf("NewSigner = %v, nil; want error", s)
			}
		})
	}
	if _, err := token.Sign(rsaKey, "RS256", "k", func() {}); err == nil {
		t.Error("Sign of unmarshalable claims succeeded")
	}
}

func TestAudience(t *testing.T) {
	tests := []struct {
		name string
		aud  token.Audience
		json string
	}{
		{"one", token.Audience{"a"}, `"a"`},
		{"two", token.Audience{"a", "b"}, `["a","b"]`},
		{"empty", token.Audience{}, `[]`},
		{"nil", nil, `[]`},
	}
	for _, tt := range tests {
		t.Run("marshal "+tt.name, func(t *testing.T) {
			if got := string(mustJSON(tt.aud)); got != tt.json {
				t.Errorf("Marshal = %s, want %s", got, tt.json)
			}
		})
	}
	reads := []struct {
		json string
		want token.Audience
		ok   bool
	}{
		{`"a"`, token.Audience{"a"}, true},
		{` "a" `, token.Audience{"a"}, true},
		{`["a","b"]`, token.Audience{"a", "b"}, true},
		{`[]`, token.Audience{}, true},
		{`null`, nil, true},
		{`42`, nil, false},
		{`{"a":1}`, nil, false},
		{`[1]`, nil, false},
		{`"unterminated`, nil, false},
	}
	for _, tt := range reads {
		t.Run("unmarshal "+tt.json, func(t *testing.T) {
			var a token.Audience
			err := json.Unmarshal([]byte(tt.json), &a)
			if (err == nil) != tt.ok {
				t.Fatalf("Unmarshal(%s) error = %v, want ok %v", tt.json, err, tt.ok)
			}
			if tt.ok && string(mustJSON(a)) != string(mustJSON(tt.want)) {
				t.Errorf("Unmarshal(%s) = %#v, want %#v", tt.json, a, tt.want)
			}
		})
	}
	if !(token.Audience{"a", "b"}).Contains("b") || (token.Audience{"a"}).Contains("b") {
		t.Error("Contains is wrong")
	}
}

func FuzzVerify(f *testing.F) {
	key := fixtureKey(f)
	now := time.Unix(1_900_000_000, 0)
	good := sign(f, key, "RS256", "rsa", typical(now))
	parts := strings.Split(good, ".")
	f.Add(good)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(b64([]byte(`{"alg":"none","kid":"rsa"}`)) + "." + parts[1] + ".")
	f.Add(b64([]byte(`{"alg":"HS256","kid":"rsa"}`)) + "." + parts[1] + "." + parts[2])
	f.Add(`{"payload":"e30","signatures":[{"protected":"eyJhbGciOiJSUzI1NiJ9","signature":""}]}`)
	f.Add("..")
	f.Add("")
	keys := func(kid string) (token.VerifyKey, bool) {
		return token.VerifyKey{Key: &key.PublicKey, Algorithm: "RS256"}, kid == "rsa"
	}
	want := token.Expect{Issuers: []string{issuer}, Audiences: []string{audience}, Now: now}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := token.Verify(raw, keys, want)
		if err != nil {
			if !errors.Is(err, token.ErrInvalidToken) {
				t.Fatalf("error %v does not wrap ErrInvalidToken", err)
			}
			return
		}
		// Anything accepted must carry the real claims: nobody can forge.
		if c.Issuer != issuer || !c.Audience.Contains(audience) {
			t.Fatalf("accepted %q with claims %+v", raw, c)
		}
	})
}
