package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/signet-auth/signet"
)

var _ signet.UserStore = (*DB)(nil)

const userColumns = `tenant, id, email, email_verified, name, password_hash, blocked, last_login,
	logins_count, created_at, updated_at`

// CreateUser stores a new user as given (the caller sets its timestamps and
// normalizes its email).
// Returns ErrUserExists if the email is taken in the tenant, ErrConflict if
// the id is, and ErrTenantNotFound if the tenant does not exist.
func (db *DB) CreateUser(ctx context.Context, u signet.User) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		ts, err := times(u.LastLogin, u.CreatedAt, u.UpdatedAt)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.Tenant, u.ID, u.Email, u.EmailVerified, u.Name, u.PasswordHash, u.Blocked, ts[0], u.LoginsCount, ts[1], ts[2])
		return userConstraint(err, u)
	})
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, err)
	}
	return nil
}

// userConstraint translates a constraint violation on the users table.
func userConstraint(err error, u signet.User) error {
	switch {
	case err == nil:
		return nil
	case isForeignKey(err):
		return signet.ErrTenantNotFound
	case isConstraint(err) && strings.Contains(err.Error(), "users.email"):
		return signet.ErrUserExists
	case isConstraint(err):
		return signet.Errorf(signet.ECONFLICT, "A user with id %q already exists.", u.ID)
	}
	return err
}

// User returns one user.
// Returns ErrUserNotFound if the tenant has no such user.
func (db *DB) User(ctx context.Context, tenant, id string) (signet.User, error) {
	us, err := queryUsers(ctx, db.cached, `WHERE tenant = ? AND id = ?`, tenant, id)
	u, err := one(us, err, signet.ErrUserNotFound)
	if err != nil {
		return signet.User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return u, nil
}

// UserByEmail returns the user with a normalized email.
// Returns ErrUserNotFound if the tenant has no such user.
func (db *DB) UserByEmail(ctx context.Context, tenant, email string) (signet.User, error) {
	us, err := queryUsers(ctx, db.cached, `WHERE tenant = ? AND email = ?`, tenant, email)
	u, err := one(us, err, signet.ErrUserNotFound)
	if err != nil {
		return signet.User{}, fmt.Errorf("user by email: %w", err)
	}
	return u, nil
}

// Users returns a page of a tenant's users ordered by creation, and the
// number of users matching f.
func (db *DB) Users(ctx context.Context, tenant string, f signet.UserFilter) ([]signet.User, int, error) {
	where, args := `WHERE tenant = ?`, []any{tenant}
	if f.Email != "" {
		where += ` AND email = ?`
		args = append(args, f.Email)
	}
	limit, offset := f.Limit()
	var (
		us    []signet.User
		total int
	)
	err := db.inRead(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users `+where, args...).Scan(&total); err != nil {
			return err
		}
		var err error
		us, err = queryUsers(ctx, tx, where+` ORDER BY seq LIMIT ? OFFSET ?`, append(args, limit, offset)...)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("users: %w", err)
	}
	return us, total, nil
}

// UpdateUser applies fn to a user in one transaction and stores the result;
// fn cannot change the tenant or id.
// Returns fn's error as it is, ErrUserNotFound, and ErrUserExists if the new
// email is taken.
func (db *DB) UpdateUser(ctx context.Context, tenant, id string, fn func(*signet.User) error) (signet.User, error) {
	u, err := update(ctx, db, "update user "+id,
		func(tx *sql.Tx) (signet.User, error) {
			us, err := queryUsers(ctx, tx, `WHERE tenant = ? AND id = ?`, tenant, id)
			return one(us, err, signet.ErrUserNotFound)
		},
		fn,
		func(tx *sql.Tx, u *signet.User) error {
			u.Tenant, u.ID = tenant, id
			ts, err := times(u.LastLogin, u.CreatedAt, u.UpdatedAt)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE users SET email = ?, email_verified = ?, name = ?, password_hash = ?,
				blocked = ?, last_login = ?, logins_count = ?, created_at = ?, updated_at = ? WHERE tenant = ? AND id = ?`,
				u.Email, u.EmailVerified, u.Name, u.PasswordHash, u.Blocked, ts[0], u.LoginsCount, ts[1], ts[2], tenant, id)
			return userConstraint(err, *u)
		})
	if err != nil {
		return signet.User{}, err
	}
	u.LastLogin, u.CreatedAt, u.UpdatedAt = utc(u.LastLogin), utc(u.CreatedAt), utc(u.UpdatedAt)
	return u, nil
}

