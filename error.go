package signet

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status at the API edge.
const (
	EINVALID      = "invalid"      // bad input (400)
	EUNAUTHORIZED = "unauthorized" // missing or invalid credentials (401)
	EFORBIDDEN    = "forbidden"    // authenticated but not allowed (403)
	ENOTFOUND     = "not_found"    // the named thing does not exist (404)
	ECONFLICT     = "conflict"     // the change is illegal in the current state (409)
	EUNAVAILABLE  = "unavailable"  // a dependency (the database) did not answer in time (503)
	EINTERNAL     = "internal"     // anything else (500); never shown to users in detail
)

// Error is a user-facing failure: a machine-readable Code and a message safe to
// show to the caller.
type Error struct {
	Code    string
	Message string
}

// Error returns the message prefixed with the code.
func (e *Error) Error() string {
	return fmt.Sprintf("signet: %s: %s", e.Code, e.Message)
}

// Is reports whether target is an *Error with the same code and either the
// same message or no message, so errors.Is(err, ErrKeyNotFound) and
// errors.Is(err, &Error{Code: ENOTFOUND}) both work.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or
// "Internal error." for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Sentinel errors. Compare with errors.Is.
var (
	// ErrNotFound matches every ENOTFOUND error.
	ErrNotFound = &Error{Code: ENOTFOUND}
	// ErrConflict matches every ECONFLICT error (illegal transitions, duplicates).
	ErrConflict = &Error{Code: ECONFLICT}
	// ErrInvalid matches every EINVALID error.
	ErrInvalid = &Error{Code: EINVALID}
	// ErrUnavailable matches every EUNAVAILABLE error: the database was
	// unreachable or did not answer within its time limit. Nothing was
	// changed, unless the error says the outcome of a commit is unknown.
	ErrUnavailable = &Error{Code: EUNAVAILABLE}

	// ErrKeyNotFound is returned for a kid the tenant does not have.
	ErrKeyNotFound = &Error{Code: ENOTFOUND, Message: "Signing key not found."}
	// ErrTenantNotFound is returned for an unknown tenant.
	ErrTenantNotFound = &Error{Code: ENOTFOUND, Message: "Tenant not found."}
	// ErrRevokeCurrent is returned when asked to revoke the current key.
	ErrRevokeCurrent = &Error{Code: ECONFLICT, Message: "The current signing key cannot be revoked. Rotate first, or rotate and revoke it in one step."}
	// ErrRevokeNext is returned when asked to revoke the next key.
	ErrRevokeNext = &Error{Code: ECONFLICT, Message: "The next signing key cannot be revoked: it has never signed. Rotate twice to replace it, or rotate and revoke it once it is current."}
	// ErrAlreadyRevoked is returned when asked to revoke a revoked key.
	ErrAlreadyRevoked = &Error{Code: ECONFLICT, Message: "The signing key is already revoked. A revoked key can never be used again."}
	// ErrInvalidKeyset is returned when a keyset breaks the invariant of one
	// current and one next key.
	ErrInvalidKeyset = &Error{Code: EINTERNAL, Message: "Keyset invariant violated."}
)
