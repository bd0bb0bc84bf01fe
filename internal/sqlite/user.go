package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

var _ signet.UserStore = (*DB)(nil)

// CreateUser stores a new user as given (the caller sets its timestamps and
// normalizes its email).
// Returns ErrUserExists if the email is taken in the tenant, ErrConflict if
// the id is, and ErrTenantNotFound if the tenant does not exist.
func (db *DB) CreateUser(ctx context.Context, u signet.User) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		args, err := sqlcodec.UserArgs(u)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO users (`+sqlcodec.UserColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
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
			args, err := sqlcodec.UserArgs(*u)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE users SET email = ?, email_verified = ?, name = ?, password_hash = ?,
				blocked = ?, last_login = ?, logins_count = ?, created_at = ?, updated_at = ? WHERE tenant = ? AND id = ?`, args...)
			return userConstraint(err, *u)
		})
	if err != nil {
		return signet.User{}, err
	}
	u.LastLogin, u.CreatedAt, u.UpdatedAt = sqlcodec.UTC(u.LastLogin), sqlcodec.UTC(u.CreatedAt), sqlcodec.UTC(u.UpdatedAt)
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
	return queryAll(ctx, q, `SELECT `+sqlcodec.UserColumns+` FROM users `+where, args, sqlcodec.ScanUser)
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

// CreateSession stores a login session.
// Returns ErrTenantNotFound, ErrUserNotFound, or ErrConflict if the id digest is taken.
func (db *DB) CreateSession(ctx context.Context, s signet.LoginSession) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		if err := userRef(ctx, tx, s.Tenant, s.UserID); err != nil {
			return err
		}
		args, err := sqlcodec.SessionArgs(s)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO login_sessions (`+sqlcodec.SessionColumns+`) VALUES (?, ?, ?, ?, ?)`, args...)
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
	s, err := sqlcodec.ScanSession(db.cached.QueryRowContext(ctx, `SELECT `+sqlcodec.SessionColumns+`
		FROM login_sessions WHERE tenant = ? AND id_hash = ?`, tenant, idHash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return signet.LoginSession{}, signet.ErrSessionNotFound
	case err != nil:
		return signet.LoginSession{}, fmt.Errorf("session: %w", err)
	}
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
		args, err := sqlcodec.AuthCodeArgs(c)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO auth_codes (`+sqlcodec.AuthCodeColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
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
		var err error
		c, err = sqlcodec.ScanAuthCode(tx.QueryRowContext(ctx, `SELECT `+sqlcodec.AuthCodeColumns+`
			FROM auth_codes WHERE tenant = ? AND code_hash = ?`, tenant, codeHash))
		if errors.Is(err, sql.ErrNoRows) {
			return signet.ErrCodeInvalid
		}
		if err != nil {
			return err
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
	args, err := sqlcodec.RefreshTokenArgs(t)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO refresh_tokens (`+sqlcodec.RefreshTokenColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
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
	t, err := sqlcodec.ScanRefreshToken(q.QueryRowContext(ctx, `SELECT `+sqlcodec.RefreshTokenColumns+`
		FROM refresh_tokens WHERE tenant = ? AND token_hash = ?`, tenant, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return signet.RefreshToken{}, signet.ErrRefreshTokenInvalid
	}
	return t, err
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
	next.AuthTime, next.CreatedAt, next.ExpiresAt = sqlcodec.UTC(next.AuthTime), sqlcodec.UTC(next.CreatedAt), sqlcodec.UTC(next.ExpiresAt)
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
