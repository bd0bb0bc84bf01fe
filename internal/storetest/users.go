package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

// RunUsers runs the conformance suite of signet.UserStore, the user side of
// every signet.Store, against the stores open returns. Each call of open
// must return a fresh, empty store.
func RunUsers(t *testing.T, open func(t *testing.T) signet.Store) {
	t.Run("Users", func(t *testing.T) { testUsers(t, open) })
	t.Run("LoginSessions", func(t *testing.T) { testLoginSessions(t, open) })
	t.Run("AuthCodes", func(t *testing.T) { testAuthCodes(t, open) })
	t.Run("RefreshTokens", func(t *testing.T) { testRefreshTokens(t, open) })
	t.Run("UserCascade", func(t *testing.T) { testUserCascade(t, open) })
	t.Run("Purge", func(t *testing.T) { testPurge(t, open) })
}

// userStore is a store under the user suite.
type userStore = signet.Store

// digest is a stand-in for secret.Digest.
func digest(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

func newUser(tenant, id, email string) signet.User {
	return signet.User{
		Tenant:        tenant,
		ID:            id,
		Email:         email,
		EmailVerified: true,
		Name:          "Ünïcode \"quoted\" " + id,
		PasswordHash:  "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2g",
		LastLogin:     at(2 * time.Minute),
		LoginsCount:   3,
		CreatedAt:     base,
		UpdatedAt:     at(time.Minute),
	}
}

func createUser(t *testing.T, s userStore, u signet.User) signet.User {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", u.ID, err)
	}
	return u
}

func diffUser(want, got signet.User) diff {
	var d diff
	d.str("Tenant", want.Tenant, got.Tenant)
	d.str("ID", want.ID, got.ID)
	d.str("Email", want.Email, got.Email)
	d.other("EmailVerified", want.EmailVerified, got.EmailVerified, want.EmailVerified == got.EmailVerified)
	d.str("Name", want.Name, got.Name)
	d.str("PasswordHash", want.PasswordHash, got.PasswordHash)
	d.other("Blocked", want.Blocked, got.Blocked, want.Blocked == got.Blocked)
	d.time("LastLogin", want.LastLogin, got.LastLogin)
	d.other("LoginsCount", want.LoginsCount, got.LoginsCount, want.LoginsCount == got.LoginsCount)
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	d.time("UpdatedAt", want.UpdatedAt, got.UpdatedAt)
	return d
}

