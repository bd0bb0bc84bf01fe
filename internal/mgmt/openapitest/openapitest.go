// Package openapitest checks HTTP answers against Signet's OpenAPI document
// (mgmt.OpenAPI), so that every test that talks to the Management API or the
// public endpoints also checks that the document describes what it got.
package openapitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/signet-auth/signet/internal/mgmt"
)

// Validator checks answers against the document. Create it with New; it is
// safe for concurrent use.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	errRef *openapi3.SchemaRef
}

// New loads and validates the document, failing t if it is not valid
// OpenAPI 3.1.
func New(t testing.TB) *Validator {
	t.Helper()
	v, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Load loads and validates the document.
// Returns an error if it is not valid OpenAPI 3.1.
func Load() (*Validator, error) {
	v, err := load(mgmt.OpenAPI())
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return v, nil
}

// load parses and validates doc. Returns an error if doc is not a valid
// OpenAPI 3.1 document.
func load(doc []byte) (*Validator, error) {
	l := openapi3.NewLoader()
	d, err := l.LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if !d.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("document is OpenAPI %s, want 3.1", d.OpenAPI)
	}
	if err := d.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	r, err := gorillamux.NewRouter(d)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	errRef := d.Components.Schemas["Error"]
	if errRef == nil {
		return nil, errors.New("no components.schemas.Error")
	}
	return &Validator{doc: d, router: r, errRef: errRef}, nil
}

// Check reports whether the answer (status, header, body) to r matches the
// document: r's operation must list status, with a Content-Type and a body
// its schema accepts, and the headers it declares; a redirect (3xx) may
// come without a body or Content-Type. A method or path the
// document does not have must be answered 404 or 405, with Auth0's error
// body under /api/v2/. r's body is not read.
// Returns an error describing the first mismatch.
func (v *Validator) Check(r *http.Request, status int, header http.Header, body []byte) error {
	// The router matches on the URL's host; requests built by httptest
	// carry it in Host only.
	rr := r.Clone(r.Context())
	rr.Body = http.NoBody
	if rr.Method == http.MethodHead {
		rr.Method = http.MethodGet
	}
	route, params, err := v.router.FindRoute(rr)
	if err != nil {
		return v.checkUnknown(r, status, header, body, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: rr, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			// http.Redirect writes a body only for GET: a redirect
			// without one need not match the documented content.
			ExcludeResponseBody: status/100 == 3 && len(body) == 0 && header.Get("Content-Type") == "",
		},
	}
	if r.Method == http.MethodHead {
		// ValidateResponse skips HEAD: check the status at least.
		if route.Operation.Responses.Status(status) == nil {
			return fmt.Errorf("%s %s: status %d is not in the document", r.Method, r.URL.Path, status)
		}
		return nil
	}
	if err := openapi3filter.ValidateResponse(r.Context(), in); err != nil {
		return fmt.Errorf("%s %s → %d: %w\nbody: %.600s", r.Method, r.URL.Path, status, err, body)
	}
	if len(body) > 0 && status != http.StatusNotModified && header.Get("Content-Type") == "" {
		return fmt.Errorf("%s %s → %d: a body without Content-Type", r.Method, r.URL.Path, status)
	}
	if resp := route.Operation.Responses.Status(status); resp != nil && resp.Value != nil && len(resp.Value.Content) == 0 && len(body) > 0 {
		return fmt.Errorf("%s %s → %d: the document has no body for this answer, got %.200q", r.Method, r.URL.Path, status, body)
	}
	return nil
}

// checkUnknown checks the answer to a request the document has no
// operation for (findErr says why): the catch-all's 404 or 405.
func (v *Validator) checkUnknown(r *http.Request, status int, header http.Header, body []byte, findErr error) error {
	if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
		return fmt.Errorf("%s %s → %d: not in the document (%v)", r.Method, r.URL.Path, status, findErr)
	}
	if !strings.HasPrefix(r.URL.Path, "/api/v2/") {
		return nil // the mux's own plain-text 404 or 405
	}
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt != "application/json" {
		return fmt.Errorf("%s %s → %d: Content-Type %q, want Auth0's JSON error", r.Method, r.URL.Path, status, header.Get("Content-Type"))
	}
	var val any
	if err := jsonUnmarshal(body, &val); err != nil {
		return fmt.Errorf("%s %s → %d: %w", r.Method, r.URL.Path, status, err)
	}
	if err := v.errRef.Value.VisitJSON(val, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("%s %s → %d: body is not an Error: %w", r.Method, r.URL.Path, status, err)
	}
	return nil
}

// Handler returns next wrapped so that every answer it gives is checked
// with Check; a mismatch fails tb. The answer is buffered, then written to
// the caller as next gave it.
func (v *Validator) Handler(tb testing.TB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		res := rec.Result()
		if err := v.Check(r, res.StatusCode, res.Header, rec.Body.Bytes()); err != nil {
			tb.Errorf("the answer does not match the OpenAPI document: %v", err)
		}
		for k, vs := range res.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(res.StatusCode)
		w.Write(rec.Body.Bytes())
	})
}
