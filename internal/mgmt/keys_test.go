package mgmt_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/token"
)

// signingKey mirrors go-auth0 v1's management.SigningKey: every field a
// pointer, the three dates *time.Time.
type signingKey struct {
	KID          *string    `json:"kid,omitempty"`
	Cert         *string    `json:"cert,omitempty"`
	PKCS7        *string    `json:"pkcs7,omitempty"`
	Current      *bool      `json:"current,omitempty"`
	Next         *bool      `json:"next,omitempty"`
	Previous     *bool      `json:"previous,omitempty"`
	CurrentSince *time.Time `json:"current_since,omitempty"`
	CurrentUntil *time.Time `json:"current_until,omitempty"`
	Fingerprint  *string    `json:"fingerprint,omitempty"`
	Thumbprint   *string    `json:"thumbprint,omitempty"`
	Revoked      *bool      `json:"revoked,omitempty"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
}

// checkKeyObject checks one key object's JSON shape against the stored key.
func checkKeyObject(t *testing.T, obj map[string]any, k signet.Key) {
	t.Helper()
	want := map[string]any{
		"kid":         k.KID,
		"cert":        keygen.CertPEM(k.Certificate),
		"pkcs7":       keygen.PKCS7(k.Certificate),
		"fingerprint": keygen.Fingerprint(k.Certificate),
		"thumbprint":  keygen.Thumbprint(k.Certificate),
		"current":     k.State == signet.StateCurrent,
		"next":        k.State == signet.StateNext,
		"previous":    k.State == signet.StatePrevious,
		"revoked":     k.State == signet.StateRevoked,
	}
	for f, w := range want {
		if obj[f] != w {
			t.Errorf("key %s: %s = %v, want %v", k.KID, f, obj[f], w)
		}
	}
	times := map[string]time.Time{"current_since": k.CurrentSince, "current_until": k.CurrentUntil, "revoked_at": k.RevokedAt}
	for f, w := range times {
		v, present := obj[f]
		if w.IsZero() {
			if present {
				t.Errorf("key %s: %s = %#v, want absent", k.KID, f, v)
			}
			continue
		}
		s, _ := v.(string)
		got, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !got.Equal(w) || !strings.HasSuffix(s, "Z") {
			t.Errorf("key %s: %s = %#v, want RFC 3339 UTC of %v", k.KID, f, v, w)
		}
	}
	for f := range obj {
		if _, ok := want[f]; !ok {
			if _, ok := times[f]; !ok {
				t.Errorf("key %s: unexpected field %q", k.KID, f)
			}
		}
	}
}

func TestListAndGetKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Make one key of every state: rotate twice, revoke the oldest.
	first := e.view("default").Current.KID
	for range 2 {
		if rec := e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate", token: e.token("")}); rec.Code != 201 {
			t.Fatalf("rotate: %d %s", rec.Code, rec.Body)
		}
	}
	tok := e.token("")
	if rec := e.do(req{method: "PUT", path: "/api/v2/keys/signing/" + first + "/revoke", token: tok}); rec.Code != 200 {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	ks, err := e.store.Keyset(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	sorted := ks.Sorted()

	rec := e.do(req{method: "GET", path: "/api/v2/keys/signing", token: tok})
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("list: %d %v", rec.Code, rec.Header())
	}
	list := decode[[]map[string]any](t, rec)
	if len(list) != 4 {
		t.Fatalf("list has %d keys, want 4", len(list))
	}
	states := []signet.KeyState{}
	for i, obj := range list {
		checkKeyObject(t, obj, sorted[i])
		states = append(states, sorted[i].State)
	}
	if want := []signet.KeyState{"current", "next", "previous", "revoked"}; !equal(states, want) {
		t.Errorf("states %v, want %v", states, want)
	}
	// go-auth0 v1 decodes the list into *time.Time fields.
	var sdk []signingKey
	if err := json.Unmarshal(rec.Body.Bytes(), &sdk); err != nil {
		t.Fatalf("go-auth0 shape: %v", err)
	}
	if sdk[3].RevokedAt == nil || sdk[3].CurrentUntil == nil || sdk[1].CurrentSince != nil || !*sdk[3].Revoked || *sdk[3].Previous {
		t.Errorf("go-auth0 decode of the revoked/next keys: %+v / %+v", sdk[3], sdk[1])
	}

	for _, k := range sorted {
		rec := e.do(req{method: "GET", path: "/api/v2/keys/signing/" + k.KID, token: tok})
		if rec.Code != 200 {
			t.Fatalf("get %s: %d %s", k.KID, rec.Code, rec.Body)
		}
		checkKeyObject(t, decode[map[string]any](t, rec), k)
		var one signingKey
		if err := json.Unmarshal(rec.Body.Bytes(), &one); err != nil || *one.KID != k.KID {
			t.Errorf("go-auth0 decode of one key: %v", err)
		}
	}
	wantError(t, e.do(req{method: "GET", path: "/api/v2/keys/signing/nope", token: tok}),
		404, "Signing key not found.", "inexistent_signing_key")
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestNoBody checks that the four signing-key endpoints accept what SDKs
// send as "no body" and refuse anything else.
func TestNoBody(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	kid := e.view("default").Current.KID
	endpoints := []struct{ method, path string }{
		{"GET", "/api/v2/keys/signing"},
		{"GET", "/api/v2/keys/signing/" + kid},
	}
	bodies := []struct {
		name, body, contentType string
		wantStatus              int
		message                 string
	}{
		{"none", "", "", 200, ""},
		{"empty json", "", "application/json", 200, ""},
		{"null", "null", "application/json", 200, ""},
		{"null without content type", "null", "", 200, ""},
		{"empty object", "{}", "application/json", 200, ""},
		{"empty object as text", " {} ", "text/plain", 200, ""},
		{"property", `{"foo":1}`, "application/json", 400, "Payload validation error: 'Additional properties not allowed: foo'."},
		{"array", `[]`, "application/json", 400, "Payload validation error: 'Expected type object but found type array'."},
		{"bad json", `{`, "application/json", 400, "Payload validation error: 'Invalid JSON'."},
	}
	for _, ep := range endpoints {
		for _, b := range bodies {
			t.Run(ep.method+" "+ep.path+" "+b.name, func(t *testing.T) {
				rec := e.do(req{method: ep.method, path: ep.path, token: tok, body: b.body, contentType: b.contentType})
				if b.wantStatus != 200 {
					wantError(t, rec, b.wantStatus, b.message, "invalid_body")
				} else if rec.Code != 200 {
					t.Errorf("status %d: %s", rec.Code, rec.Body)
				}
			})
		}
	}
	// Rotate and revoke too (each success changes the keyset).
	for _, b := range bodies {
		t.Run("rotate "+b.name, func(t *testing.T) {
			rec := e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate", token: e.token(""), body: b.body, contentType: b.contentType})
			if b.wantStatus != 200 {
				wantError(t, rec, b.wantStatus, b.message, "invalid_body")
			} else if rec.Code != 201 {
				t.Errorf("status %d: %s", rec.Code, rec.Body)
			}
		})
	}
	ks, _ := e.store.Keyset(context.Background(), "default")
	var prev []string
	for _, k := range ks.Keys {
		if k.State == signet.StatePrevious {
			prev = append(prev, k.KID)
		}
	}
	for i, b := range bodies {
		t.Run("revoke "+b.name, func(t *testing.T) {
			rec := e.do(req{method: "PUT", path: "/api/v2/keys/signing/" + prev[i%len(prev)] + "/revoke", token: e.token(""), body: b.body, contentType: b.contentType})
			if b.wantStatus != 200 {
				wantError(t, rec, b.wantStatus, b.message, "invalid_body")
			} else if rec.Code != 200 {
				t.Errorf("status %d: %s", rec.Code, rec.Body)
			}
		})
	}
}

func TestRotate(t *testing.T) {
	e := newEnv(t)
	before := e.view("default")
	rec := e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate", token: e.token("")})
	if rec.Code != 201 {
		t.Fatalf("rotate: %d %s", rec.Code, rec.Body)
	}
	got := decode[map[string]any](t, rec)
	next := before.Keyset.Next()
	if len(got) != 2 || got["kid"] != next.KID || got["cert"] != keygen.CertPEM(next.Certificate) {
		t.Errorf("rotate answered %v, want the former next key %s", got, next.KID)
	}
	after := e.view("default")
	if after.Current.KID != next.KID {
		t.Errorf("current = %s, want %s", after.Current.KID, next.KID)
	}
	old, _ := after.Keyset.Key(before.Current.KID)
	if old.State != signet.StatePrevious {
		t.Errorf("old current is %s, want previous", old.State)
	}
	// The caller's token, signed by the old (now previous) key, still works.
	if rec := e.do(req{method: "GET", path: "/api/v2/keys/signing", token: e.signed(token.Claims{Scope: "read:signing_keys"})}); rec.Code != 200 {
		t.Errorf("token of the new current key: %d", rec.Code)
	}

	t.Run("query", func(t *testing.T) {
		for _, q := range []string{"yes", "TRUEISH", "2", ""} {
			wantError(t, e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate?revoke_current=" + q, token: e.token("")}),
				400, "Query validation error: 'revoke_current' must be true or false.", "invalid_query_string")
		}
		for _, q := range []string{"false", "0"} {
			if rec := e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate?revoke_current=" + q, token: e.token("")}); rec.Code != 201 {
				t.Errorf("revoke_current=%s: %d %s", q, rec.Code, rec.Body)
			}
		}
	})
	t.Run("idempotency key too long", func(t *testing.T) {
		wantError(t, e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate", token: e.token(""),
			header: map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}}), 400, "", "")
	})
}

func TestRotateIdempotent(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	keysBefore := len(e.view("default").Keyset.Keys)
	hdr := map[string]string{"Idempotency-Key": "rotate-" + strings.Repeat("x", 248)}
	first := e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate", token: tok, header: hdr})
	second := e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate", token: tok, header: hdr})
	if first.Code != 201 || second.Code != 201 {
		t.Fatalf("statuses %d, %d", first.Code, second.Code)
	}
	if first.Body.String() != second.Body.String() {
		t.Errorf("replay answered %s, first %s", second.Body, first.Body)
	}
	if first.Header().Get("Idempotent-Replayed") != "" || second.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed: first %q, second %q", first.Header().Get("Idempotent-Replayed"), second.Header().Get("Idempotent-Replayed"))
	}
	if n := len(e.view("default").Keyset.Keys); n != keysBefore+1 {
		t.Errorf("%d keys after two idempotent rotations, want %d (one rotation)", n, keysBefore+1)
	}
	// Another key rotates again.
	third := e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate", token: tok, header: map[string]string{"Idempotency-Key": "other"}})
	if third.Code != 201 || third.Body.String() == first.Body.String() {
		t.Errorf("a new idempotency key did not rotate: %d %s", third.Code, third.Body)
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	v := e.view("default")
	cur, next := v.Current.KID, v.Keyset.Next().KID
	path := func(kid string) string { return "/api/v2/keys/signing/" + kid + "/revoke" }

	// The API names its own remedy; the signet package's messages name no paths.
	wantError(t, e.do(req{method: "PUT", path: path(cur), token: tok}), 409,
		"The current signing key cannot be revoked. Rotate first, or rotate and revoke in one step with POST /api/v2/keys/signing/rotate?revoke_current=true.", "conflict")
	wantError(t, e.do(req{method: "PUT", path: path(next), token: tok}), 409,
		"The next signing key cannot be revoked: it has never signed. Rotate twice to replace it, or rotate with revoke_current=true once it is current.", "conflict")
	wantError(t, e.do(req{method: "PUT", path: path("nope"), token: tok}), 404, "Signing key not found.", "inexistent_signing_key")

	if rec := e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate", token: tok}); rec.Code != 201 {
		t.Fatalf("rotate: %d", rec.Code)
	}
	// The old current key is previous now; the token signed by it still works
	// until it is revoked.
	rec := e.do(req{method: "PUT", path: path(cur), token: e.token("")})
	if rec.Code != 200 {
		t.Fatalf("revoke previous: %d %s", rec.Code, rec.Body)
	}
	old, _ := e.view("default").Keyset.Key(cur)
	got := decode[map[string]any](t, rec)
	if len(got) != 2 || got["kid"] != cur || got["cert"] != keygen.CertPEM(old.Certificate) {
		t.Errorf("revoke answered %v", got)
	}
	if old.State != signet.StateRevoked {
		t.Errorf("state %s, want revoked", old.State)
	}
	wantError(t, e.do(req{method: "PUT", path: path(cur), token: e.token("")}), 409, signet.ErrAlreadyRevoked.Message, "conflict")
	// The revoked key's token no longer authenticates.
	wantError(t, e.do(req{method: "GET", path: "/api/v2/keys/signing", token: tok}), 401, "Invalid token", "")
}

func TestRotateAndRevoke(t *testing.T) {
	e := newEnv(t)
	tok := e.token("") // signed by the current key
	old := e.view("default").Current.KID
	rec := e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate?revoke_current=true", token: tok})
	if rec.Code != 201 {
		t.Fatalf("rotate and revoke: %d %s", rec.Code, rec.Body)
	}
	k, _ := e.view("default").Keyset.Key(old)
	if k.State != signet.StateRevoked || k.RevokedAt.IsZero() || k.CurrentUntil.IsZero() {
		t.Errorf("old current key: %+v", k.LogValue())
	}
	// The caller's token was signed by the key just revoked.
	rec = e.do(req{method: "GET", path: "/api/v2/keys/signing", token: tok})
	wantError(t, rec, 401, "Invalid token", "")
	// A fresh token works, and shows the old key revoked.
	rec = e.do(req{method: "GET", path: "/api/v2/keys/signing/" + old, token: e.token("")})
	if got := decode[map[string]any](t, rec); got["revoked"] != true || got["previous"] != false || got["revoked_at"] == nil {
		t.Errorf("old key = %v", got)
	}
	if rec := e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate?revoke_current=1", token: e.token("")}); rec.Code != 201 {
		t.Errorf("revoke_current=1: %d", rec.Code)
	}
}

// TestRotateIdempotencyBinding checks that an Idempotency-Key is bound to
// the client that sent it and to its request: a rotate-and-revoke (or any
// other query or body) with the key of a plain rotation is a 422 and
// revokes nothing, and another client's equal key is its own.
func TestRotateIdempotencyBinding(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	otherID, otherSecret := e.re.AdminClient(t, "default", mgmtAud)
	otherTok := e.tokenFor(host, mgmtAud, otherID, otherSecret, "")
	rotate := func(tok, query, body, key string) *httptest.ResponseRecorder {
		return e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate" + query, token: tok, body: body,
			contentType: "application/json", header: map[string]string{"Idempotency-Key": key}})
	}
	first := rotate(tok, "", "", "k")
	if first.Code != 201 {
		t.Fatalf("first rotation: %d %s", first.Code, first.Body)
	}
	const reused = `{"statusCode":422,"error":"Unprocessable Entity","message":"The Idempotency-Key was already used by this client with a different request. Use a new key for a new request.","errorCode":"idempotency_key_reused"}`
	for _, tt := range []struct{ name, query, body string }{
		{"rotate and revoke", "?revoke_current=true", ""},
		{"revoke_current=false", "?revoke_current=false", ""},
		{"another body", "", "{}"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			keys := len(e.view("default").Keyset.Keys)
			rec := rotate(tok, tt.query, tt.body, "k")
			wantError(t, rec, 422, "", "idempotency_key_reused")
			if rec.Body.String() != reused {
				t.Errorf("body = %s", rec.Body)
			}
			if rec.Header().Get("Idempotent-Replayed") != "" {
				t.Error("a refused request says it was replayed")
			}
			if n := len(e.view("default").Keyset.Keys); n != keys {
				t.Errorf("%d keys after a refused request, want %d", n, keys)
			}
		})
	}
	for _, k := range e.view("default").Keyset.Keys {
		if k.State == signet.StateRevoked {
			t.Errorf("key %s was revoked", k.KID)
		}
	}
	// The same request again is replayed.
	again := rotate(tok, "", "", "k")
	if again.Code != 201 || again.Body.String() != first.Body.String() || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry: %d %s (replayed %q), want the first answer %s", again.Code, again.Body, again.Header().Get("Idempotent-Replayed"), first.Body)
	}
	// Another client's "k" is its own: it rotates, and its retry replays
	// its own answer.
	theirs := rotate(otherTok, "", "", "k")
	if theirs.Code != 201 || theirs.Header().Get("Idempotent-Replayed") != "" || theirs.Body.String() == first.Body.String() {
		t.Fatalf("another client with the same key: %d %s (replayed %q)", theirs.Code, theirs.Body, theirs.Header().Get("Idempotent-Replayed"))
	}
	if rec := rotate(otherTok, "", "", "k"); rec.Body.String() != theirs.Body.String() || rec.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("the other client's retry: %s, want %s", rec.Body, theirs.Body)
	}
	// The events show each client's key as it sent it.
	evs := decode[[]struct {
		Actor string
		Key   string `json:"idempotency_key"`
	}](t, e.do(req{method: "GET", path: "/api/v2/keys/signing/events?type=signing_key.rotated", token: tok}))
	if len(evs) != 2 || evs[0].Actor != otherID || evs[0].Key != "k" || evs[1].Actor != e.adminID || evs[1].Key != "k" {
		t.Errorf("rotation events = %+v", evs)
	}
}

// TestNextKeyTokenRefused checks that a token signed by the next key,
// which is published but never signs, is refused.
func TestNextKeyTokenRefused(t *testing.T) {
	e := newEnv(t)
	now := time.Now().Unix()
	tok := e.signedByNext(token.Claims{Issuer: issuer, Subject: e.adminID + "@clients", AuthorizedParty: e.adminID,
		Audience: token.Audience{mgmtAud}, IssuedAt: now, Expiry: now + 3600, Scope: "read:signing_keys"})
	wantError(t, e.do(req{method: "GET", path: "/api/v2/keys/signing", token: tok}), 401, "Invalid token", "")
	// Once a rotation makes it current, the same token is accepted.
	if _, err := e.ring.Rotate(context.Background(), "default", keyring.RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	if rec := e.do(req{method: "GET", path: "/api/v2/keys/signing", token: tok}); rec.Code != 200 {
		t.Errorf("after the rotation: %d %s", rec.Code, rec.Body)
	}
}
