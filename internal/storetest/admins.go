package storetest

import (
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

// RunAdmins runs the conformance suite of signet.AdminStore against the
// stores open returns. Each call of open must return a fresh, empty store.
func RunAdmins(t *testing.T, open func(t *testing.T) signet.Store) {
	t.Run("Admins", func(t *testing.T) { testAdmins(t, open) })
	t.Run("UpdateAdmin", func(t *testing.T) { testUpdateAdmin(t, open) })
	t.Run("AdminSessions", func(t *testing.T) { testAdminSessions(t, open) })
}

// adminStore is a store seen for its AdminStore side.
type adminStore = signet.Store

func newAdmin(id, email string, tenants ...string) signet.Admin {
	return signet.Admin{
		ID:           id,
		Email:        email,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2g",
		Tenants:      tenants,
		CreatedAt:    base,
		UpdatedAt:    at(time.Minute),
	}
}

func createAdmin(t *testing.T, s adminStore, a signet.Admin) signet.Admin {
	t.Helper()
	if err := s.CreateAdmin(t.Context(), a); err != nil {
		t.Fatalf("CreateAdmin(%s): %v", a.Email, err)
	}
	a.Tenants = signet.NormalizeGrants(a.Tenants)
	return a
}

func diffAdmin(want, got signet.Admin) diff {
	var d diff
	d.str("ID", want.ID, got.ID)
	d.str("Email", want.Email, got.Email)
	d.str("PasswordHash", want.PasswordHash, got.PasswordHash)
	d.other("Tenants", want.Tenants, got.Tenants, slices.Equal(want.Tenants, got.Tenants))
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	d.time("UpdatedAt", want.UpdatedAt, got.UpdatedAt)
	d.time("LastSignInAt", want.LastSignInAt, got.LastSignInAt)
	return d
}

func diffAdminSession(want, got signet.AdminSession) diff {
	var d diff
	d.bytes("IDHash", want.IDHash, got.IDHash)
	d.str("AdminID", want.AdminID, got.AdminID)
	d.time("CreatedAt", want.CreatedAt, got.CreatedAt)
	d.time("LastSeenAt", want.LastSeenAt, got.LastSeenAt)
	d.time("ExpiresAt", want.ExpiresAt, got.ExpiresAt)
	d.str("Flash", want.Flash, got.Flash)
	return d
}

// getAdmin returns the stored admin, failing the test on error.
func getAdmin(t *testing.T, s adminStore, id string) signet.Admin {
	t.Helper()
	a, err := s.Admin(t.Context(), id)
	if err != nil {
		t.Fatalf("Admin(%s): %v", id, err)
	}
	return a
}

func testAdmins(t *testing.T, open func(t *testing.T) signet.Store) {
	ctx := t.Context()
	s := open(t)
	createTenant(t, s, "acme")
	createTenant(t, s, "rival")
	createTenant(t, s, "zeta")

	// Grants come back sorted and without repeats whatever order they were given in.
	bob := createAdmin(t, s, newAdmin("adm-bob", "bob@example.com", "zeta", "acme", "zeta"))
	alice := newAdmin("adm-alice", "alice@example.com", "rival")
	alice.LastSignInAt = at(time.Hour)
	alice = createAdmin(t, s, alice)
	nobody := createAdmin(t, s, newAdmin("adm-none", "none@example.com"))

	t.Run("RoundTrip", func(t *testing.T) {
		for _, want := range []signet.Admin{bob, alice, nobody} {
			diffAdmin(want, getAdmin(t, s, want.ID)).check(t, "Admin")
			got, err := s.AdminByEmail(ctx, want.Email)
			if err != nil {
				t.Fatalf("AdminByEmail(%s): %v", want.Email, err)
			}
			diffAdmin(want, got).check(t, "AdminByEmail")
		}
		if len(nobody.Tenants) != 0 {
			t.Errorf("an admin granted nothing has tenants %v", nobody.Tenants)
		}
	})

	t.Run("ListOrderedByEmail", func(t *testing.T) {
		all, err := s.Admins(ctx)
		if err != nil {
			t.Fatalf("Admins: %v", err)
		}
		want := []signet.Admin{alice, bob, nobody}
		if len(all) != len(want) {
			t.Fatalf("Admins: got %d, want %d", len(all), len(want))
		}
		for i := range want {
			diffAdmin(want[i], all[i]).check(t, "Admins()["+want[i].Email+"]")
		}
	})

	t.Run("Empty", func(t *testing.T) {
		all, err := open(t).Admins(ctx)
		if err != nil || len(all) != 0 {
			t.Errorf("Admins on an empty store = %v, %v; want none", all, err)
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		for _, a := range []signet.Admin{
			newAdmin("adm-bob", "other@example.com"),
			newAdmin("adm-other", "bob@example.com", "acme"),
		} {
			wantErr(t, "CreateAdmin("+a.ID+", "+a.Email+")", s.CreateAdmin(ctx, a), signet.ErrConflict)
		}
		diffAdmin(bob, getAdmin(t, s, bob.ID)).check(t, "Admin after a refused duplicate")
		if _, err := s.Admin(ctx, "adm-other"); !errors.Is(err, signet.ErrAdminNotFound) {
			t.Errorf("Admin(adm-other) after a refused create: %v, want ErrAdminNotFound", err)
		}
	})

	t.Run("UnknownTenant", func(t *testing.T) {
		err := s.CreateAdmin(ctx, newAdmin("adm-ghost", "ghost@example.com", "acme", "ghost"))
		wantErr(t, "CreateAdmin granted an unknown tenant", err, signet.ErrTenantNotFound)
		// Nothing is stored: the admin can be created again.
		if _, err := s.AdminByEmail(ctx, "ghost@example.com"); !errors.Is(err, signet.ErrAdminNotFound) {
			t.Errorf("AdminByEmail after a refused create: %v, want ErrAdminNotFound", err)
		}
		createAdmin(t, s, newAdmin("adm-ghost", "ghost@example.com", "acme"))
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.Admin(ctx, "nobody")
		wantErr(t, "Admin(nobody)", err, signet.ErrAdminNotFound)
		_, err = s.AdminByEmail(ctx, "nobody@example.com")
		wantErr(t, "AdminByEmail(nobody)", err, signet.ErrAdminNotFound)
		// E-mails compare exactly: the domain normalises them first.
		_, err = s.AdminByEmail(ctx, "BOB@example.com")
		wantErr(t, "AdminByEmail(BOB@…)", err, signet.ErrAdminNotFound)
		_, err = s.UpdateAdmin(ctx, "nobody", func(*signet.Admin) error { return nil })
		wantErr(t, "UpdateAdmin(nobody)", err, signet.ErrAdminNotFound)
		wantErr(t, "DeleteAdmin(nobody)", s.DeleteAdmin(ctx, "nobody"), signet.ErrAdminNotFound)
	})

	t.Run("Delete", func(t *testing.T) {
		a := createAdmin(t, s, newAdmin("adm-gone", "gone@example.com", "acme"))
		sess := newSession("gone-1", a.ID)
		if err := s.CreateAdminSession(ctx, sess); err != nil {
			t.Fatalf("CreateAdminSession: %v", err)
		}
		if err := s.DeleteAdmin(ctx, a.ID); err != nil {
			t.Fatalf("DeleteAdmin: %v", err)
		}
		_, err := s.Admin(ctx, a.ID)
		wantErr(t, "Admin after DeleteAdmin", err, signet.ErrAdminNotFound)
		_, err = s.AdminSession(ctx, sess.IDHash)
		wantErr(t, "AdminSession of a deleted admin", err, signet.ErrAdminSessionNotFound)
		// The e-mail is free again, and other admins are untouched.
		createAdmin(t, s, newAdmin("adm-gone2", "gone@example.com"))
		diffAdmin(bob, getAdmin(t, s, bob.ID)).check(t, "another admin after DeleteAdmin")
	})
}

func testUpdateAdmin(t *testing.T, open func(t *testing.T) signet.Store) {
	ctx := t.Context()
	s := open(t)
	createTenant(t, s, "acme")
	createTenant(t, s, "rival")
	bob := createAdmin(t, s, newAdmin("adm-bob", "bob@example.com", "acme"))
	carol := createAdmin(t, s, newAdmin("adm-carol", "carol@example.com", "acme"))

	t.Run("Changes", func(t *testing.T) {
		got, err := s.UpdateAdmin(ctx, bob.ID, func(a *signet.Admin) error {
			diffAdmin(bob, *a).check(t, "UpdateAdmin's argument")
			a.ID = "ignored"
			a.Email = "robert@example.com"
			a.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=2$bmV3c2FsdA$bmV3aGFzaA"
			a.Tenants = []string{"rival", "acme", "rival"}
			a.UpdatedAt = at(2 * time.Hour)
			a.LastSignInAt = at(2 * time.Hour)
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateAdmin: %v", err)
		}
		want := bob
		want.Email, want.PasswordHash = "robert@example.com", "$argon2id$v=19$m=65536,t=3,p=2$bmV3c2FsdA$bmV3aGFzaA"
		want.Tenants = []string{"acme", "rival"}
		want.UpdatedAt, want.LastSignInAt = at(2*time.Hour), at(2*time.Hour)
		diffAdmin(want, got).check(t, "UpdateAdmin's result")
		diffAdmin(want, getAdmin(t, s, bob.ID)).check(t, "Admin after UpdateAdmin")
		if _, err := s.AdminByEmail(ctx, "bob@example.com"); !errors.Is(err, signet.ErrAdminNotFound) {
			t.Errorf("the old e-mail still finds the admin: %v", err)
		}
		bob = want

		// Grants can be taken away, all of them.
		got, err = s.UpdateAdmin(ctx, bob.ID, func(a *signet.Admin) error { a.Tenants = nil; return nil })
		if err != nil {
			t.Fatalf("UpdateAdmin: %v", err)
		}
		if len(got.Tenants) != 0 || len(getAdmin(t, s, bob.ID).Tenants) != 0 {
			t.Errorf("tenants after removing every grant: %v", getAdmin(t, s, bob.ID).Tenants)
		}
		bob.Tenants = nil
	})

	unchanged := func(t *testing.T) {
		t.Helper()
		diffAdmin(bob, getAdmin(t, s, bob.ID)).check(t, "Admin after a refused update")
		diffAdmin(carol, getAdmin(t, s, carol.ID)).check(t, "other admin after a refused update")
	}

	t.Run("FnError", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := s.UpdateAdmin(ctx, bob.ID, func(a *signet.Admin) error {
			a.Email = "changed@example.com"
			a.Tenants = []string{"acme"}
			return boom
		})
		if err != boom {
			t.Errorf("UpdateAdmin returned %v, want fn's error as it is", err)
		}
		unchanged(t)
	})

	t.Run("EmailTaken", func(t *testing.T) {
		_, err := s.UpdateAdmin(ctx, bob.ID, func(a *signet.Admin) error {
			a.Email = carol.Email
			a.Tenants = []string{"acme"}
			return nil
		})
		wantErr(t, "UpdateAdmin to a taken e-mail", err, signet.ErrConflict)
		unchanged(t)
	})

	t.Run("UnknownTenant", func(t *testing.T) {
		_, err := s.UpdateAdmin(ctx, bob.ID, func(a *signet.Admin) error {
			a.Tenants = []string{"acme", "ghost"}
			a.PasswordHash = "changed"
			return nil
		})
		wantErr(t, "UpdateAdmin granting an unknown tenant", err, signet.ErrTenantNotFound)
		unchanged(t)
	})
}

// newSession returns a session of admin whose id is id.
func newSession(id, adminID string) signet.AdminSession {
	h := sha256.Sum256([]byte(id))
	h[0], h[31] = 0x00, 0xff // binary digests must round-trip
	return signet.AdminSession{
		IDHash:     h[:],
		AdminID:    adminID,
		CreatedAt:  base,
		LastSeenAt: at(time.Minute),
		ExpiresAt:  at(30 * time.Minute),
		Flash:      `{"kind":"rotated","kid":"k\u00e9"}`,
	}
}

func testAdminSessions(t *testing.T, open func(t *testing.T) signet.Store) {
	ctx := t.Context()
	s := open(t)
	createTenant(t, s, "acme")
	bob := createAdmin(t, s, newAdmin("adm-bob", "bob@example.com", "acme"))
	alice := createAdmin(t, s, newAdmin("adm-alice", "alice@example.com"))
	get := func(t *testing.T, h []byte) signet.AdminSession {
		t.Helper()
		got, err := s.AdminSession(ctx, h)
		if err != nil {
			t.Fatalf("AdminSession: %v", err)
		}
		return got
	}
	create := func(t *testing.T, sess signet.AdminSession) signet.AdminSession {
		t.Helper()
		if err := s.CreateAdminSession(ctx, sess); err != nil {
			t.Fatalf("CreateAdminSession: %v", err)
		}
		return sess
	}

	b1 := create(t, newSession("b1", bob.ID))
	t.Run("RoundTrip", func(t *testing.T) {
		diffAdminSession(b1, get(t, b1.IDHash)).check(t, "AdminSession")
		bare := newSession("bare", bob.ID)
		bare.LastSeenAt, bare.Flash = time.Time{}, ""
		create(t, bare)
		diffAdminSession(bare, get(t, bare.IDHash)).check(t, "AdminSession without flash")
	})

	t.Run("CreateErrors", func(t *testing.T) {
		dup := newSession("b1", bob.ID)
		dup.Flash = "other"
		wantErr(t, "CreateAdminSession with a taken hash", s.CreateAdminSession(ctx, dup), signet.ErrConflict)
		diffAdminSession(b1, get(t, b1.IDHash)).check(t, "AdminSession after a refused duplicate")
		wantErr(t, "CreateAdminSession for an unknown admin",
			s.CreateAdminSession(ctx, newSession("ghost", "adm-ghost")), signet.ErrAdminNotFound)
		noExpiry := newSession("no-expiry", bob.ID)
		noExpiry.ExpiresAt = time.Time{}
		if err := s.CreateAdminSession(ctx, noExpiry); err == nil {
			t.Errorf("CreateAdminSession without an expiry time succeeded")
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		missing := newSession("missing", bob.ID).IDHash
		_, err := s.AdminSession(ctx, missing)
		wantErr(t, "AdminSession(missing)", err, signet.ErrAdminSessionNotFound)
		_, err = s.AdminSession(ctx, nil)
		wantErr(t, "AdminSession(nil)", err, signet.ErrAdminSessionNotFound)
		_, err = s.UpdateAdminSession(ctx, missing, func(*signet.AdminSession) error { return nil })
		wantErr(t, "UpdateAdminSession(missing)", err, signet.ErrAdminSessionNotFound)
		wantErr(t, "DeleteAdminSession(missing)", s.DeleteAdminSession(ctx, missing), signet.ErrAdminSessionNotFound)
	})

	t.Run("Update", func(t *testing.T) {
		got, err := s.UpdateAdminSession(ctx, b1.IDHash, func(sess *signet.AdminSession) error {
			diffAdminSession(b1, *sess).check(t, "UpdateAdminSession's argument")
			sess.IDHash = []byte("ignored")
			sess.AdminID = alice.ID
			sess.CreatedAt = at(time.Hour)
			sess.LastSeenAt = at(10 * time.Minute)
			sess.ExpiresAt = at(40 * time.Minute)
			sess.Flash = ""
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateAdminSession: %v", err)
		}
		want := b1
		want.LastSeenAt, want.ExpiresAt, want.Flash = at(10*time.Minute), at(40*time.Minute), ""
		diffAdminSession(want, got).check(t, "UpdateAdminSession's result")
		diffAdminSession(want, get(t, b1.IDHash)).check(t, "AdminSession after UpdateAdminSession")
		b1 = want

		boom := errors.New("boom")
		_, err = s.UpdateAdminSession(ctx, b1.IDHash, func(sess *signet.AdminSession) error {
			sess.Flash = "changed"
			return boom
		})
		if err != boom {
			t.Errorf("UpdateAdminSession returned %v, want fn's error as it is", err)
		}
		diffAdminSession(b1, get(t, b1.IDHash)).check(t, "AdminSession after a failed update")
	})

	t.Run("Delete", func(t *testing.T) {
		gone := create(t, newSession("gone", bob.ID))
		if err := s.DeleteAdminSession(ctx, gone.IDHash); err != nil {
			t.Fatalf("DeleteAdminSession: %v", err)
		}
		_, err := s.AdminSession(ctx, gone.IDHash)
		wantErr(t, "AdminSession after DeleteAdminSession", err, signet.ErrAdminSessionNotFound)
		diffAdminSession(b1, get(t, b1.IDHash)).check(t, "another session after DeleteAdminSession")
	})

	t.Run("DeleteAdminSessions", func(t *testing.T) {
		a1 := create(t, newSession("a1", alice.ID))
		a2 := create(t, newSession("a2", alice.ID))
		n, err := s.DeleteAdminSessions(ctx, alice.ID)
		if err != nil || n != 2 {
			t.Fatalf("DeleteAdminSessions = %d, %v; want 2", n, err)
		}
		for _, sess := range []signet.AdminSession{a1, a2} {
			_, err := s.AdminSession(ctx, sess.IDHash)
			wantErr(t, "AdminSession after DeleteAdminSessions", err, signet.ErrAdminSessionNotFound)
		}
		diffAdminSession(b1, get(t, b1.IDHash)).check(t, "another admin's session after DeleteAdminSessions")
		if n, err := s.DeleteAdminSessions(ctx, "adm-ghost"); err != nil || n != 0 {
			t.Errorf("DeleteAdminSessions(unknown admin) = %d, %v; want 0, nil", n, err)
		}
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		s := open(t)
		createTenant(t, s, "acme")
		createAdmin(t, s, newAdmin("adm-bob", "bob@example.com"))
		var live []signet.AdminSession
		var dead []signet.AdminSession
		for i, exp := range []time.Duration{-time.Hour, 0, time.Microsecond, time.Hour} {
			sess := newSession("exp-"+string(rune('a'+i)), "adm-bob")
			sess.ExpiresAt = at(exp)
			if err := s.CreateAdminSession(ctx, sess); err != nil {
				t.Fatalf("CreateAdminSession: %v", err)
			}
			if exp <= 0 {
				dead = append(dead, sess)
			} else {
				live = append(live, sess)
			}
		}
		n, err := s.DeleteExpiredAdminSessions(ctx, base)
		if err != nil || n != len(dead) {
			t.Fatalf("DeleteExpiredAdminSessions = %d, %v; want %d", n, err, len(dead))
		}
		for _, sess := range dead {
			_, err := s.AdminSession(ctx, sess.IDHash)
			wantErr(t, "AdminSession expiring at or before now", err, signet.ErrAdminSessionNotFound)
		}
		for _, sess := range live {
			got, err := s.AdminSession(ctx, sess.IDHash)
			if err != nil {
				t.Errorf("AdminSession expiring after now: %v", err)
				continue
			}
			if got.Expired(base) {
				t.Errorf("a session expiring at %v is Expired at %v", got.ExpiresAt, base)
			}
		}
	})
}