// EndUserSessions deletes a user's sessions and revokes their refresh
// tokens, in one transaction.
func (db *DB) EndUserSessions(ctx context.Context, tenant, id string, now time.Time) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_sessions WHERE tenant = ? AND user_id = ?`, tenant, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE tenant = ? AND user_id = ? AND revoked_at IS NULL`,
			now.UnixNano(), tenant, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("end sessions of user %s: %w", id, err)
	}
	return nil
}

// DeleteUser deletes a user; their sessions, codes and refresh tokens go
// with them (foreign keys cascade).
// Returns ErrUserNotFound if the tenant has no such user.
func (db *DB) DeleteUser(ctx context.Context, tenant, id string) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		return deleteOne(ctx, tx, signet.ErrUserNotFound, `DELETE FROM users WHERE tenant = ? AND id = ?`, tenant, id)
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

func queryUsers(ctx context.Context, q querier, where string, args ...any) ([]signet.User, error) {
	if !strings.Contains(where, "ORDER BY") {
		where += ` ORDER BY seq`
	}
	rows, err := q.QueryContext(ctx, `SELECT `+userColumns+` FROM users `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var us []signet.User
	for rows.Next() {
		var (
			u                      signet.User
			last, created, updated sql.NullInt64
		)
		if err := rows.Scan(&u.Tenant, &u.ID, &u.Email, &u.EmailVerified, &u.Name, &u.PasswordHash, &u.Blocked,
			&last, &u.LoginsCount, &created, &updated); err != nil {
			return nil, err
		}
		u.LastLogin, u.CreatedAt, u.UpdatedAt = decodeTime(last), decodeTime(created), decodeTime(updated)
		us = append(us, u)
	}
	return us, errors.Join(rows.Err(), rows.Close())
}

// userRef checks that a user of the tenant exists, for the flow's rows.
// Returns ErrTenantNotFound or ErrUserNotFound.
func userRef(ctx context.Context, tx *sql.Tx, tenant, userID string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE tenant = ? AND id = ?`, tenant, userID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if ok, err := tenantExists(ctx, tx, tenant); err != nil {
		return err
	} else if !ok {
		return signet.ErrTenantNotFound
	}
	return signet.ErrUserNotFound
}

// expiry encodes a required expiry time.
// Returns EINVALID for the zero time.
func expiry(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, signet.Errorf(signet.EINVALID, "An expiry time is required.")
	}
	return encodeTime(t)
}

// CreateSession stores a login session.
// Returns ErrTenantNotFound, ErrUserNotFound, or ErrConflict if the id digest is taken.
func (db *DB) CreateSession(ctx context.Context, s signet.LoginSession) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		if err := userRef(ctx, tx, s.Tenant, s.UserID); err != nil {
			return err
		}
		exp, err := expiry(s.ExpiresAt)
		if err != nil {
			return err
		}
		auth, err := encodeTime(s.AuthTime)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO login_sessions (tenant, id_hash, user_id, auth_time, expires_at)
			VALUES (?, ?, ?, ?, ?)`, s.Tenant, s.IDHash, s.UserID, auth, exp)
		if isConstraint(err) {
			return signet.Errorf(signet.ECONFLICT, "The session id is taken.")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session returns the unexpired session with the id digest.
// Returns an error matching ErrNotFound if there is none.
func (db *DB) Session(ctx context.Context, tenant string, idHash []byte, now time.Time) (signet.LoginSession, error) {
	s := signet.LoginSession{Tenant: tenant, IDHash: idHash}
	var auth, exp sql.NullInt64
	err := db.cached.QueryRowContext(ctx, `SELECT user_id, auth_time, expires_at FROM login_sessions
		WHERE tenant = ? AND id_hash = ?`, tenant, idHash).Scan(&s.UserID, &auth, &exp)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return signet.LoginSession{}, signet.ErrSessionNotFound
	case err != nil:
		return signet.LoginSession{}, fmt.Errorf("session: %w", err)
	}
	s.AuthTime, s.ExpiresAt = decodeTime(auth), decodeTime(exp)
	if s.Expired(now) {
		return signet.LoginSession{}, signet.ErrSessionNotFound
	}
	return s, nil
}

// DeleteSession ends a session; an unknown one is not an error.
func (db *DB) DeleteSession(ctx context.Context, tenant string, idHash []byte) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM login_sessions WHERE tenant = ? AND id_hash = ?`, tenant, idHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// CreateAuthCode stores a new authorization code.
// Returns ErrTenantNotFound, ErrUserNotFound, or ErrConflict if the digest is taken.
func (db *DB) CreateAuthCode(ctx context.Context, c signet.AuthCode) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		if err := userRef(ctx, tx, c.Tenant, c.UserID); err != nil {
			return err
		}
		exp, err := expiry(c.ExpiresAt)
		if err != nil {
			return err
		}
		ts, err := times(c.AuthTime, c.UsedAt)
		if err != nil {
			return err
		}
		scope, err := json.Marshal(nonNil(c.Scope))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO auth_codes (tenant, code_hash, client_id, redirect_uri, user_id,
			scope, audience, nonce, code_challenge, auth_time, family_id, expires_at, used_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Tenant, c.CodeHash, c.ClientID, c.RedirectURI, c.UserID, string(scope), c.Audience, c.Nonce,
			c.CodeChallenge, ts[0], c.FamilyID, exp, ts[1])
		if isConstraint(err) {
			return signet.Errorf(signet.ECONFLICT, "The authorization code is taken.")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create authorization code: %w", err)
	}
	return nil
}

// RedeemAuthCode marks a code used and returns it, in one write transaction.
// Returns ErrCodeInvalid for an unknown or expired code, and ErrCodeReused
// with the stored code for one already used.
func (db *DB) RedeemAuthCode(ctx context.Context, tenant string, codeHash []byte, now time.Time) (signet.AuthCode, error) {
	var c signet.AuthCode
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		var (
			scope           string
			auth, exp, used sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT client_id, redirect_uri, user_id, scope, audience, nonce,
			code_challenge, auth_time, family_id, expires_at, used_at FROM auth_codes WHERE tenant = ? AND code_hash = ?`,
			tenant, codeHash).Scan(&c.ClientID, &c.RedirectURI, &c.UserID, &scope, &c.Audience, &c.Nonce,
			&c.CodeChallenge, &auth, &c.FamilyID, &exp, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return signet.ErrCodeInvalid
		}
		if err != nil {
			return err
		}
		c.Tenant, c.CodeHash = tenant, codeHash
		c.AuthTime, c.ExpiresAt, c.UsedAt = decodeTime(auth), decodeTime(exp), decodeTime(used)
		if err := json.Unmarshal([]byte(scope), &c.Scope); err != nil {
			return fmt.Errorf("scope: %w", err)
		}
		if err := c.Redeem(now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE auth_codes SET used_at = ? WHERE tenant = ? AND code_hash = ?`,
			c.UsedAt.UnixNano(), tenant, codeHash)
		return err
	})
	switch {
	case errors.Is(err, signet.ErrCodeReused):
		return c, err
	case err != nil:
		return signet.AuthCode{}, fmt.Errorf("redeem authorization code: %w", err)
	}
	return c, nil
}

const refreshColumns = `tenant, token_hash, family_id, client_id, user_id, scope, audience, auth_time, created_at,
	expires_at, used_at, revoked_at`

// CreateRefreshToken stores the first token of a family.
// Returns ErrTenantNotFound, ErrUserNotFound, or ErrConflict if the digest is taken.
func (db *DB) CreateRefreshToken(ctx context.Context, t signet.RefreshToken) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		if err := userRef(ctx, tx, t.Tenant, t.UserID); err != nil {
			return err
		}
		return insertRefresh(ctx, tx, t)
	})
	if err != nil {
		return fmt.Errorf("create refresh token: %w", err)
	}
	return nil
}

func insertRefresh(ctx context.Context, tx *sql.Tx, t signet.RefreshToken) error {
	exp, err := expiry(t.ExpiresAt)
	if err != nil {
		return err
	}
	ts, err := times(t.AuthTime, t.CreatedAt, t.UsedAt, t.RevokedAt)
	if err != nil {
		return err
	}
	scope, err := json.Marshal(nonNil(t.Scope))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO refresh_tokens (`+refreshColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Tenant, t.TokenHash, t.FamilyID, t.ClientID, t.UserID, string(scope), t.Audience, ts[0], ts[1], exp, ts[2], ts[3])
	if isConstraint(err) {
		return signet.Errorf(signet.ECONFLICT, "The refresh token is taken.")
	}
	return err
}

