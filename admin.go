package signet

import (
	"context"
	"slices"
	"time"
)

// Admin is a person who signs in to the dashboard to manage the tenants
// granted to them. Admins are Signet's operators, not a tenant's users.
type Admin struct {
	// ID is the admin's stable identifier.
	ID string
	// Email is the sign-in name: lower case, unique (see NormalizeEmail).
	Email string
	// PasswordHash is the password's Argon2id hash in PHC string format; the
	// password itself is never stored.
	PasswordHash string
	// Tenants are the names of the tenants the admin may manage, in name
	// order. Deny by default: an admin with none sees nothing.
	Tenants      []string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastSignInAt time.Time // zero until the first sign-in
}

// CanManage reports whether the admin was granted tenant.
func (a Admin) CanManage(tenant string) bool {
	return tenant != "" && slices.Contains(a.Tenants, tenant)
}

// Actor is how the admin appears in audit events: "admin:<email>".
func (a Admin) Actor() string { return "admin:" + a.Email }

// NormalizeGrants sorts tenant names and removes repeats, so that
// Admin.Tenants has one order in every store.
func NormalizeGrants(tenants []string) []string {
	out := slices.Clone(tenants)
	slices.Sort(out)
	return slices.Compact(out)
}

// AdminSession is one signed-in dashboard session. The session id lives only
// in the admin's browser (a cookie); the store keeps its SHA-256 digest, so
// a copy of the database does not let anyone take over a session. Sessions
// are stored, not held in memory, so every replica sharing the database
// knows them.
type AdminSession struct {
	// IDHash is the SHA-256 digest of the session id.
	IDHash  []byte
	AdminID string
	// CreatedAt is when the admin signed in; LastSeenAt when the session was
	// last used (updated at most about once a minute).
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is when the session ends unless it is used again: the earlier
	// of its idle deadline and the end of its absolute lifetime.
	ExpiresAt time.Time
	// Flash is a one-time message for the next page (what the last action
	// did), opaque to the store.
	Flash string
}

// Expired reports whether the session has ended at now.
func (s AdminSession) Expired(now time.Time) bool { return !now.Before(s.ExpiresAt) }

// Errors of the AdminStore.
var (
	// ErrAdminNotFound is returned for an unknown admin id or e-mail.
	ErrAdminNotFound = &Error{Code: ENOTFOUND, Message: "Administrator not found."}
	// ErrAdminSessionNotFound is returned for an unknown (or deleted) session.
	ErrAdminSessionNotFound = &Error{Code: ENOTFOUND, Message: "Session not found."}
)

// AdminStore persists dashboard administrators, the tenants granted to them
// and their sessions. Every backend passes storetest.RunAdmins.
type AdminStore interface {
	// CreateAdmin stores a new admin with its grants (a.Tenants).
	// Returns ErrConflict if the id or e-mail is taken, and ErrTenantNotFound
	// if a granted tenant does not exist.
	CreateAdmin(ctx context.Context, a Admin) error
	// Admin returns one admin by id, with its grants. Returns ErrAdminNotFound.
	Admin(ctx context.Context, id string) (Admin, error)
	// AdminByEmail returns one admin by (normalised) e-mail. Returns ErrAdminNotFound.
	AdminByEmail(ctx context.Context, email string) (Admin, error)
	// Admins returns every admin ordered by e-mail.
	Admins(ctx context.Context) ([]Admin, error)
	// UpdateAdmin applies fn to an admin in one transaction and stores its
	// e-mail, password hash, grants and times (fn cannot change the id).
	// Returns fn's error as it is (nothing changes), ErrAdminNotFound,
	// ErrConflict if the new e-mail is taken, and ErrTenantNotFound if a
	// granted tenant does not exist.
	UpdateAdmin(ctx context.Context, id string, fn func(*Admin) error) (Admin, error)
	// DeleteAdmin deletes an admin, its grants and its sessions.
	// Returns ErrAdminNotFound.
	DeleteAdmin(ctx context.Context, id string) error

	// CreateAdminSession stores a new session. Returns ErrConflict if the
	// id hash is taken and ErrAdminNotFound if the admin does not exist.
	CreateAdminSession(ctx context.Context, s AdminSession) error
	// AdminSession returns a session by the digest of its id, expired or not.
	// Returns ErrAdminSessionNotFound.
	AdminSession(ctx context.Context, idHash []byte) (AdminSession, error)
	// UpdateAdminSession applies fn to a session in one transaction and stores
	// its LastSeenAt, ExpiresAt and Flash. Returns fn's error as it is
	// (nothing changes) and ErrAdminSessionNotFound.
	UpdateAdminSession(ctx context.Context, idHash []byte, fn func(*AdminSession) error) (AdminSession, error)
	// DeleteAdminSession deletes one session (signs it out).
	// Returns ErrAdminSessionNotFound.
	DeleteAdminSession(ctx context.Context, idHash []byte) error
	// DeleteAdminSessions deletes every session of an admin and returns how
	// many there were; an unknown admin has none.
	DeleteAdminSessions(ctx context.Context, adminID string) (int, error)
	// DeleteExpiredAdminSessions deletes the sessions with ExpiresAt at or
	// before now and returns how many there were.
	DeleteExpiredAdminSessions(ctx context.Context, now time.Time) (int, error)
}
