package sqlcodec_test

import (
	"database/sql"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

func TestEncodeTime(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name string
		in   time.Time
		want any
		err  bool
	}{
		{"zero is NULL", time.Time{}, nil, false},
		{"epoch", time.Unix(0, 0), int64(0), false},
		{"nanoseconds kept", time.Date(2025, 1, 2, 3, 4, 5, 6, paris), time.Date(2025, 1, 2, 2, 4, 5, 6, time.UTC).UnixNano(), false},
		{"earliest", time.Unix(0, math.MinInt64), int64(math.MinInt64), false},
		{"latest", time.Unix(0, math.MaxInt64), int64(math.MaxInt64), false},
		{"too early", time.Unix(0, math.MinInt64).Add(-time.Nanosecond), nil, true},
		{"too late", time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sqlcodec.EncodeTime(tc.in)
			if tc.err {
				if !errors.Is(err, signet.ErrInvalid) {
					t.Fatalf("EncodeTime = %v, %v; want EINVALID", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("EncodeTime = %v, %v; want %v", got, err, tc.want)
			}
			var n *int64
			if v, ok := got.(int64); ok {
				n = &v
			}
			back := sqlcodec.DecodeTime(n)
			if !back.Equal(tc.in) || (!back.IsZero() && back.Location() != time.UTC) {
				t.Errorf("DecodeTime = %s, want %s in UTC", back, tc.in)
			}
		})
	}
	if _, err := sqlcodec.EncodeTimes(time.Now(), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, signet.ErrInvalid) {
		t.Errorf("EncodeTimes with one out of range = %v, want EINVALID", err)
	}
	if u := sqlcodec.UTC(time.Time{}); !u.IsZero() {
		t.Errorf("UTC(zero) = %s", u)
	}
	if sqlcodec.NullString("") != nil || sqlcodec.NullString("x") != "x" {
		t.Error("NullString maps only \"\" to NULL")
	}
}

// db opens a real SQLite database with one table per column list, every
// column untyped, so that a round trip checks the lists, the arguments and
// the scanners against each other.
func db(t *testing.T) *sql.DB {
	t.Helper()
	d, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "codec.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	for table, cols := range map[string]string{
		"tenants": sqlcodec.TenantColumns, "signing_keys": sqlcodec.KeyColumns, "events": "seq, " + sqlcodec.EventColumns,
		"clients": sqlcodec.ClientColumns, "resource_servers": sqlcodec.ResourceServerColumns,
		"client_grants": sqlcodec.ClientGrantColumns, "users": sqlcodec.UserColumns, "login_sessions": sqlcodec.SessionColumns,
		"auth_codes": sqlcodec.AuthCodeColumns, "refresh_tokens": sqlcodec.RefreshTokenColumns,
		"admins": sqlcodec.AdminColumns, "admin_sessions": sqlcodec.AdminSessionColumns,
	} {
		if _, err := d.Exec(`CREATE TABLE ` + table + ` (` + cols + `)`); err != nil {
			t.Fatalf("create %s: %v", table, err)
		}
	}
	return d
}

