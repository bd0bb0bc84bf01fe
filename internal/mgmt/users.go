package mgmt

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/password"
	"github.com/signet-auth/signet/internal/secret"
)

// Users are Auth0's database users of the one connection Signet has.
const (
	// DatabaseConnection is the name of Signet's user database, as Auth0 calls its default one.
	DatabaseConnection = "Username-Password-Authentication"
	// MinPasswordLength is the shortest password accepted.
	MinPasswordLength = 8
	maxUserName       = 300
	maxPerPage        = 100
)

// userFields are the properties a user body may carry.
var userFields = []string{"email", "password", "connection", "name", "email_verified", "blocked", "verify_email"}

// userObject is Auth0's user object (the subset Signet keeps). It never
// carries the password or its hash.
type userObject struct {
	UserID        string     `json:"user_id"`
	Email         string     `json:"email"`
	EmailVerified bool       `json:"email_verified"`
	Name          string     `json:"name"`
	Nickname      string     `json:"nickname"`
	Blocked       bool       `json:"blocked"`
	Identities    []identity `json:"identities"`
	LoginsCount   int        `json:"logins_count"`
	LastLogin     time.Time  `json:"last_login,omitzero"`
	CreatedAt     time.Time  `json:"created_at,omitzero"`
	UpdatedAt     time.Time  `json:"updated_at,omitzero"`
}

// identity is one entry of a user's identities.
type identity struct {
	Connection string `json:"connection"`
	UserID     string `json:"user_id"`
	Provider   string `json:"provider"`
	IsSocial   bool   `json:"isSocial"`
}

func newUserObject(u signet.User) userObject {
	nick, _, _ := strings.Cut(u.Email, "@")
	name := u.Name
	if name == "" {
		name = u.Email
	}
	return userObject{
		UserID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, Name: name, Nickname: nick, Blocked: u.Blocked,
		Identities:  []identity{{Connection: DatabaseConnection, UserID: strings.TrimPrefix(u.ID, "auth0|"), Provider: "auth0"}},
		LoginsCount: u.LoginsCount, LastLogin: utc(u.LastLogin), CreatedAt: utc(u.CreatedAt), UpdatedAt: utc(u.UpdatedAt),
	}
}

var (
	errUserNotFound = notFound("user", "The user does not exist.")
	errUserExists   = withCode("auth0_idp_error", signet.Errorf(signet.ECONFLICT, "The user already exists."))
	errWeakPassword = withCode("invalid_body", signet.Errorf(signet.EINVALID,
		"PasswordStrengthError: Password is too weak: use at least %d characters.", MinPasswordLength))
)

// userErr translates a store error about one user.
func userErr(err error) error {
	switch {
	case errors.Is(err, signet.ErrUserExists):
		return errUserExists
	case errors.Is(err, signet.ErrNotFound):
		return errUserNotFound
	}
	return err
}

// hashPassword checks a password against the policy and hashes it.
// Returns EINVALID for a weak or overlong password.
func hashPassword(pw string) (string, error) {
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return "", errWeakPassword
	}
	if len(pw) > password.MaxLength {
		return "", invalid("Payload validation error: 'String is too long (%d bytes), maximum %d' on property password.", len(pw), password.MaxLength)
	}
	return password.Hash(pw)
}

// userPassword hashes the password o carries, if any, before any
// transaction (a hash takes tens of milliseconds).
// Returns EINVALID for a weak, overlong or non-string password.
func userPassword(o object) (string, error) {
	pw, ok, err := o.str("password", 0, 1<<20)
	if err != nil || !ok {
		return "", err
	}
	return hashPassword(pw)
}

// applyUser sets the user properties present in o on u, and hash (from
// userPassword) if it is not empty. changed reports a new password or a
// block, which ends the user's sessions.
// Returns EINVALID for a bad value.
func applyUser(o object, hash string, u *signet.User) (changed bool, err error) {
	if c, ok, err := o.str("connection", 1, 128); err != nil {
		return false, err
	} else if ok && c != DatabaseConnection {
		return false, invalid("The connection does not exist: only %q is available.", DatabaseConnection)
	}
	if e, ok, err := o.str("email", 1, 254); err != nil {
		return false, err
	} else if ok {
		norm, err := signet.NormalizeEmail(e)
		if err != nil {
			return false, invalid("Payload validation error: 'Object didn't pass validation for format email: %s' on property email.", e)
		}
		u.Email = norm
	}
	if n, ok, err := o.str("name", 0, maxUserName); err != nil {
		return false, err
	} else if ok {
		u.Name = n
	}
	if v, ok, err := userFlag(o, "email_verified"); err != nil {
		return false, err
	} else if ok {
		u.EmailVerified = v
	}
	if _, _, err := userFlag(o, "verify_email"); err != nil {
		return false, err
	}
	if v, ok, err := userFlag(o, "blocked"); err != nil {
		return false, err
	} else if ok {
		changed = changed || (v && !u.Blocked)
		u.Blocked = v
	}
	if hash != "" {
		u.PasswordHash, changed = hash, true
	}
	return changed, nil
}

