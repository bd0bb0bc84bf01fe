package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlcodec"
)

var _ signet.AdminStore = (*DB)(nil)

// CreateAdmin stores a new admin and its grants as given (the caller sets
// its times and normalises its e-mail).
// Returns ErrConflict if the id or e-mail is taken, and ErrTenantNotFound if
// a granted tenant does not exist.
func (db *DB) CreateAdmin(ctx context.Context, a signet.Admin) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		args, err := sqlcodec.AdminArgs(a)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO admins (`+sqlcodec.AdminColumns+`) VALUES (?, ?, ?, ?, ?, ?)`, args...)
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
func insertGrants(ctx context.Context, tx *sql.Tx, adminID string, tenants []string) error {
	for _, t := range signet.NormalizeGrants(tenants) {
		_, err := tx.ExecContext(ctx, `INSERT INTO admin_grants (admin_id, tenant) VALUES (?, ?)`, adminID, t)
		if isForeignKey(err) {
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
	var a signet.Admin
	err := db.inRead(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = getAdmin(ctx, tx, `WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return signet.Admin{}, fmt.Errorf("admin %s: %w", id, err)
	}
	return a, nil
}

// AdminByEmail returns one admin by e-mail (compared exactly: the domain
// normalises addresses before they are stored or looked up).
// Returns ErrAdminNotFound if there is none.
func (db *DB) AdminByEmail(ctx context.Context, email string) (signet.Admin, error) {
	var a signet.Admin
	err := db.inRead(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = getAdmin(ctx, tx, `WHERE email = ?`, email)
		return err
	})
	if err != nil {
		return signet.Admin{}, fmt.Errorf("admin %s: %w", email, err)
	}
	return a, nil
}

// Admins returns every admin ordered by e-mail.
func (db *DB) Admins(ctx context.Context) ([]signet.Admin, error) {
	var as []signet.Admin
	err := db.inRead(ctx, func(tx *sql.Tx) error {
		var err error
		as, err = queryAdmins(ctx, tx, ``)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("admins: %w", err)
	}
	return as, nil
}

// UpdateAdmin applies fn to an admin in one transaction and stores the
// result as given; fn cannot change the id.
// Returns fn's error as it is (nothing changes), ErrAdminNotFound, ErrConflict
// if the new e-mail is taken, and ErrTenantNotFound if a granted tenant does
// not exist.
func (db *DB) UpdateAdmin(ctx context.Context, id string, fn func(*signet.Admin) error) (signet.Admin, error) {
	a, err := update(ctx, db, "update admin "+id,
		func(tx *sql.Tx) (signet.Admin, error) { return getAdmin(ctx, tx, `WHERE id = ?`, id) },
		fn,
		func(tx *sql.Tx, a *signet.Admin) error {
			a.ID = id
			a.Tenants = signet.NormalizeGrants(a.Tenants)
			args, err := sqlcodec.AdminArgs(*a)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE admins SET email = ?, password_hash = ?, created_at = ?,
				updated_at = ?, last_sign_in_at = ? WHERE id = ?`, args...)
			if isConstraint(err) {
				return signet.Errorf(signet.ECONFLICT, "An administrator with e-mail %q already exists.", a.Email)
			} else if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM admin_grants WHERE admin_id = ?`, id); err != nil {
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
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		return deleteOne(ctx, tx, signet.ErrAdminNotFound, `DELETE FROM admins WHERE id = ?`, id)
	})
	if err != nil {
		return fmt.Errorf("delete admin %s: %w", id, err)
	}
	return nil
}

// getAdmin returns the one admin matching where.
func getAdmin(ctx context.Context, tx *sql.Tx, where string, args ...any) (signet.Admin, error) {
	as, err := queryAdmins(ctx, tx, where, args...)
	return one(as, err, signet.ErrAdminNotFound)
}

// queryAdmins returns the admins matching where, with their grants, ordered
// by e-mail. It runs two queries, so q should be a transaction.
func queryAdmins(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]signet.Admin, error) {
	as, err := queryAll(ctx, tx, `SELECT `+sqlcodec.AdminColumns+` FROM admins `+where+` ORDER BY email`,
		args, sqlcodec.ScanAdmin)
	if err != nil || len(as) == 0 {
		return nil, err
	}
	index := make(map[string]int, len(as))
	for i, a := range as {
		index[a.ID] = i
	}
	// One query for every admin's grants: the list is small, and a filter
	// by id would need a parameter per admin.
	err = eachPair(ctx, tx, `SELECT admin_id, tenant FROM admin_grants ORDER BY admin_id, tenant`, nil,
		func(id, tenant string) {
			if i, ok := index[id]; ok {
				as[i].Tenants = append(as[i].Tenants, tenant)
			}
		})
	return as, err
}