// roundTrip stores args in table and reads the row back with scan.
func roundTrip[T any](t *testing.T, d *sql.DB, table, cols string, args []any, err error, scan func(sqlcodec.Scanner) (T, error)) T {
	t.Helper()
	if err != nil {
		t.Fatalf("%s args: %v", table, err)
	}
	if n := strings.Count(cols, ",") + 1; n != len(args) {
		t.Fatalf("%s: %d columns, %d arguments", table, n, len(args))
	}
	if _, err := d.Exec(`DELETE FROM ` + table); err != nil {
		t.Fatal(err)
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
	if _, err := d.Exec(`INSERT INTO `+table+` (`+cols+`) VALUES (`+marks+`)`, args...); err != nil {
		t.Fatalf("insert %s: %v", table, err)
	}
	v, err := scan(d.QueryRow(`SELECT ` + cols + ` FROM ` + table))
	if err != nil {
		t.Fatalf("scan %s: %v", table, err)
	}
	return v
}

func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s round trip:\n got %+v\nwant %+v", what, got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	d := db(t)
	at := func(s int) time.Time { return time.Date(2025, 6, 1, 12, 0, s, 123456789, time.UTC) }
	yes := true

	tn := signet.Tenant{Name: "acme", Algorithm: "ES256", CreatedAt: at(1),
		Policy: signet.Policy{RotationPeriod: time.Hour, RevokePreviousAfter: 2 * time.Hour, MinNextAge: time.Minute}}
	args, err := sqlcodec.TenantArgs(tn)
	check(t, "tenant", roundTrip(t, d, "tenants", sqlcodec.TenantColumns, args, err,
		func(r sqlcodec.Scanner) (signet.Tenant, error) { return sqlcodec.ScanTenant(r) }), tn)

	k := signet.Key{KID: "k1", Algorithm: "RS256", State: signet.StatePrevious, Certificate: []byte{0, 1},
		SealedPrivateKey: []byte{0xff}, CreatedAt: at(1), CurrentSince: at(2), CurrentUntil: at(3)}
	args, err = sqlcodec.KeyArgs("acme", k)
	if err != nil || args[len(args)-2] != "acme" || args[len(args)-1] != "k1" || args[7] != nil {
		t.Errorf("KeyArgs = %v, %v; want tenant and kid last, revoked_at NULL", args, err)
	}

	e := signet.Event{Seq: 7, Tenant: "acme", Time: at(4), Type: signet.EventKeyRotated, Actor: "cli", KID: "k1",
		IdempotencyKey: "idem", Data: map[string]string{"next_kid": "k2"}}
	args, err = sqlcodec.EventArgs("acme", e)
	check(t, "event", roundTrip(t, d, "events", "seq, "+sqlcodec.EventColumns, append([]any{int64(7)}, args...), err,
		sqlcodec.ScanEvent), e)
	e.IdempotencyKey, e.Data = "", nil
	args, err = sqlcodec.EventArgs("acme", e)
	check(t, "event without key or data", roundTrip(t, d, "events", "seq, "+sqlcodec.EventColumns,
		append([]any{int64(7)}, args...), err, sqlcodec.ScanEvent), e)

	c := signet.Client{Tenant: "acme", ClientID: "c1", Name: "App", Description: "d", AppType: "spa",
		SecretHash: []byte{1, 2, 3}, GrantTypes: []string{"authorization_code"}, Callbacks: []string{"https://a/cb"},
		AllowedLogoutURLs: []string{"https://a/"}, TokenEndpointAuthMethod: "none", IDTokenLifetime: 60,
		RefreshTokenLifetime: 120, CreatedAt: at(1), UpdatedAt: at(2),
		Addons: signet.ClientAddons{SAMLP: &signet.SAMLAddon{Audience: "urn:sp", TypedAttributes: &yes}}}
	args, err = sqlcodec.ClientArgs(c)
	check(t, "client", roundTrip(t, d, "clients", sqlcodec.ClientColumns, args, err, sqlcodec.ScanClient), c)

	rs := signet.ResourceServer{Tenant: "acme", ID: "rs1", Name: "API", Identifier: "https://api/",
		Scopes: []signet.Scope{{Value: "read:x", Description: "Read"}}, SigningAlg: "RS256", TokenLifetime: 86400,
		System: true, CreatedAt: at(1), UpdatedAt: at(2)}
	args, err = sqlcodec.ResourceServerArgs(rs)
	check(t, "resource server", roundTrip(t, d, "resource_servers", sqlcodec.ResourceServerColumns, args, err,
		sqlcodec.ScanResourceServer), rs)

	g := signet.ClientGrant{Tenant: "acme", ID: "g1", ClientID: "c1", Audience: "https://api/",
		Scope: []string{"read:x"}, CreatedAt: at(1), UpdatedAt: at(2)}
	args, err = sqlcodec.ClientGrantArgs(g)
	check(t, "client grant", roundTrip(t, d, "client_grants", sqlcodec.ClientGrantColumns, args, err,
		sqlcodec.ScanClientGrant), g)

	u := signet.User{Tenant: "acme", ID: "auth0|1", Email: "a@b.c", EmailVerified: true, Name: "A",
		PasswordHash: "$argon2id$x", Blocked: true, LastLogin: at(3), LoginsCount: 4, CreatedAt: at(1), UpdatedAt: at(2)}
	args, err = sqlcodec.UserArgs(u)
	check(t, "user", roundTrip(t, d, "users", sqlcodec.UserColumns, args, err, sqlcodec.ScanUser), u)

	s := signet.LoginSession{Tenant: "acme", IDHash: []byte{9}, UserID: "auth0|1", AuthTime: at(1), ExpiresAt: at(9)}
	args, err = sqlcodec.SessionArgs(s)
	check(t, "login session", roundTrip(t, d, "login_sessions", sqlcodec.SessionColumns, args, err, sqlcodec.ScanSession), s)

	ac := signet.AuthCode{Tenant: "acme", CodeHash: []byte{8}, ClientID: "c1", RedirectURI: "https://a/cb",
		UserID: "auth0|1", Scope: []string{"openid", "email"}, Audience: "https://api/", Nonce: "n",
		CodeChallenge: "ch", AuthTime: at(1), FamilyID: "f", ExpiresAt: at(9), UsedAt: at(5)}
	args, err = sqlcodec.AuthCodeArgs(ac)
	check(t, "auth code", roundTrip(t, d, "auth_codes", sqlcodec.AuthCodeColumns, args, err, sqlcodec.ScanAuthCode), ac)

	rt := signet.RefreshToken{Tenant: "acme", TokenHash: []byte{7}, FamilyID: "f", ClientID: "c1", UserID: "auth0|1",
		Scope: []string{"offline_access"}, Audience: "https://api/", AuthTime: at(1), CreatedAt: at(2),
		ExpiresAt: at(9), UsedAt: at(3), RevokedAt: at(4)}
	args, err = sqlcodec.RefreshTokenArgs(rt)
	check(t, "refresh token", roundTrip(t, d, "refresh_tokens", sqlcodec.RefreshTokenColumns, args, err,
		sqlcodec.ScanRefreshToken), rt)

	a := signet.Admin{ID: "adm1", Email: "ops@example.com", PasswordHash: "$argon2id$y", CreatedAt: at(1), UpdatedAt: at(2)}
	args, err = sqlcodec.AdminArgs(a)
	check(t, "admin", roundTrip(t, d, "admins", sqlcodec.AdminColumns, args, err, sqlcodec.ScanAdmin), a)

	as := signet.AdminSession{IDHash: []byte{6}, AdminID: "adm1", CreatedAt: at(1), LastSeenAt: at(2), ExpiresAt: at(9), Flash: "Rotated."}
	args, err = sqlcodec.AdminSessionArgs(as)
	check(t, "admin session", roundTrip(t, d, "admin_sessions", sqlcodec.AdminSessionColumns, args, err,
		sqlcodec.ScanAdminSession), as)
	if want := []any{at(2).UnixNano(), at(9).UnixNano(), "Rotated.", []byte{6}}; !reflect.DeepEqual(args[:4], want) {
		t.Errorf("AdminSessionArgs[:4] = %v, want the update's %v", args[:4], want)
	}
}

