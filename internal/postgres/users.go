package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

var _ signet.UserStore = (*DB)(nil)

// userConstraint translates a constraint violation on the users table.
func userConstraint(err error, u signet.User) error {
	switch {
	case err == nil:
		return nil
	case isForeignKey(err):
		return signet.ErrTenantNotFound
	case isUnique(err, "users_email"):
		return signet.ErrUserExists
	case isConstraint(err):
		return signet.Errorf(signet.ECONFLICT, "A user with id %q already exists.", u.ID)
	}
	return err
}

// CreateUser stores a new user as given (the caller sets its timestamps and
// normalizes its email).
// Returns ErrUserExists if the email is taken in the tenant, ErrConflict if
// the id is, and ErrTenantNotFound if the tenant does not exist.
func (db *DB) CreateUser(ctx context.Context, u signet.User) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		args, err := sqlcodec.UserArgs(u)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO users (`+sqlcodec.UserColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, args...)
		return userConstraint(err, u)
	})
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, err)
	}
	return nil
}

// User returns one user.
// Returns ErrUserNotFound if the tenant has no such user.
func (db *DB) User(ctx context.Context, tenant, id string) (signet.User, error) {
	us, err := queryUsers(ctx, db.reads, `WHERE tenant = $1 AND id = $2`, tenant, id)
	u, err := one(us, err, signet.ErrUserNotFound)
	if err != nil {
		return signet.User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return u, nil
}

// UserByEmail returns the user with a normalized email.
// Returns ErrUserNotFound if the tenant has no such user.
func (db *DB) UserByEmail(ctx context.Context, tenant, email string) (signet.User, error) {
	us, err := queryUsers(ctx, db.reads, `WHERE tenant = $1 AND email = $2`, tenant, email)
	u, err := one(us, err, signet.ErrUserNotFound)
	if err != nil {
		return signet.User{}, fmt.Errorf("user by email: %w", err)
	}
	return u, nil
}

// Users returns a page of a tenant's users ordered by creation, and the
// number of users matching f, from one snapshot.
func (db *DB) Users(ctx context.Context, tenant string, f signet.UserFilter) ([]signet.User, int, error) {
	where, args := `WHERE tenant = $1`, []any{tenant}
	if f.Email != "" {
		where += ` AND email = $2`
		args = append(args, f.Email)
	}
	limit, offset := f.Limit()
	var (
		us    []signet.User
		total int
	)
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM users `+where, args...).Scan(&total); err != nil {
			return err
		}
		n := len(args)
		var err error
		us, err = queryUsers(ctx, tx, fmt.Sprintf(`%s ORDER BY seq LIMIT $%d OFFSET $%d`, where, n+1, n+2),
			append(args, limit, offset)...)
		return err
	})
	switch {
	case isBadText(err):
		return nil, 0, nil // such text is never stored: nothing matches
	case err != nil:
		return nil, 0, fmt.Errorf("users: %w", err)
	}
	return us, total, nil
}

