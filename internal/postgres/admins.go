package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

var _ signet.AdminStore = (*DB)(nil)

// CreateAdmin stores a new admin and its grants as given (the caller sets
// its times and normalises its e-mail).
// Returns ErrConflict if the id or e-mail is taken, and ErrTenantNotFound if
// a granted tenant does not exist.
func (db *DB) CreateAdmin(ctx context.Context, a signet.Admin) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		args, err := sqlcodec.AdminArgs(a)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO admins (`+sqlcodec.AdminColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`, args...)
		if isConstraint(err) {
			return signet.Errorf(signet.ECONFLICT, "An administrator with id %q or e-mail %q already exists.", a.ID, a.Email)
		} else if err != nil {
			return err
		}
		return insertGrants(ctx, tx, a.ID, a.Tenants)
	})
	if err != nil {
		return fmt.Errorf("create admin %s: %w", a.Email, err)
	}
	return nil
}

// insertGrants grants tenants to an admin that has none stored.
// Returns ErrTenantNotFound if a tenant does not exist.
func insertGrants(ctx context.Context, tx pgx.Tx, adminID string, tenants []string) error {
	for _, t := range signet.NormalizeGrants(tenants) {
		_, err := tx.Exec(ctx, `INSERT INTO admin_grants (admin_id, tenant) VALUES ($1, $2)`, adminID, t)
		if isForeignKey(err) || isBadText(err) {
			return fmt.Errorf("grant %s: %w", t, signet.ErrTenantNotFound)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// Admin returns one admin by id.
// Returns ErrAdminNotFound if there is none.
func (db *DB) Admin(ctx context.Context, id string) (signet.Admin, error) {
	a, err := db.getAdmin(ctx, `WHERE id = $1`, id)
	if err != nil {
		return signet.Admin{}, fmt.Errorf("admin %s: %w", id, err)
	}
	return a, nil
}

// AdminByEmail returns one admin by e-mail (compared exactly: the domain
// normalises addresses before they are stored or looked up).
// Returns ErrAdminNotFound if there is none.
func (db *DB) AdminByEmail(ctx context.Context, email string) (signet.Admin, error) {
	a, err := db.getAdmin(ctx, `WHERE email = $1`, email)
	if err != nil {
		return signet.Admin{}, fmt.Errorf("admin %s: %w", email, err)
	}
	return a, nil
}

// Admins returns every admin ordered by e-mail.
func (db *DB) Admins(ctx context.Context) ([]signet.Admin, error) {
	var as []signet.Admin
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		as, err = queryAdmins(ctx, tx, ``, false)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("admins: %w", err)
	}
	return as, nil
}

// getAdmin returns the one admin matching where, read from one snapshot.
func (db *DB) getAdmin(ctx context.Context, where string, args ...any) (signet.Admin, error) {
	var as []signet.Admin
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		as, err = queryAdmins(ctx, tx, where, false, args...)
		return err
	})
	return one(as, err, signet.ErrAdminNotFound)
}

// readTx runs fn in a read-only REPEATABLE READ transaction: its queries
// see one snapshot.
func (db *DB) readTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return db.tx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// UpdateAdmin applies fn to an admin in one transaction, with its row
// locked, and stores the result as given; fn cannot change the id.
// Returns fn's error as it is (nothing changes), ErrAdminNotFound, ErrConflict
// if the new e-mail is taken, and ErrTenantNotFound if a granted tenant does
// not exist.
func (db *DB) UpdateAdmin(ctx context.Context, id string, fn func(*signet.Admin) error) (signet.Admin, error) {
	a, err := update(ctx, db, "update admin "+id,
		func(tx pgx.Tx) (signet.Admin, error) {
			as, err := queryAdmins(ctx, tx, `WHERE id = $1`, true, id)
			return one(as, err, signet.ErrAdminNotFound)
		},
		fn,
		func(tx pgx.Tx, a *signet.Admin) error {
			a.ID = id
			a.Tenants = signet.NormalizeGrants(a.Tenants)
			args, err := sqlcodec.AdminArgs(*a)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE admins SET email = $1, password_hash = $2, created_at = $3,
				updated_at = $4, last_sign_in_at = $5 WHERE id = $6`, args...)
			if isConstraint(err) {
				return signet.Errorf(signet.ECONFLICT, "An administrator with e-mail %q already exists.", a.Email)
			} else if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM admin_grants WHERE admin_id = $1`, id); err != nil {
				return err
			}
			return insertGrants(ctx, tx, id, a.Tenants)
		})
	if err != nil {
		return signet.Admin{}, err
	}
	a.CreatedAt, a.UpdatedAt, a.LastSignInAt = sqlcodec.UTC(a.CreatedAt), sqlcodec.UTC(a.UpdatedAt), sqlcodec.UTC(a.LastSignInAt)
	return a, nil
}

// DeleteAdmin deletes an admin with its grants and sessions.
// Returns ErrAdminNotFound if there is none.
func (db *DB) DeleteAdmin(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		return deleteOne(ctx, tx, signet.ErrAdminNotFound, `DELETE FROM admins WHERE id = $1`, id)
	})
	if err != nil {
		return fmt.Errorf("delete admin %s: %w", id, err)
	}
	return nil
}

