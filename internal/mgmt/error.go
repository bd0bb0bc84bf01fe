package mgmt

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/signet-auth/signet"
)

// eUnprocessable is the code of a well-formed request that cannot be
// processed (422), such as an Idempotency-Key reused for another request.
// The signet package has no such code: only this API answers it.
const eUnprocessable = "unprocessable"

// statusOf maps each signet error code to its HTTP status and default Auth0
// errorCode. It is the only place that does so.
var statusOf = map[string]struct {
	status    int
	errorCode string
}{
	signet.EINVALID:      {http.StatusBadRequest, "invalid_body"},
	signet.EUNAUTHORIZED: {http.StatusUnauthorized, ""},
	signet.EFORBIDDEN:    {http.StatusForbidden, "insufficient_scope"},
	signet.ENOTFOUND:     {http.StatusNotFound, "inexistent_resource"},
	signet.ECONFLICT:     {http.StatusConflict, "conflict"},
	eUnprocessable:       {http.StatusUnprocessableEntity, "unprocessable_entity"},
	signet.EUNAVAILABLE:  {http.StatusServiceUnavailable, "temporarily_unavailable"},
	signet.EINTERNAL:     {http.StatusInternalServerError, ""},
}

// codedError gives an error a specific Auth0 errorCode, such as
// "inexistent_signing_key" or "invalid_query_string".
type codedError struct {
	err       error
	errorCode string
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// withCode returns err carrying Auth0's errorCode code.
func withCode(code string, err error) error { return &codedError{err: err, errorCode: code} }

// notFound returns an ENOTFOUND error with Auth0's "inexistent_<thing>" code.
func notFound(thing, message string) error {
	return withCode("inexistent_"+thing, signet.Errorf(signet.ENOTFOUND, "%s", message))
}

// invalid returns an EINVALID error with message.
func invalid(format string, args ...any) error {
	return signet.Errorf(signet.EINVALID, format, args...)
}

// apiMessages words the signet refusals whose remedy is another call of
// this API; the signet package names no HTTP paths.
var apiMessages = []struct {
	err     error
	message string
}{
	{signet.ErrRevokeCurrent, "The current signing key cannot be revoked. Rotate first, or rotate and revoke in one step with POST /api/v2/keys/signing/rotate?revoke_current=true."},
	{signet.ErrRevokeNext, "The next signing key cannot be revoked: it has never signed. Rotate twice to replace it, or rotate with revoke_current=true once it is current."},
}

// errorMessage returns err's message as this API answers it.
func errorMessage(err error) string {
	for _, m := range apiMessages {
		if errors.Is(err, m.err) {
			return m.message
		}
	}
	return signet.ErrorMessage(err)
}

// errorBody is Auth0's Management API error body.
type errorBody struct {
	StatusCode int               `json:"statusCode"`
	Error      string            `json:"error"`
	Message    string            `json:"message"`
	ErrorCode  string            `json:"errorCode,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// writeError answers with err's status and Auth0 body. Internal errors are
// logged and answered without details.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	code := signet.ErrorCode(err)
	st, ok := statusOf[code]
	if !ok {
		code, st = signet.EINTERNAL, statusOf[signet.EINTERNAL]
	}
	body := errorBody{StatusCode: st.status, Error: http.StatusText(st.status), Message: errorMessage(err), ErrorCode: st.errorCode}
	if code == signet.EINTERNAL {
		logger.Error("management api", "method", r.Method, "path", r.URL.Path, "err", err)
		body.Message = "Internal error."
	}
	if ce, ok := errors.AsType[*codedError](err); ok && code != signet.EINTERNAL {
		body.ErrorCode = ce.errorCode
	}
	if code == signet.EUNAVAILABLE {
		logger.Warn("management api: database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "1")
	}
	if code == signet.EUNAUTHORIZED {
		body.Attributes = map[string]string{"error": body.Message}
	}
	writeJSON(w, st.status, body)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types are marshalled; this cannot happen.
		status, b = http.StatusInternalServerError, []byte(`{"statusCode":500,"error":"Internal Server Error","message":"Internal error."}`)
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}