// UpdateUser applies fn to a user in one transaction, the row locked, and
// stores the result; fn cannot change the tenant or id.
// Returns fn's error as it is, ErrUserNotFound, and ErrUserExists if the new
// email is taken.
func (db *DB) UpdateUser(ctx context.Context, tenant, id string, fn func(*signet.User) error) (signet.User, error) {
	u, err := update(ctx, db, "update user "+id,
		func(tx pgx.Tx) (signet.User, error) {
			us, err := queryUsers(ctx, tx, `WHERE tenant = $1 AND id = $2 FOR UPDATE`, tenant, id)
			return one(us, err, signet.ErrUserNotFound)
		},
		fn,
		func(tx pgx.Tx, u *signet.User) error {
			u.Tenant, u.ID = tenant, id
			args, err := sqlcodec.UserArgs(*u)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE users SET email = $1, email_verified = $2, name = $3, password_hash = $4,
				blocked = $5, last_login = $6, logins_count = $7, created_at = $8, updated_at = $9
				WHERE tenant = $10 AND id = $11`, args...)
			return userConstraint(err, *u)
		})
	if err != nil {
		return signet.User{}, err
	}
	u.LastLogin, u.CreatedAt, u.UpdatedAt = sqlcodec.UTC(u.LastLogin), sqlcodec.UTC(u.CreatedAt), sqlcodec.UTC(u.UpdatedAt)
	return u, nil
}

// DeleteUser deletes a user; their sessions, codes and refresh tokens go
// with them (foreign keys cascade).
// Returns ErrUserNotFound if the tenant has no such user.
func (db *DB) DeleteUser(ctx context.Context, tenant, id string) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		return deleteOne(ctx, tx, signet.ErrUserNotFound, `DELETE FROM users WHERE tenant = $1 AND id = $2`, tenant, id)
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

func queryUsers(ctx context.Context, q querier, rest string, args ...any) ([]signet.User, error) {
	return queryAll(ctx, q, `SELECT `+sqlcodec.UserColumns+` FROM users `+rest, args, sqlcodec.ScanUser)
}

// userRef checks that a user of the tenant exists, for the flow's rows.
// Returns ErrTenantNotFound or ErrUserNotFound.
func userRef(ctx context.Context, tx pgx.Tx, tenant, userID string) error {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE tenant = $1 AND id = $2)`, tenant, userID).Scan(&ok)
	if isBadText(err) {
		return signet.ErrUserNotFound
	}
	if err != nil || ok {
		return err
	}
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tenants WHERE name = $1)`, tenant).Scan(&ok)
	if err != nil {
		return err
	}
	if !ok {
		return signet.ErrTenantNotFound
	}
	return signet.ErrUserNotFound
}

// CreateSession stores a login session.
// Returns ErrTenantNotFound, ErrUserNotFound, or ErrConflict if the id digest is taken.
func (db *DB) CreateSession(ctx context.Context, s signet.LoginSession) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := userRef(ctx, tx, s.Tenant, s.UserID); err != nil {
			return err
		}
		args, err := sqlcodec.SessionArgs(s)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO login_sessions (`+sqlcodec.SessionColumns+`) VALUES ($1, $2, $3, $4, $5)`, args...)
		switch {
		case isForeignKey(err):
			return signet.ErrUserNotFound // deleted meanwhile
		case isConstraint(err):
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
	var s signet.LoginSession
	err := db.read(ctx, func(ctx context.Context) error {
		var err error
		s, err = sqlcodec.ScanSession(db.pool.QueryRow(ctx, `SELECT `+sqlcodec.SessionColumns+`
			FROM login_sessions WHERE tenant = $1 AND id_hash = $2`, tenant, idHash))
		return err
	})
	switch {
	case missing(err):
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
	err := db.read(ctx, func(ctx context.Context) error {
		_, err := db.pool.Exec(ctx, `DELETE FROM login_sessions WHERE tenant = $1 AND id_hash = $2`, tenant, idHash)
		return err
	})
	if err != nil && !isBadText(err) {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// EndUserSessions deletes a user's sessions and revokes their refresh
// tokens, in one transaction.
func (db *DB) EndUserSessions(ctx context.Context, tenant, id string, now time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM login_sessions WHERE tenant = $1 AND user_id = $2`, tenant, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $3 WHERE tenant = $1 AND user_id = $2 AND revoked_at IS NULL`,
			tenant, id, now.UnixNano())
		return err
	})
	if err != nil && !errors.Is(err, signet.ErrInvalid) {
		return fmt.Errorf("end sessions of user %s: %w", id, err)
	}
	return nil
}