func userIDs(us []signet.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func testUsers(t *testing.T, open func(t *testing.T) signet.Store) {
	ctx := t.Context()
	s := open(t)
	createTenant(t, s, "acme")
	createTenant(t, s, "rival")
	alice := createUser(t, s, newUser("acme", "auth0|a", "alice@example.com"))

	t.Run("RoundTrip", func(t *testing.T) {
		got, err := s.User(ctx, "acme", "auth0|a")
		if err != nil {
			t.Fatalf("User: %v", err)
		}
		diffUser(alice, got).check(t, "User")
		got, err = s.UserByEmail(ctx, "acme", "alice@example.com")
		if err != nil {
			t.Fatalf("UserByEmail: %v", err)
		}
		diffUser(alice, got).check(t, "UserByEmail")
		bare := signet.User{Tenant: "acme", ID: "auth0|bare", Email: "bare@example.com"}
		createUser(t, s, bare)
		got, err = s.User(ctx, "acme", "auth0|bare")
		if err != nil {
			t.Fatalf("User(bare): %v", err)
		}
		diffUser(bare, got).check(t, "User with zero fields")
		if err := s.DeleteUser(ctx, "acme", "auth0|bare"); err != nil {
			t.Fatalf("DeleteUser(bare): %v", err)
		}
	})

	t.Run("Conflicts", func(t *testing.T) {
		dup := newUser("acme", "auth0|other", "alice@example.com")
		wantErr(t, "CreateUser with a taken email", s.CreateUser(ctx, dup), signet.ErrUserExists)
		dup = newUser("acme", "auth0|a", "new@example.com")
		wantErr(t, "CreateUser with a taken id", s.CreateUser(ctx, dup), signet.ErrConflict)
		wantErr(t, "CreateUser in an unknown tenant", s.CreateUser(ctx, newUser("nobody", "auth0|x", "x@example.com")), signet.ErrTenantNotFound)
		got, err := s.User(ctx, "acme", "auth0|a")
		if err != nil {
			t.Fatal(err)
		}
		diffUser(alice, got).check(t, "User after refused creations")
	})

	t.Run("TenantIsolation", func(t *testing.T) {
		_, err := s.User(ctx, "rival", "auth0|a")
		wantErr(t, "User of another tenant", err, signet.ErrUserNotFound)
		_, err = s.UserByEmail(ctx, "rival", "alice@example.com")
		wantErr(t, "UserByEmail of another tenant", err, signet.ErrUserNotFound)
		wantErr(t, "DeleteUser of another tenant", s.DeleteUser(ctx, "rival", "auth0|a"), signet.ErrUserNotFound)
		// The same id and email in another tenant is another user.
		createUser(t, s, newUser("rival", "auth0|a", "alice@example.com"))
	})

	t.Run("UnstorableText", func(t *testing.T) {
		// Keys no backend can store (NUL, invalid UTF-8) find nothing.
		for _, bad := range []string{"auth0|\x00", "auth0|\xff"} {
			_, err := s.User(ctx, "acme", bad)
			wantErr(t, "User with unstorable text", err, signet.ErrUserNotFound)
			_, err = s.UserByEmail(ctx, "acme", bad+"@example.com")
			wantErr(t, "UserByEmail with unstorable text", err, signet.ErrUserNotFound)
			us, total, err := s.Users(ctx, "acme", signet.UserFilter{Email: bad})
			if err != nil || total != 0 || len(us) != 0 {
				t.Errorf("Users with unstorable text = %d, %d, %v", len(us), total, err)
			}
			wantErr(t, "DeleteUser with unstorable text", s.DeleteUser(ctx, "acme", bad), signet.ErrUserNotFound)
			if err := s.EndUserSessions(ctx, "acme", bad, base); err != nil {
				t.Errorf("EndUserSessions with unstorable text: %v", err)
			}
		}
	})

	t.Run("List", func(t *testing.T) {
		s := open(t)
		createTenant(t, s, "acme")
		var want []string
		for i := range 7 {
			u := createUser(t, s, newUser("acme", fmt.Sprintf("auth0|%02d", 9-i), fmt.Sprintf("u%d@example.com", i)))
			want = append(want, u.ID)
		}
		us, total, err := s.Users(ctx, "acme", signet.UserFilter{})
		if err != nil || total != 7 || !slices.Equal(userIDs(us), want) {
			t.Errorf("Users = %q, %d, %v; want %q, 7", userIDs(us), total, err, want)
		}
		us, total, err = s.Users(ctx, "acme", signet.UserFilter{Page: 1, PerPage: 3})
		if err != nil || total != 7 || !slices.Equal(userIDs(us), want[3:6]) {
			t.Errorf("Users page 1 of 3 = %q, %d, %v; want %q, 7", userIDs(us), total, err, want[3:6])
		}
		us, total, err = s.Users(ctx, "acme", signet.UserFilter{Page: 5, PerPage: 3})
		if err != nil || total != 7 || len(us) != 0 {
			t.Errorf("Users past the end = %q, %d, %v", userIDs(us), total, err)
		}
		us, total, err = s.Users(ctx, "acme", signet.UserFilter{Email: "u4@example.com"})
		if err != nil || total != 1 || !slices.Equal(userIDs(us), want[4:5]) {
			t.Errorf("Users by email = %q, %d, %v", userIDs(us), total, err)
		}
		us, total, err = s.Users(ctx, "nobody", signet.UserFilter{})
		if err != nil || total != 0 || len(us) != 0 {
			t.Errorf("Users of an unknown tenant = %q, %d, %v", userIDs(us), total, err)
		}
	})

	t.Run("Update", func(t *testing.T) {
		createUser(t, s, newUser("acme", "auth0|b", "bob@example.com"))
		var seen signet.User
		got, err := s.UpdateUser(ctx, "acme", "auth0|b", func(u *signet.User) error {
			seen = *u
			u.Email = "robert@example.com"
			u.Name = "Robert"
			u.Blocked = true
			u.Tenant, u.ID = "rival", "auth0|hijack" // ignored
			u.UpdatedAt = at(time.Hour)
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		diffUser(newUser("acme", "auth0|b", "bob@example.com"), seen).check(t, "the user fn got")
		want := newUser("acme", "auth0|b", "robert@example.com")
		want.Name, want.Blocked, want.UpdatedAt = "Robert", true, at(time.Hour)
		diffUser(want, got).check(t, "UpdateUser's result")
		stored, err := s.User(ctx, "acme", "auth0|b")
		if err != nil {
			t.Fatal(err)
		}
		diffUser(want, stored).check(t, "User after UpdateUser")
		_, err = s.UpdateUser(ctx, "acme", "auth0|b", func(u *signet.User) error {
			u.Email = "alice@example.com"
			return nil
		})
		wantErr(t, "UpdateUser to a taken email", err, signet.ErrUserExists)
		errBoom := errors.New("boom")
		_, err = s.UpdateUser(ctx, "acme", "auth0|b", func(u *signet.User) error {
			u.Name = "changed"
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Errorf("UpdateUser with a failing fn: %v", err)
		}
		stored, _ = s.User(ctx, "acme", "auth0|b")
		diffUser(want, stored).check(t, "User after refused updates")
		_, err = s.UpdateUser(ctx, "acme", "auth0|ghost", func(*signet.User) error { return nil })
		wantErr(t, "UpdateUser of an unknown user", err, signet.ErrUserNotFound)
	})

	t.Run("Delete", func(t *testing.T) {
		if err := s.DeleteUser(ctx, "acme", "auth0|b"); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		_, err := s.User(ctx, "acme", "auth0|b")
		wantErr(t, "User after DeleteUser", err, signet.ErrUserNotFound)
		wantErr(t, "DeleteUser twice", s.DeleteUser(ctx, "acme", "auth0|b"), signet.ErrUserNotFound)
		// The email is free again.
		createUser(t, s, newUser("acme", "auth0|b2", "robert@example.com"))
	})
}

func testLoginSessions(t *testing.T, open func(t *testing.T) signet.Store) {
	ctx := t.Context()
	s := open(t)
	createTenant(t, s, "acme")
	createTenant(t, s, "rival")
	createUser(t, s, newUser("acme", "auth0|a", "alice@example.com"))
	sess := signet.LoginSession{Tenant: "acme", IDHash: digest("s1"), UserID: "auth0|a", AuthTime: base, ExpiresAt: at(time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	got, err := s.Session(ctx, "acme", digest("s1"), at(time.Minute))
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	var d diff
	d.str("UserID", sess.UserID, got.UserID)
	d.bytes("IDHash", sess.IDHash, got.IDHash)
	d.time("AuthTime", sess.AuthTime, got.AuthTime)
	d.time("ExpiresAt", sess.ExpiresAt, got.ExpiresAt)
	d.check(t, "Session")

	_, err = s.Session(ctx, "acme", digest("s1"), at(time.Hour))
	wantErr(t, "Session at its expiry", err, signet.ErrNotFound)
	_, err = s.Session(ctx, "rival", digest("s1"), at(time.Minute))
	wantErr(t, "Session of another tenant", err, signet.ErrNotFound)
	_, err = s.Session(ctx, "acme", digest("unknown"), at(time.Minute))
	wantErr(t, "unknown Session", err, signet.ErrNotFound)

	wantErr(t, "CreateSession with a taken id", s.CreateSession(ctx, sess), signet.ErrConflict)
	ghost := sess
	ghost.IDHash, ghost.UserID = digest("s2"), "auth0|ghost"
	wantErr(t, "CreateSession for an unknown user", s.CreateSession(ctx, ghost), signet.ErrUserNotFound)
	ghost.Tenant = "nobody"
	wantErr(t, "CreateSession in an unknown tenant", s.CreateSession(ctx, ghost), signet.ErrTenantNotFound)

	if err := s.DeleteSession(ctx, "rival", digest("s1")); err != nil {
		t.Errorf("DeleteSession of another tenant's id: %v", err)
	}
	if _, err := s.Session(ctx, "acme", digest("s1"), at(time.Minute)); err != nil {
		t.Errorf("DeleteSession in another tenant ended the session: %v", err)
	}
	if err := s.DeleteSession(ctx, "acme", digest("s1")); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	_, err = s.Session(ctx, "acme", digest("s1"), at(time.Minute))
	wantErr(t, "Session after DeleteSession", err, signet.ErrNotFound)
	if err := s.DeleteSession(ctx, "acme", digest("s1")); err != nil {
		t.Errorf("DeleteSession twice: %v", err)
	}

	// EndUserSessions ends every session of the user and revokes their refresh tokens.
	createUser(t, s, newUser("acme", "auth0|b", "bob@example.com"))
	for _, id := range []string{"a1", "a2"} {
		if err := s.CreateSession(ctx, signet.LoginSession{Tenant: "acme", IDHash: digest(id), UserID: "auth0|a", ExpiresAt: at(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateSession(ctx, signet.LoginSession{Tenant: "acme", IDHash: digest("b1"), UserID: "auth0|b", ExpiresAt: at(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rt := newRefresh("acme", "rt-a", "fam-a", "auth0|a")
	if err := s.CreateRefreshToken(ctx, rt); err != nil {
		t.Fatal(err)
	}
	if err := s.EndUserSessions(ctx, "acme", "auth0|a", at(time.Minute)); err != nil {
		t.Fatalf("EndUserSessions: %v", err)
	}
	for _, id := range []string{"a1", "a2"} {
		_, err := s.Session(ctx, "acme", digest(id), at(time.Minute))
		wantErr(t, "Session after EndUserSessions", err, signet.ErrNotFound)
	}
	if _, err := s.Session(ctx, "acme", digest("b1"), at(time.Minute)); err != nil {
		t.Errorf("EndUserSessions ended another user's session: %v", err)
	}
	got2, err := s.RefreshToken(ctx, "acme", digest("rt-a"))
	if err != nil || !got2.RevokedAt.Equal(at(time.Minute)) {
		t.Errorf("refresh token after EndUserSessions: RevokedAt %v, %v", got2.RevokedAt, err)
	}
	if err := s.EndUserSessions(ctx, "acme", "auth0|ghost", at(time.Minute)); err != nil {
		t.Errorf("EndUserSessions of an unknown user: %v", err)
	}
}

func newCode(tenant, code, userID string) signet.AuthCode {
	return signet.AuthCode{
		Tenant:        tenant,
		CodeHash:      digest(code),
		ClientID:      "client-1",
		RedirectURI:   "https://app.example.com/callback?x=1",
		UserID:        userID,
		Scope:         []string{"openid", "profile", "offline_access"},
		Audience:      "https://api.example.com/",
		Nonce:         "n-0S6_WzA2Mj",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		AuthTime:      base,
		FamilyID:      "fam-" + code,
		ExpiresAt:     at(time.Minute),
	}
}

func diffCode(want, got signet.AuthCode) diff {
	var d diff
	d.str("Tenant", want.Tenant, got.Tenant)
	d.bytes("CodeHash", want.CodeHash, got.CodeHash)
	d.str("ClientID", want.ClientID, got.ClientID)
	d.str("RedirectURI", want.RedirectURI, got.RedirectURI)
	d.str("UserID", want.UserID, got.UserID)
	d.other("Scope", want.Scope, got.Scope, slices.Equal(want.Scope, got.Scope))
	d.str("Audience", want.Audience, got.Audience)
	d.str("Nonce", want.Nonce, got.Nonce)
	d.str("CodeChallenge", want.CodeChallenge, got.CodeChallenge)
	d.time("AuthTime", want.AuthTime, got.AuthTime)
	d.str("FamilyID", want.FamilyID, got.FamilyID)
	d.time("ExpiresAt", want.ExpiresAt, got.ExpiresAt)
	d.time("UsedAt", want.UsedAt, got.UsedAt)
	return d
}

func testAuthCodes(t *testing.T, open func(t *testing.T) signet.Store) {
	ctx := t.Context()
	s := open(t)
	createTenant(t, s, "acme")
	createTenant(t, s, "rival")
	createUser(t, s, newUser("acme", "auth0|a", "alice@example.com"))
	c := newCode("acme", "code-1", "auth0|a")
	if err := s.CreateAuthCode(ctx, c); err != nil {
		t.Fatalf("CreateAuthCode: %v", err)
	}
	wantErr(t, "CreateAuthCode with a taken code", s.CreateAuthCode(ctx, c), signet.ErrConflict)
	wantErr(t, "CreateAuthCode for an unknown user", s.CreateAuthCode(ctx, newCode("acme", "code-x", "auth0|ghost")), signet.ErrUserNotFound)
	wantErr(t, "CreateAuthCode in an unknown tenant", s.CreateAuthCode(ctx, newCode("nobody", "code-x", "auth0|a")), signet.ErrTenantNotFound)

	_, err := s.RedeemAuthCode(ctx, "rival", digest("code-1"), at(time.Second))
	wantErr(t, "RedeemAuthCode in another tenant", err, signet.ErrCodeInvalid)
	_, err = s.RedeemAuthCode(ctx, "acme", digest("unknown"), at(time.Second))
	wantErr(t, "RedeemAuthCode of an unknown code", err, signet.ErrCodeInvalid)

	got, err := s.RedeemAuthCode(ctx, "acme", digest("code-1"), at(time.Second))
	if err != nil {
		t.Fatalf("RedeemAuthCode: %v", err)
	}
	want := c
	want.UsedAt = at(time.Second)
	diffCode(want, got).check(t, "redeemed code")

	got, err = s.RedeemAuthCode(ctx, "acme", digest("code-1"), at(2*time.Second))
	wantErr(t, "RedeemAuthCode twice", err, signet.ErrCodeReused)
	diffCode(want, got).check(t, "the reused code RedeemAuthCode returns")

	expired := newCode("acme", "code-2", "auth0|a")
	if err := s.CreateAuthCode(ctx, expired); err != nil {
		t.Fatal(err)
	}
	_, err = s.RedeemAuthCode(ctx, "acme", digest("code-2"), at(time.Minute))
	wantErr(t, "RedeemAuthCode at its expiry", err, signet.ErrCodeInvalid)

	t.Run("Concurrent", func(t *testing.T) {
		const n = 20
		if err := s.CreateAuthCode(ctx, newCode("acme", "code-c", "auth0|a")); err != nil {
			t.Fatal(err)
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = s.RedeemAuthCode(ctx, "acme", digest("code-c"), at(time.Second))
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, signet.ErrCodeReused):
				t.Errorf("redeemer %d: %v", i, err)
			}
		}
		if ok != 1 {
			t.Errorf("%d of %d concurrent redemptions succeeded, want exactly 1", ok, n)
		}
	})
}

func newRefresh(tenant, tok, family, userID string) signet.RefreshToken {
	return signet.RefreshToken{
		Tenant:    tenant,
		TokenHash: digest(tok),
		FamilyID:  family,
		ClientID:  "client-1",
		UserID:    userID,
		Scope:     []string{"openid", "email", "offline_access"},
		Audience:  "https://api.example.com/",
		AuthTime:  base,
		CreatedAt: at(time.Second),
		ExpiresAt: at(30 * 24 * time.Hour),
	}
}

func diffRefresh(want, got signet.RefreshToken) diff {
	var d diff
	d.str("Tenant", want.Tenant, got.Tenant)
	d.bytes("TokenHash", want.TokenHash, got.TokenHash)
	d.str("FamilyID", want.FamilyID, got.FamilyID)
	d.str("ClientID", want.ClientID, got.ClientID)
	d.str("UserID", want.UserID, got.UserID)
	d.other("Scope", want.Scope, got.Scope, slices.Equal(want.Scope, got.Scope))
	d.str("Audience", want.Audience, got.Audience)
	d.time("AuthTime", want.AuthTime, got.AuthTime)
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	d.time("ExpiresAt", want.ExpiresAt, got.ExpiresAt)
	d.time("UsedAt", want.UsedAt, got.UsedAt)
	d.time("RevokedAt", want.RevokedAt, got.RevokedAt)
	return d
}

func testRefreshTokens(t *testing.T, open func(t *testing.T) signet.Store) {
	ctx := t.Context()
	s := open(t)
	createTenant(t, s, "acme")
	createTenant(t, s, "rival")
	createUser(t, s, newUser("acme", "auth0|a", "alice@example.com"))
	first := newRefresh("acme", "rt-1", "fam-1", "auth0|a")
	if err := s.CreateRefreshToken(ctx, first); err != nil {
		t.Fatalf("CreateRefreshToken: %v", err)
	}
	wantErr(t, "CreateRefreshToken with a taken token", s.CreateRefreshToken(ctx, first), signet.ErrConflict)
	wantErr(t, "CreateRefreshToken for an unknown user", s.CreateRefreshToken(ctx, newRefresh("acme", "x", "f", "auth0|ghost")), signet.ErrUserNotFound)
	wantErr(t, "CreateRefreshToken in an unknown tenant", s.CreateRefreshToken(ctx, newRefresh("nobody", "x", "f", "auth0|a")), signet.ErrTenantNotFound)
	got, err := s.RefreshToken(ctx, "acme", digest("rt-1"))
	if err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}
	diffRefresh(first, got).check(t, "RefreshToken")
	_, err = s.RefreshToken(ctx, "rival", digest("rt-1"))
	wantErr(t, "RefreshToken of another tenant", err, signet.ErrRefreshTokenInvalid)

	// Rotation: the successor joins the family and inherits its expiry,
	// whatever the caller set.
	next := newRefresh("acme", "rt-2", "fam-other", "auth0|a")
	next.CreatedAt, next.ExpiresAt, next.UsedAt = at(time.Hour), at(100*24*time.Hour), at(time.Hour)
	stored, err := s.RotateRefreshToken(ctx, "acme", digest("rt-1"), next, at(time.Hour))
	if err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	want := next
	want.FamilyID, want.ExpiresAt, want.UsedAt = "fam-1", first.ExpiresAt, time.Time{}
	diffRefresh(want, stored).check(t, "RotateRefreshToken's result")
	got, _ = s.RefreshToken(ctx, "acme", digest("rt-2"))
	diffRefresh(want, got).check(t, "the successor")
	got, _ = s.RefreshToken(ctx, "acme", digest("rt-1"))
	usedFirst := first
	usedFirst.UsedAt = at(time.Hour)
	diffRefresh(usedFirst, got).check(t, "the used token")

	// Reuse of rt-1 revokes the family, rt-2 included.
	_, err = s.RotateRefreshToken(ctx, "acme", digest("rt-1"), newRefresh("acme", "rt-3", "", "auth0|a"), at(2*time.Hour))
	wantErr(t, "RotateRefreshToken of a used token", err, signet.ErrRefreshTokenReused)
	for _, tok := range []string{"rt-1", "rt-2"} {
		got, _ := s.RefreshToken(ctx, "acme", digest(tok))
		if !got.RevokedAt.Equal(at(2 * time.Hour)) {
			t.Errorf("%s after reuse: RevokedAt %v, want %v", tok, got.RevokedAt, at(2*time.Hour))
		}
	}
	_, err = s.RefreshToken(ctx, "acme", digest("rt-3"))
	wantErr(t, "the successor of a reused token", err, signet.ErrRefreshTokenInvalid)
	_, err = s.RotateRefreshToken(ctx, "acme", digest("rt-2"), newRefresh("acme", "rt-4", "", "auth0|a"), at(3*time.Hour))
	wantErr(t, "RotateRefreshToken of a revoked token", err, signet.ErrRefreshTokenReused)
	_, err = s.RotateRefreshToken(ctx, "acme", digest("unknown"), newRefresh("acme", "rt-5", "", "auth0|a"), at(time.Hour))
	wantErr(t, "RotateRefreshToken of an unknown token", err, signet.ErrRefreshTokenInvalid)

	t.Run("Expired", func(t *testing.T) {
		old := newRefresh("acme", "rt-old", "fam-old", "auth0|a")
		if err := s.CreateRefreshToken(ctx, old); err != nil {
			t.Fatal(err)
		}
		_, err := s.RotateRefreshToken(ctx, "acme", digest("rt-old"), newRefresh("acme", "rt-old2", "", "auth0|a"), old.ExpiresAt)
		wantErr(t, "RotateRefreshToken at the family's expiry", err, signet.ErrRefreshTokenInvalid)
		got, _ := s.RefreshToken(ctx, "acme", digest("rt-old"))
		diffRefresh(old, got).check(t, "an expired token after a refused rotation")
	})

	t.Run("RevokeFamily", func(t *testing.T) {
		if err := s.CreateRefreshToken(ctx, newRefresh("acme", "rt-f", "fam-f", "auth0|a")); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeRefreshFamily(ctx, "rival", "fam-f", at(time.Minute)); err != nil {
			t.Fatalf("RevokeRefreshFamily in another tenant: %v", err)
		}
		if got, _ := s.RefreshToken(ctx, "acme", digest("rt-f")); !got.RevokedAt.IsZero() {
			t.Error("RevokeRefreshFamily in another tenant revoked the token")
		}
		if err := s.RevokeRefreshFamily(ctx, "acme", "fam-f", at(time.Minute)); err != nil {
			t.Fatalf("RevokeRefreshFamily: %v", err)
		}
		if got, _ := s.RefreshToken(ctx, "acme", digest("rt-f")); !got.RevokedAt.Equal(at(time.Minute)) {
			t.Errorf("RevokedAt = %v", got.RevokedAt)
		}
		// Revoking again keeps the first time.
		if err := s.RevokeRefreshFamily(ctx, "acme", "fam-f", at(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.RefreshToken(ctx, "acme", digest("rt-f")); !got.RevokedAt.Equal(at(time.Minute)) {
			t.Errorf("RevokedAt after a second revocation = %v", got.RevokedAt)
		}
		if err := s.RevokeRefreshFamily(ctx, "acme", "fam-unknown", at(time.Minute)); err != nil {
			t.Errorf("RevokeRefreshFamily of an unknown family: %v", err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		const n = 20
		if err := s.CreateRefreshToken(ctx, newRefresh("acme", "rt-c", "fam-c", "auth0|a")); err != nil {
			t.Fatal(err)
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = s.RotateRefreshToken(ctx, "acme", digest("rt-c"),
					newRefresh("acme", fmt.Sprintf("rt-c-%d", i), "", "auth0|a"), at(time.Minute))
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, signet.ErrRefreshTokenReused):
				t.Errorf("rotator %d: %v", i, err)
			}
		}
		if ok != 1 {
			t.Errorf("%d of %d concurrent rotations succeeded, want exactly 1", ok, n)
		}
		// The losers presented a used token: the family is revoked.
		for i := range n {
			got, err := s.RefreshToken(ctx, "acme", digest(fmt.Sprintf("rt-c-%d", i)))
			if err == nil && got.RevokedAt.IsZero() {
				t.Errorf("successor %d is still valid after concurrent reuse", i)
			}
		}
	})
}

// testUserCascade deletes a user and a tenant: their sessions, codes and
// refresh tokens go with them.
func testUserCascade(t *testing.T, open func(t *testing.T) signet.Store) {
	ctx := t.Context()
	s := open(t)
	createTenant(t, s, "acme")
	createUser(t, s, newUser("acme", "auth0|a", "alice@example.com"))
	if err := s.CreateSession(ctx, signet.LoginSession{Tenant: "acme", IDHash: digest("s"), UserID: "auth0|a", ExpiresAt: at(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAuthCode(ctx, newCode("acme", "c", "auth0|a")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshToken(ctx, newRefresh("acme", "r", "f", "auth0|a")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "acme", "auth0|a"); err != nil {
		t.Fatal(err)
	}
	// A new user with the same id inherits nothing.
	createUser(t, s, newUser("acme", "auth0|a", "alice@example.com"))
	_, err := s.Session(ctx, "acme", digest("s"), base)
	wantErr(t, "Session of a deleted user", err, signet.ErrNotFound)
	_, err = s.RedeemAuthCode(ctx, "acme", digest("c"), base)
	wantErr(t, "RedeemAuthCode of a deleted user", err, signet.ErrCodeInvalid)
	_, err = s.RefreshToken(ctx, "acme", digest("r"))
	wantErr(t, "RefreshToken of a deleted user", err, signet.ErrRefreshTokenInvalid)
}

func testPurge(t *testing.T, open func(t *testing.T) signet.Store) {
	ctx := t.Context()
	s := open(t)
	createTenant(t, s, "acme")
	createUser(t, s, newUser("acme", "auth0|a", "alice@example.com"))
	for i, exp := range []time.Duration{time.Minute, time.Hour} {
		id := fmt.Sprint(i)
		if err := s.CreateSession(ctx, signet.LoginSession{Tenant: "acme", IDHash: digest("s" + id), UserID: "auth0|a", ExpiresAt: at(exp)}); err != nil {
			t.Fatal(err)
		}
		c := newCode("acme", "c"+id, "auth0|a")
		c.ExpiresAt = at(exp)
		if err := s.CreateAuthCode(ctx, c); err != nil {
			t.Fatal(err)
		}
		r := newRefresh("acme", "r"+id, "f"+id, "auth0|a")
		r.ExpiresAt = at(exp)
		if err := s.CreateRefreshToken(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PurgeExpired(ctx, at(30*time.Minute))
	if err != nil || n != 3 {
		t.Errorf("PurgeExpired = %d, %v; want 3", n, err)
	}
	if _, err := s.RefreshToken(ctx, "acme", digest("r0")); !errors.Is(err, signet.ErrRefreshTokenInvalid) {
		t.Errorf("expired refresh token after purge: %v", err)
	}
	if _, err := s.RefreshToken(ctx, "acme", digest("r1")); err != nil {
		t.Errorf("live refresh token after purge: %v", err)
	}
	if _, err := s.Session(ctx, "acme", digest("s1"), at(30*time.Minute)); err != nil {
		t.Errorf("live session after purge: %v", err)
	}
	if _, err := s.RedeemAuthCode(ctx, "acme", digest("c1"), at(30*time.Minute)); err != nil {
		t.Errorf("live code after purge: %v", err)
	}
}