// RefreshToken returns a token by digest, in any state.
// Returns ErrRefreshTokenInvalid if there is none.
func (db *DB) RefreshToken(ctx context.Context, tenant string, tokenHash []byte) (signet.RefreshToken, error) {
	t, err := getRefresh(ctx, db.cached, tenant, tokenHash)
	if err != nil {
		return signet.RefreshToken{}, fmt.Errorf("refresh token: %w", err)
	}
	return t, nil
}

func getRefresh(ctx context.Context, q querier, tenant string, tokenHash []byte) (signet.RefreshToken, error) {
	var (
		t                                 signet.RefreshToken
		scope                             string
		auth, created, exp, used, revoked sql.NullInt64
	)
	err := q.QueryRowContext(ctx, `SELECT `+refreshColumns+` FROM refresh_tokens WHERE tenant = ? AND token_hash = ?`,
		tenant, tokenHash).Scan(&t.Tenant, &t.TokenHash, &t.FamilyID, &t.ClientID, &t.UserID, &scope, &t.Audience,
		&auth, &created, &exp, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return signet.RefreshToken{}, signet.ErrRefreshTokenInvalid
	}
	if err != nil {
		return signet.RefreshToken{}, err
	}
	if err := json.Unmarshal([]byte(scope), &t.Scope); err != nil {
		return signet.RefreshToken{}, fmt.Errorf("scope: %w", err)
	}
	t.AuthTime, t.CreatedAt, t.ExpiresAt = decodeTime(auth), decodeTime(created), decodeTime(exp)
	t.UsedAt, t.RevokedAt = decodeTime(used), decodeTime(revoked)
	return t, nil
}