// CreateAuthCode stores a new authorization code.
// Returns ErrTenantNotFound, ErrUserNotFound, or ErrConflict if the digest is taken.
func (db *DB) CreateAuthCode(ctx context.Context, c signet.AuthCode) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := userRef(ctx, tx, c.Tenant, c.UserID); err != nil {
			return err
		}
		args, err := sqlcodec.AuthCodeArgs(c)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO auth_codes (`+sqlcodec.AuthCodeColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, args...)
		switch {
		case isForeignKey(err):
			return signet.ErrUserNotFound
		case isConstraint(err):
			return signet.Errorf(signet.ECONFLICT, "The authorization code is taken.")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create authorization code: %w", err)
	}
	return nil
}

// RedeemAuthCode marks a code used and returns it; the row is locked, so of
// concurrent calls one redeems and the others see it used.
// Returns ErrCodeInvalid for an unknown or expired code, and ErrCodeReused
// with the stored code for one already used.
func (db *DB) RedeemAuthCode(ctx context.Context, tenant string, codeHash []byte, now time.Time) (signet.AuthCode, error) {
	var c signet.AuthCode
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = sqlcodec.ScanAuthCode(tx.QueryRow(ctx, `SELECT `+sqlcodec.AuthCodeColumns+`
			FROM auth_codes WHERE tenant = $1 AND code_hash = $2 FOR UPDATE`, tenant, codeHash))
		if missing(err) {
			return signet.ErrCodeInvalid
		}
		if err != nil {
			return err
		}
		if err := c.Redeem(now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE auth_codes SET used_at = $3 WHERE tenant = $1 AND code_hash = $2`,
			tenant, codeHash, c.UsedAt.UnixNano())
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
	err := db.inTx(ctx, func(tx pgx.Tx) error {
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

func insertRefresh(ctx context.Context, tx pgx.Tx, t signet.RefreshToken) error {
	args, err := sqlcodec.RefreshTokenArgs(t)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO refresh_tokens (`+sqlcodec.RefreshTokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, args...)
	switch {
	case isForeignKey(err):
		return signet.ErrUserNotFound
	case isConstraint(err):
		return signet.Errorf(signet.ECONFLICT, "The refresh token is taken.")
	}
	return err
}

// RefreshToken returns a token by digest, in any state.
// Returns ErrRefreshTokenInvalid if there is none.
func (db *DB) RefreshToken(ctx context.Context, tenant string, tokenHash []byte) (signet.RefreshToken, error) {
	var t signet.RefreshToken
	err := db.read(ctx, func(ctx context.Context) error {
		var err error
		t, err = getRefresh(ctx, db.pool, tenant, tokenHash, "")
		return err
	})
	if err != nil {
		return signet.RefreshToken{}, fmt.Errorf("refresh token: %w", err)
	}
	return t, nil
}

// getRefresh reads one token; lock is "" or a locking clause.
func getRefresh(ctx context.Context, q querier, tenant string, tokenHash []byte, lock string) (signet.RefreshToken, error) {
	t, err := sqlcodec.ScanRefreshToken(q.QueryRow(ctx, `SELECT `+sqlcodec.RefreshTokenColumns+`
		FROM refresh_tokens WHERE tenant = $1 AND token_hash = $2 `+lock, tenant, tokenHash))
	if missing(err) {
		return signet.RefreshToken{}, signet.ErrRefreshTokenInvalid
	}
	return t, err
}

// RotateRefreshToken uses up a token (its row locked) and stores its
// successor in one transaction, or revokes the family if the token was used
// or revoked.
// Returns ErrRefreshTokenInvalid for an unknown or expired token and
// ErrRefreshTokenReused for a reused one.
func (db *DB) RotateRefreshToken(ctx context.Context, tenant string, oldHash []byte, next signet.RefreshToken, now time.Time) (signet.RefreshToken, error) {
	var reused bool
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		old, err := getRefresh(ctx, tx, tenant, oldHash, "FOR UPDATE")
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
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = $3 WHERE tenant = $1 AND token_hash = $2`,
			tenant, oldHash, old.UsedAt.UnixNano()); err != nil {
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

func revokeFamily(ctx context.Context, tx pgx.Tx, tenant, familyID string, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $3 WHERE tenant = $1 AND family_id = $2 AND revoked_at IS NULL`,
		tenant, familyID, now.UnixNano())
	return err
}

// RevokeRefreshFamily revokes every token of a family.
func (db *DB) RevokeRefreshFamily(ctx context.Context, tenant, familyID string, now time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error { return revokeFamily(ctx, tx, tenant, familyID, now) })
	if err != nil && !errors.Is(err, signet.ErrInvalid) {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}

// PurgeExpired deletes sessions, codes and refresh tokens that expired
// before now.
func (db *DB) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		for _, table := range []string{"login_sessions", "auth_codes", "refresh_tokens"} {
			tag, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE expires_at < $1`, now.UnixNano())
			if err != nil {
				return err
			}
			total += tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired: %w", err)
	}
	return total, nil
}
