package sqlcodec

import (
	"encoding/json"
	"fmt"

	"github.com/signet-auth/signet"
)

// UserColumns are the columns of users: the ones an update sets, then
// tenant and id.
const UserColumns = `email, email_verified, name, password_hash, blocked, last_login, logins_count,
	created_at, updated_at, tenant, id`

// UserArgs returns u's UserColumns.
// Returns EINVALID for a time out of range.
func UserArgs(u signet.User) ([]any, error) {
	ts, err := EncodeTimes(u.LastLogin, u.CreatedAt, u.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return []any{u.Email, u.EmailVerified, u.Name, u.PasswordHash, u.Blocked, ts[0], u.LoginsCount,
		ts[1], ts[2], u.Tenant, u.ID}, nil
}

// ScanUser reads a row of UserColumns.
func ScanUser(r Scanner) (signet.User, error) {
	var (
		u                      signet.User
		last, created, updated *int64
	)
	if err := r.Scan(&u.Email, &u.EmailVerified, &u.Name, &u.PasswordHash, &u.Blocked, &last, &u.LoginsCount,
		&created, &updated, &u.Tenant, &u.ID); err != nil {
		return signet.User{}, err
	}
	u.LastLogin, u.CreatedAt, u.UpdatedAt = DecodeTime(last), DecodeTime(created), DecodeTime(updated)
	return u, nil
}

// SessionColumns are the columns of login_sessions.
const SessionColumns = `tenant, id_hash, user_id, auth_time, expires_at`

// SessionArgs returns s's SessionColumns.
// Returns EINVALID without an expiry or for a time out of range.
func SessionArgs(s signet.LoginSession) ([]any, error) {
	exp, err := expiry(s.ExpiresAt)
	if err != nil {
		return nil, err
	}
	auth, err := EncodeTime(s.AuthTime)
	if err != nil {
		return nil, err
	}
	return []any{s.Tenant, s.IDHash, s.UserID, auth, exp}, nil
}

// ScanSession reads a row of SessionColumns.
func ScanSession(r Scanner) (signet.LoginSession, error) {
	var (
		s         signet.LoginSession
		auth, exp *int64
	)
	if err := r.Scan(&s.Tenant, &s.IDHash, &s.UserID, &auth, &exp); err != nil {
		return signet.LoginSession{}, err
	}
	s.AuthTime, s.ExpiresAt = DecodeTime(auth), DecodeTime(exp)
	return s, nil
}

// AuthCodeColumns are the columns of auth_codes.
const AuthCodeColumns = `tenant, code_hash, client_id, redirect_uri, user_id, scope, audience, nonce,
	code_challenge, auth_time, family_id, expires_at, used_at`

// AuthCodeArgs returns c's AuthCodeColumns: its scope as JSON.
// Returns EINVALID without an expiry or for a time out of range.
func AuthCodeArgs(c signet.AuthCode) ([]any, error) {
	exp, err := expiry(c.ExpiresAt)
	if err != nil {
		return nil, err
	}
	ts, err := EncodeTimes(c.AuthTime, c.UsedAt)
	if err != nil {
		return nil, err
	}
	scope, err := list(c.Scope)
	if err != nil {
		return nil, err
	}
	return []any{c.Tenant, c.CodeHash, c.ClientID, c.RedirectURI, c.UserID, scope, c.Audience, c.Nonce,
		c.CodeChallenge, ts[0], c.FamilyID, exp, ts[1]}, nil
}

// ScanAuthCode reads a row of AuthCodeColumns.
func ScanAuthCode(r Scanner) (signet.AuthCode, error) {
	var (
		c               signet.AuthCode
		scope           string
		auth, exp, used *int64
	)
	if err := r.Scan(&c.Tenant, &c.CodeHash, &c.ClientID, &c.RedirectURI, &c.UserID, &scope, &c.Audience, &c.Nonce,
		&c.CodeChallenge, &auth, &c.FamilyID, &exp, &used); err != nil {
		return signet.AuthCode{}, err
	}
	if err := json.Unmarshal([]byte(scope), &c.Scope); err != nil {
		return signet.AuthCode{}, fmt.Errorf("scope: %w", err)
	}
	c.AuthTime, c.ExpiresAt, c.UsedAt = DecodeTime(auth), DecodeTime(exp), DecodeTime(used)
	return c, nil
}

// RefreshTokenColumns are the columns of refresh_tokens.
const RefreshTokenColumns = `tenant, token_hash, family_id, client_id, user_id, scope, audience, auth_time,
	created_at, expires_at, used_at, revoked_at`

// RefreshTokenArgs returns t's RefreshTokenColumns: its scope as JSON.
// Returns EINVALID without an expiry or for a time out of range.
func RefreshTokenArgs(t signet.RefreshToken) ([]any, error) {
	exp, err := expiry(t.ExpiresAt)
	if err != nil {
		return nil, err
	}
	ts, err := EncodeTimes(t.AuthTime, t.CreatedAt, t.UsedAt, t.RevokedAt)
	if err != nil {
		return nil, err
	}
	scope, err := list(t.Scope)
	if err != nil {
		return nil, err
	}
	return []any{t.Tenant, t.TokenHash, t.FamilyID, t.ClientID, t.UserID, scope, t.Audience,
		ts[0], ts[1], exp, ts[2], ts[3]}, nil
}

// ScanRefreshToken reads a row of RefreshTokenColumns.
func ScanRefreshToken(r Scanner) (signet.RefreshToken, error) {
	var (
		t                                 signet.RefreshToken
		scope                             string
		auth, created, exp, used, revoked *int64
	)
	if err := r.Scan(&t.Tenant, &t.TokenHash, &t.FamilyID, &t.ClientID, &t.UserID, &scope, &t.Audience,
		&auth, &created, &exp, &used, &revoked); err != nil {
		return signet.RefreshToken{}, err
	}
	if err := json.Unmarshal([]byte(scope), &t.Scope); err != nil {
		return signet.RefreshToken{}, fmt.Errorf("scope: %w", err)
	}
	t.AuthTime, t.CreatedAt, t.ExpiresAt = DecodeTime(auth), DecodeTime(created), DecodeTime(exp)
	t.UsedAt, t.RevokedAt = DecodeTime(used), DecodeTime(revoked)
	return t, nil
}

// AdminColumns are the columns of admins: the ones an update sets, then id.
// Grants live in admin_grants.
const AdminColumns = `email, password_hash, created_at, updated_at, last_sign_in_at, id`

// AdminArgs returns a's AdminColumns.
// Returns EINVALID for a time out of range.
func AdminArgs(a signet.Admin) ([]any, error) {
	ts, err := EncodeTimes(a.CreatedAt, a.UpdatedAt, a.LastSignInAt)
	if err != nil {
		return nil, err
	}
	return []any{a.Email, a.PasswordHash, ts[0], ts[1], ts[2], a.ID}, nil
}

// ScanAdmin reads a row of AdminColumns (without the admin's grants).
func ScanAdmin(r Scanner) (signet.Admin, error) {
	var (
		a                        signet.Admin
		created, updated, signIn *int64
	)
	if err := r.Scan(&a.Email, &a.PasswordHash, &created, &updated, &signIn, &a.ID); err != nil {
		return signet.Admin{}, err
	}
	a.CreatedAt, a.UpdatedAt, a.LastSignInAt = DecodeTime(created), DecodeTime(updated), DecodeTime(signIn)
	return a, nil
}

// AdminSessionColumns are the columns of admin_sessions: the three an
// update sets, the key id_hash, then admin_id and created_at, which never
// change. An update's arguments are the first four of AdminSessionArgs.
const AdminSessionColumns = `last_seen_at, expires_at, flash, id_hash, admin_id, created_at`

// AdminSessionArgs returns s's AdminSessionColumns.
// Returns EINVALID without an expiry or for a time out of range.
func AdminSessionArgs(s signet.AdminSession) ([]any, error) {
	ts, err := EncodeTimes(s.CreatedAt, s.LastSeenAt, s.ExpiresAt)
	if err != nil {
		return nil, err
	}
	if ts[2] == nil {
		return nil, signet.Errorf(signet.EINVALID, "A session needs an expiry time.")
	}
	return []any{ts[1], ts[2], s.Flash, s.IDHash, s.AdminID, ts[0]}, nil
}

// ScanAdminSession reads a row of AdminSessionColumns.
func ScanAdminSession(r Scanner) (signet.AdminSession, error) {
	var (
		s                      signet.AdminSession
		seen, expires, created *int64
	)
	if err := r.Scan(&seen, &expires, &s.Flash, &s.IDHash, &s.AdminID, &created); err != nil {
		return signet.AdminSession{}, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = DecodeTime(created), DecodeTime(seen), DecodeTime(expires)
	return s, nil
}