// queryAdmins returns the admins matching where, with their grants,
// ordered by e-mail; lock locks their rows until the transaction ends.
func queryAdmins(ctx context.Context, tx pgx.Tx, where string, lock bool, args ...any) ([]signet.Admin, error) {
	query := `SELECT ` + sqlcodec.AdminColumns + ` FROM admins ` + where + ` ORDER BY email`
	if lock {
		query += ` FOR UPDATE`
	}
	as, err := queryAll(ctx, tx, query, args, sqlcodec.ScanAdmin)
	if err != nil || len(as) == 0 {
		return nil, err
	}
	ids := make([]string, len(as))
	index := make(map[string]int, len(as))
	for i, a := range as {
		ids[i], index[a.ID] = a.ID, i
	}
	rows, err := tx.Query(ctx, `SELECT admin_id, tenant FROM admin_grants WHERE admin_id = ANY($1) ORDER BY admin_id, tenant`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, tenant string
		if err := rows.Scan(&id, &tenant); err != nil {
			return nil, err
		}
		as[index[id]].Tenants = append(as[index[id]].Tenants, tenant)
	}
	return as, rows.Err()
}

// CreateAdminSession stores a new session.
// Returns ErrConflict if the id hash is taken and ErrAdminNotFound if the
// admin does not exist.
func (db *DB) CreateAdminSession(ctx context.Context, s signet.AdminSession) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		args, err := sqlcodec.AdminSessionArgs(s)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO admin_sessions (`+sqlcodec.AdminSessionColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6)`, args...)
		switch {
		case isForeignKey(err):
			return signet.ErrAdminNotFound
		case isConstraint(err):
			return signet.Errorf(signet.ECONFLICT, "The session exists already.")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create admin session: %w", err)
	}
	return nil
}

// isBadTextID reports whether s holds what PostgreSQL text cannot: a NUL.
func isBadTextID(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

// AdminSession returns a session by the digest of its id, expired or not.
// Returns ErrAdminSessionNotFound if there is none.
func (db *DB) AdminSession(ctx context.Context, idHash []byte) (signet.AdminSession, error) {
	ss, err := queryAll(ctx, db.reads, `SELECT `+sqlcodec.AdminSessionColumns+` FROM admin_sessions WHERE id_hash = $1`,
		[]any{nonNilBytes(idHash)}, sqlcodec.ScanAdminSession)
	s, err := one(ss, err, signet.ErrAdminSessionNotFound)
	if err != nil {
		return signet.AdminSession{}, fmt.Errorf("admin session: %w", err)
	}
	return s, nil
}

// nonNilBytes returns b, or an empty slice for nil (which pgx sends as NULL).
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// UpdateAdminSession applies fn to a session in one transaction, with its
// row locked, and stores its LastSeenAt, ExpiresAt and Flash.
// Returns fn's error as it is (nothing changes) and ErrAdminSessionNotFound.
func (db *DB) UpdateAdminSession(ctx context.Context, idHash []byte, fn func(*signet.AdminSession) error) (signet.AdminSession, error) {
	var orig signet.AdminSession
	s, err := update(ctx, db, "update admin session",
		func(tx pgx.Tx) (signet.AdminSession, error) {
			ss, err := queryAll(ctx, tx, `SELECT `+sqlcodec.AdminSessionColumns+` FROM admin_sessions WHERE id_hash = $1 FOR UPDATE`,
				[]any{nonNilBytes(idHash)}, sqlcodec.ScanAdminSession)
			orig, err = one(ss, err, signet.ErrAdminSessionNotFound)
			return orig, err
		},
		fn,
		func(tx pgx.Tx, s *signet.AdminSession) error {
			// What fn may not change stays as stored.
			s.IDHash, s.AdminID, s.CreatedAt = orig.IDHash, orig.AdminID, orig.CreatedAt
			args, err := sqlcodec.AdminSessionArgs(*s)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE admin_sessions SET last_seen_at = $1, expires_at = $2, flash = $3
				WHERE id_hash = $4`, args[:4]...)
			return err
		})
	if err != nil {
		return signet.AdminSession{}, err
	}
	s.LastSeenAt, s.ExpiresAt = sqlcodec.UTC(s.LastSeenAt), sqlcodec.UTC(s.ExpiresAt)
	return s, nil
}

// DeleteAdminSession deletes one session.
// Returns ErrAdminSessionNotFound if there is none.
func (db *DB) DeleteAdminSession(ctx context.Context, idHash []byte) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		return deleteOne(ctx, tx, signet.ErrAdminSessionNotFound, `DELETE FROM admin_sessions WHERE id_hash = $1`, nonNilBytes(idHash))
	})
	if err != nil {
		return fmt.Errorf("delete admin session: %w", err)
	}
	return nil
}

// DeleteAdminSessions deletes every session of an admin and returns how many
// there were.
func (db *DB) DeleteAdminSessions(ctx context.Context, adminID string) (int, error) {
	if isBadTextID(adminID) {
		return 0, nil // never stored
	}
	return db.deleteSessions(ctx, `DELETE FROM admin_sessions WHERE admin_id = $1`, adminID)
}

// DeleteExpiredAdminSessions deletes the sessions that expire at or before
// now and returns how many there were.
func (db *DB) DeleteExpiredAdminSessions(ctx context.Context, now time.Time) (int, error) {
	n, err := sqlcodec.EncodeTime(now)
	if err != nil {
		return 0, fmt.Errorf("delete expired admin sessions: %w", err)
	}
	return db.deleteSessions(ctx, `DELETE FROM admin_sessions WHERE expires_at <= $1`, n)
}

func (db *DB) deleteSessions(ctx context.Context, query string, args ...any) (int, error) {
	var tag pgconn.CommandTag
	err := db.read(ctx, func(ctx context.Context) error {
		var err error
		tag, err = db.pool.Exec(ctx, query, args...)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete admin sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