// userFlag reads boolean property name of o, if present.
// Returns EINVALID for a non-boolean.
func userFlag(o object, name string) (bool, bool, error) {
	v, ok := o[name]
	if !ok {
		return false, false, nil
	}
	switch string(v) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, true, typeError(name, "boolean", v)
}

// createUser answers POST /api/v2/users.
func (a *API) createUser(w http.ResponseWriter, r *http.Request, c *call) error {
	us := a.store
	o, err := decodeObject(r, userFields...)
	if err != nil {
		return err
	}
	// Auth0 requires the connection on create (its SDKs' types do too).
	for _, p := range []string{"connection", "email", "password"} {
		if _, ok := o[p]; !ok {
			return required(p)
		}
	}
	hash, err := userPassword(o)
	if err != nil {
		return err
	}
	now := a.now().UTC()
	u := signet.User{Tenant: c.tenant, ID: secret.UserID(), CreatedAt: now, UpdatedAt: now}
	if _, err := applyUser(o, hash, &u); err != nil {
		return err
	}
	if err := us.CreateUser(r.Context(), u); err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusCreated, newUserObject(u))
	return nil
}

// listUsers answers GET /api/v2/users[?page=&per_page=&include_totals=].
func (a *API) listUsers(w http.ResponseWriter, r *http.Request, c *call) error {
	us := a.store
	if err := noBody(r); err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := queryInt(q.Get("page"), "page", 0, 1<<20, 0)
	if err != nil {
		return err
	}
	per, err := queryInt(q.Get("per_page"), "per_page", 1, maxPerPage, 50)
	if err != nil {
		return err
	}
	f := signet.UserFilter{Page: page, PerPage: per}
	if s := q.Get("q"); s != "" {
		// The one query Signet understands: email:"x" (or email:x).
		e, ok := strings.CutPrefix(s, "email:")
		if !ok {
			return withCode("invalid_query_string", invalid("Only q=email:\"...\" is supported."))
		}
		if f.Email, err = signet.NormalizeEmail(strings.Trim(e, `"`)); err != nil {
			return withCode("invalid_query_string", invalid("Invalid email in q."))
		}
	}
	list, total, err := us.Users(r.Context(), c.tenant, f)
	if err != nil {
		return err
	}
	out := make([]userObject, len(list))
	for i, u := range list {
		out[i] = newUserObject(u)
	}
	if q.Get("include_totals") == "true" {
		writeJSON(w, http.StatusOK, map[string]any{"users": out, "start": page * per, "limit": per, "length": len(out), "total": total})
		return nil
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// queryInt parses an integer query parameter in [min, max]; "" is def.
// Returns EINVALID otherwise.
func queryInt(s, name string, min, max, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, withCode("invalid_query_string", invalid("Query validation error: '%s' must be an integer from %d to %d.", name, min, max))
	}
	return n, nil
}

// usersByEmail answers GET /api/v2/users-by-email?email=.
func (a *API) usersByEmail(w http.ResponseWriter, r *http.Request, c *call) error {
	us := a.store
	if err := noBody(r); err != nil {
		return err
	}
	e, err := signet.NormalizeEmail(r.URL.Query().Get("email"))
	if err != nil {
		return withCode("invalid_query_string", invalid("Query validation error: 'email' must be an email address."))
	}
	list, _, err := us.Users(r.Context(), c.tenant, signet.UserFilter{Email: e})
	if err != nil {
		return err
	}
	out := make([]userObject, len(list))
	for i, u := range list {
		out[i] = newUserObject(u)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getUser answers GET /api/v2/users/{id}.
func (a *API) getUser(w http.ResponseWriter, r *http.Request, c *call) error {
	us := a.store
	if err := noBody(r); err != nil {
		return err
	}
	u, err := us.User(r.Context(), c.tenant, r.PathValue("id"))
	if err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, newUserObject(u))
	return nil
}

// updateUser answers PATCH /api/v2/users/{id}. A new password or a block
// ends the user's sessions and revokes their refresh tokens.
func (a *API) updateUser(w http.ResponseWriter, r *http.Request, c *call) error {
	us := a.store
	o, err := decodeObject(r, userFields...)
	if err != nil {
		return err
	}
	hash, err := userPassword(o)
	if err != nil {
		return err
	}
	var changed bool
	u, err := us.UpdateUser(r.Context(), c.tenant, r.PathValue("id"), func(u *signet.User) error {
		var err error
		if changed, err = applyUser(o, hash, u); err != nil {
			return err
		}
		u.UpdatedAt = a.now().UTC()
		return nil
	})
	if err != nil {
		return userErr(err)
	}
	if changed {
		if err := us.EndUserSessions(r.Context(), c.tenant, u.ID, a.now()); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, newUserObject(u))
	return nil
}

// deleteUser answers DELETE /api/v2/users/{id} with 204; the user's
// sessions, codes and refresh tokens go too.
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, c *call) error {
	us := a.store
	if err := noBody(r); err != nil {
		return err
	}
	if err := us.DeleteUser(r.Context(), c.tenant, r.PathValue("id")); err != nil {
		return userErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