// CreateAdminSession stores a new session.
// Returns ErrConflict if the id hash is taken and ErrAdminNotFound if the
// admin does not exist.
func (db *DB) CreateAdminSession(ctx context.Context, s signet.AdminSession) error {
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		args, err := sqlcodec.AdminSessionArgs(s)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO admin_sessions (`+sqlcodec.AdminSessionColumns+`)
			VALUES (?, ?, ?, ?, ?, ?)`, args...)
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

// AdminSession returns a session by the digest of its id, expired or not.
// Returns ErrAdminSessionNotFound if there is none.
func (db *DB) AdminSession(ctx context.Context, idHash []byte) (signet.AdminSession, error) {
	s, err := getAdminSession(ctx, db.cached, idHash)
	if err != nil {
		return signet.AdminSession{}, fmt.Errorf("admin session: %w", err)
	}
	return s, nil
}

// UpdateAdminSession applies fn to a session in one transaction and stores
// its LastSeenAt, ExpiresAt and Flash.
// Returns fn's error as it is (nothing changes) and ErrAdminSessionNotFound.
func (db *DB) UpdateAdminSession(ctx context.Context, idHash []byte, fn func(*signet.AdminSession) error) (signet.AdminSession, error) {
	var orig signet.AdminSession
	s, err := update(ctx, db, "update admin session",
		func(tx *sql.Tx) (signet.AdminSession, error) {
			var err error
			orig, err = getAdminSession(ctx, tx, idHash)
			return orig, err
		},
		fn,
		func(tx *sql.Tx, s *signet.AdminSession) error {
			// What fn may not change stays as stored.
			s.IDHash, s.AdminID, s.CreatedAt = orig.IDHash, orig.AdminID, orig.CreatedAt
			args, err := sqlcodec.AdminSessionArgs(*s)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE admin_sessions SET last_seen_at = ?, expires_at = ?, flash = ?
				WHERE id_hash = ?`, args[:4]...)
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
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		return deleteOne(ctx, tx, signet.ErrAdminSessionNotFound, `DELETE FROM admin_sessions WHERE id_hash = ?`, idHash)
	})
	if err != nil {
		return fmt.Errorf("delete admin session: %w", err)
	}
	return nil
}

// DeleteAdminSessions deletes every session of an admin and returns how many
// there were.
func (db *DB) DeleteAdminSessions(ctx context.Context, adminID string) (int, error) {
	return db.deleteSessions(ctx, `DELETE FROM admin_sessions WHERE admin_id = ?`, adminID)
}

// DeleteExpiredAdminSessions deletes the sessions that expire at or before
// now and returns how many there were.
func (db *DB) DeleteExpiredAdminSessions(ctx context.Context, now time.Time) (int, error) {
	n, err := sqlcodec.EncodeTime(now)
	if err != nil {
		return 0, fmt.Errorf("delete expired admin sessions: %w", err)
	}
	return db.deleteSessions(ctx, `DELETE FROM admin_sessions WHERE expires_at <= ?`, n)
}

func (db *DB) deleteSessions(ctx context.Context, query string, args ...any) (int, error) {
	var n int64
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete admin sessions: %w", err)
	}
	return int(n), nil
}

func getAdminSession(ctx context.Context, q querier, idHash []byte) (signet.AdminSession, error) {
	ss, err := queryAll(ctx, q, `SELECT `+sqlcodec.AdminSessionColumns+` FROM admin_sessions WHERE id_hash = ?`,
		[]any{idHash}, sqlcodec.ScanAdminSession)
	return one(ss, err, signet.ErrAdminSessionNotFound)
}