// RotateRefreshToken uses up a token and stores its successor in one write
// transaction, or revokes the family if the token was used or revoked.
// Returns ErrRefreshTokenInvalid for an unknown or expired token and
// ErrRefreshTokenReused for a reused one.
func (db *DB) RotateRefreshToken(ctx context.Context, tenant string, oldHash []byte, next signet.RefreshToken, now time.Time) (signet.RefreshToken, error) {
	var reused bool
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		old, err := getRefresh(ctx, tx, tenant, oldHash)
		if err != nil {
			return err
		}
		next, err = old.Rotate(now, next)
		if errors.Is(err, signet.ErrRefreshTokenReused) {
			reused = true
			return revokeFamily(ctx, tx, tenant, old.FamilyID, now)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE tenant = ? AND token_hash = ?`,
			old.UsedAt.UnixNano(), tenant, oldHash); err != nil {
			return err
		}
		return insertRefresh(ctx, tx, next)
	})
	switch {
	case err != nil:
		return signet.RefreshToken{}, fmt.Errorf("rotate refresh token: %w", err)
	case reused:
		return signet.RefreshToken{}, signet.ErrRefreshTokenReused
	}
	next.AuthTime, next.CreatedAt, next.ExpiresAt = utc(next.AuthTime), utc(next.CreatedAt), utc(next.ExpiresAt)
	return next, nil
}

func revokeFamily(ctx context.Context, tx *sql.Tx, tenant, familyID string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE tenant = ? AND family_id = ? AND revoked_at IS NULL`,
		now.UnixNano(), tenant, familyID)
	return err
}

// RevokeRefreshFamily revokes every token of a family.
func (db *DB) RevokeRefreshFamily(ctx context.Context, tenant, familyID string, now time.Time) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error { return revokeFamily(ctx, tx, tenant, familyID, now) })
	if err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}

// PurgeExpired deletes sessions, codes and refresh tokens that expired
// before now.
func (db *DB) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"login_sessions", "auth_codes", "refresh_tokens"} {
			res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE expires_at < ?`, now.UnixNano())
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired: %w", err)
	}
	return total, nil
}
