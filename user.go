package signet

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// User is a person who signs in to a tenant's applications: Auth0's user of
// the "Username-Password-Authentication" database connection.
type User struct {
	Tenant string
	// ID is Auth0's user_id, "auth0|" and 24 hex digits; the "sub" of the
	// user's tokens.
	ID string
	// Email is unique per tenant, stored as NormalizeEmail returns it.
	Email         string
	EmailVerified bool
	Name          string
	// PasswordHash is the Argon2id PHC string of internal/password; never
	// shown anywhere.
	PasswordHash string
	// Blocked users cannot sign in, refresh tokens or call /userinfo.
	Blocked     bool
	LastLogin   time.Time
	LoginsCount int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// LoginSession is a user's signed-in browser session with one tenant. The
// clear session id lives only in the browser's cookie.
type LoginSession struct {
	Tenant string
	// IDHash is the SHA-256 digest of the session id.
	IDHash   []byte
	UserID   string
	AuthTime time.Time
	// ExpiresAt bounds the session; it is never extended.
	ExpiresAt time.Time
}

// AuthCode is an OAuth 2.0 authorization code: single use, short-lived, and
// bound to the client, redirect URI and PKCE challenge of its request.
type AuthCode struct {
	Tenant string
	// CodeHash is the SHA-256 digest of the code.
	CodeHash    []byte
	ClientID    string
	RedirectURI string
	UserID      string
	// Scope is what was granted, in request order.
	Scope    []string
	Audience string
	Nonce    string
	// CodeChallenge is the S256 PKCE challenge; "" when the client sent none.
	CodeChallenge string
	AuthTime      time.Time
	// FamilyID names the refresh-token family the code starts (if offline
	// access was granted), so that a replayed code can revoke it.
	FamilyID  string
	ExpiresAt time.Time
	// UsedAt is when the code was redeemed; zero while it is unused.
	UsedAt time.Time
}

// RefreshToken is one member of a rotating refresh-token family: each
// exchange uses a token up and issues its successor; presenting a used token
// again revokes the whole family.
type RefreshToken struct {
	Tenant string
	// TokenHash is the SHA-256 digest of the token.
	TokenHash []byte
	FamilyID  string
	ClientID  string
	UserID    string
	Scope     []string
	Audience  string
	AuthTime  time.Time
	CreatedAt time.Time
	// ExpiresAt is the family's absolute end, inherited by every successor.
	ExpiresAt time.Time
	// UsedAt is when the token was exchanged for its successor.
	UsedAt time.Time
	// RevokedAt is when the family was revoked (reuse, logout of the user,
	// deletion of the client or user).
	RevokedAt time.Time
}

// Expired reports whether the session has ended at now: at ExpiresAt.
func (s LoginSession) Expired(now time.Time) bool { return !now.Before(s.ExpiresAt) }

// Redeem marks the code used at now (in UTC, as stored back).
// Returns ErrCodeReused if it was redeemed before and ErrCodeInvalid if it
// has expired at now; the code is unchanged then.
func (c *AuthCode) Redeem(now time.Time) error {
	switch {
	case !c.UsedAt.IsZero():
		return ErrCodeReused
	case !c.ExpiresAt.After(now):
		return ErrCodeInvalid
	}
	c.UsedAt = now.UTC()
	return nil
}

// Rotate uses the token up at now (UsedAt, in UTC) and returns next made
// its successor: in the token's tenant and family, with the token's
// ExpiresAt, neither used nor revoked. It is the rule of
// UserStore.RotateRefreshToken, which stores both in one transaction.
// Returns ErrRefreshTokenReused if the token was used before or its family
// revoked (the caller then revokes the whole family and keeps that), and
// ErrRefreshTokenInvalid if it has expired at now; the token is unchanged
// then.
func (t *RefreshToken) Rotate(now time.Time, next RefreshToken) (RefreshToken, error) {
	switch {
	case !t.UsedAt.IsZero() || !t.RevokedAt.IsZero():
		return RefreshToken{}, ErrRefreshTokenReused
	case !t.ExpiresAt.After(now):
		return RefreshToken{}, ErrRefreshTokenInvalid
	}
	t.UsedAt = now.UTC()
	next.Tenant, next.FamilyID, next.ExpiresAt = t.Tenant, t.FamilyID, t.ExpiresAt
	next.UsedAt, next.RevokedAt = time.Time{}, time.Time{}
	return next, nil
}

// UserFilter narrows UserStore.Users. Zero fields match everything.
type UserFilter struct {
	// Email matches the normalized email exactly.
	Email string
	// Page and PerPage paginate (0-based page); PerPage 0 means 50.
	Page, PerPage int
}

// Limit returns the page f asks for as a row count and the number of rows
// before it: PerPage rows (50 if PerPage is not positive) after Page pages
// (none if Page is negative).
func (f UserFilter) Limit() (limit, offset int) {
	limit = f.PerPage
	if limit <= 0 {
		limit = 50
	}
	return limit, max(f.Page, 0) * limit
}

// UserStore persists users and the state of the OpenID Connect flow: login
// sessions, authorization codes and refresh tokens. Every replica shares it,
// so a code issued on one replica is redeemed on another. Backends pass
// storetest.RunUsers.
//
// Secrets (session ids, codes, refresh tokens) are stored only as SHA-256
// digests; lookups take the digest.
type UserStore interface {
	// CreateUser stores a new user. Returns ErrUserExists if the email is
	// taken in the tenant, ErrConflict if the id is, ErrTenantNotFound for an
	// unknown tenant.
	CreateUser(ctx context.Context, u User) error
	// User returns one user. Returns ErrUserNotFound.
	User(ctx context.Context, tenant, id string) (User, error)
	// UserByEmail returns the user with a normalized email. Returns ErrUserNotFound.
	UserByEmail(ctx context.Context, tenant, email string) (User, error)
	// Users returns a tenant's users ordered by creation, filtered by f, and
	// the number of users matching f over all pages.
	Users(ctx context.Context, tenant string, f UserFilter) ([]User, int, error)
	// UpdateUser applies fn to a user in one transaction (fn cannot change the
	// tenant or id). Returns fn's error as it is, ErrUserNotFound, and
	// ErrUserExists if the new email is taken.
	UpdateUser(ctx context.Context, tenant, id string, fn func(*User) error) (User, error)
	// DeleteUser deletes a user with their sessions, codes and refresh
	// tokens. Returns ErrUserNotFound.
	DeleteUser(ctx context.Context, tenant, id string) error

	// CreateSession stores a login session. Returns ErrTenantNotFound or
	// ErrUserNotFound.
	CreateSession(ctx context.Context, s LoginSession) error
	// Session returns the session with the id digest if it has not expired
	// at now (LoginSession.Expired). Returns ErrSessionNotFound otherwise.
	Session(ctx context.Context, tenant string, idHash []byte, now time.Time) (LoginSession, error)
	// DeleteSession ends a session; ending an unknown one is not an error.
	DeleteSession(ctx context.Context, tenant string, idHash []byte) error
	// EndUserSessions ends every session of a user and revokes every refresh
	// token they hold, at now (after a password change or a block). An
	// unknown user is not an error.
	EndUserSessions(ctx context.Context, tenant, userID string, now time.Time) error

	// CreateAuthCode stores a new code. Returns ErrConflict if the digest is
	// taken, ErrTenantNotFound or ErrUserNotFound.
	CreateAuthCode(ctx context.Context, c AuthCode) error
	// RedeemAuthCode marks a code used at now and returns it, atomically: of
	// concurrent calls for one code at most one succeeds. Returns
	// ErrCodeInvalid for an unknown or expired code, and ErrCodeReused with
	// the stored code (its UsedAt set) for one already redeemed.
	RedeemAuthCode(ctx context.Context, tenant string, codeHash []byte, now time.Time) (AuthCode, error)

	// CreateRefreshToken stores the first token of a family. Returns
	// ErrConflict if the digest is taken, ErrTenantNotFound or ErrUserNotFound.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// RefreshToken returns a token by digest, in any state. Returns
	// ErrRefreshTokenInvalid if there is none.
	RefreshToken(ctx context.Context, tenant string, tokenHash []byte) (RefreshToken, error)
	// RotateRefreshToken uses up the token with digest oldHash at now and
	// stores next, its successor, in the same family and with the same
	// ExpiresAt (the store sets both), atomically. If the token was already
	// used or its family revoked, it revokes the whole family (and commits
	// that) and returns ErrRefreshTokenReused. Returns ErrRefreshTokenInvalid
	// for an unknown or expired token. Of concurrent calls for one token at
	// most one succeeds; the others revoke the family.
	RotateRefreshToken(ctx context.Context, tenant string, oldHash []byte, next RefreshToken, now time.Time) (RefreshToken, error)
	// RevokeRefreshFamily revokes every token of a family at now; an unknown
	// family is not an error.
	RevokeRefreshFamily(ctx context.Context, tenant, familyID string, now time.Time) error

	// PurgeExpired deletes sessions, codes and refresh tokens that expired
	// before now and returns how many rows went.
	PurgeExpired(ctx context.Context, now time.Time) (int64, error)
}

// Errors of UserStore and the OpenID Connect flow.
var (
	// ErrUserNotFound is returned for an unknown user.
	ErrUserNotFound = &Error{Code: ENOTFOUND, Message: "The user does not exist."}
	// ErrSessionNotFound is returned for an unknown or expired login session.
	ErrSessionNotFound = &Error{Code: ENOTFOUND, Message: "Session not found."}
	// ErrUserExists is returned when the email is taken in the tenant.
	ErrUserExists = &Error{Code: ECONFLICT, Message: "The user already exists."}
	// ErrCodeInvalid is returned for an unknown or expired authorization code.
	ErrCodeInvalid = &Error{Code: EINVALID, Message: "Invalid authorization code"}
	// ErrCodeReused is returned for an authorization code already redeemed.
	ErrCodeReused = &Error{Code: ECONFLICT, Message: "The authorization code has already been used"}
	// ErrRefreshTokenInvalid is returned for an unknown or expired refresh token.
	ErrRefreshTokenInvalid = &Error{Code: EINVALID, Message: "Unknown or invalid refresh token."}
	// ErrRefreshTokenReused is returned when a used or revoked refresh token
	// is presented; its family is revoked.
	ErrRefreshTokenReused = &Error{Code: ECONFLICT, Message: "The refresh token has already been used; every token of its family is revoked."}
)

// NormalizeEmail returns email trimmed and lower-cased, the form stored and
// compared. Returns EINVALID unless it looks like local@domain, at most 254
// bytes, without white space or control characters.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(e, '@')
	bad := len(e) > 254 || at < 1 || at == len(e)-1 || !utf8.ValidString(e) ||
		strings.ContainsFunc(e, func(r rune) bool { return r <= ' ' || r == 0x7f })
	if bad {
		return "", Errorf(EINVALID, "Invalid email: %q.", email)
	}
	return e, nil
}