func TestNilListsStoredAsEmptyArrays(t *testing.T) {
	args, err := sqlcodec.ClientArgs(signet.Client{})
	if err != nil || args[4] != "[]" || args[5] != "[]" || args[6] != "[]" || args[10] != "{}" {
		t.Errorf("ClientArgs(zero) = %v, %v; want [] for each list and {} for add-ons", args, err)
	}
	args, err = sqlcodec.ClientGrantArgs(signet.ClientGrant{})
	if err != nil || args[2] != "[]" {
		t.Errorf("ClientGrantArgs(zero) scope = %v, %v", args[2], err)
	}
	args, err = sqlcodec.ResourceServerArgs(signet.ResourceServer{})
	if err != nil || args[2] != "[]" {
		t.Errorf("ResourceServerArgs(zero) scopes = %v, %v", args[2], err)
	}
}

func TestRequiredExpiry(t *testing.T) {
	for name, err := range map[string]error{
		"login session": second(sqlcodec.SessionArgs(signet.LoginSession{})),
		"auth code":     second(sqlcodec.AuthCodeArgs(signet.AuthCode{})),
		"refresh token": second(sqlcodec.RefreshTokenArgs(signet.RefreshToken{})),
		"admin session": second(sqlcodec.AdminSessionArgs(signet.AdminSession{})),
	} {
		if !errors.Is(err, signet.ErrInvalid) {
			t.Errorf("%s without expiry: %v, want EINVALID", name, err)
		}
	}
}

func second(_ []any, err error) error { return err }
