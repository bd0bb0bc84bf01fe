package reqctx

import (
	"context"

	"github.com/signet-auth/signet/internal/keyring"
)

// Request is what the tenant middleware resolves for each request.
type Request struct {
	// View is the tenant's view at the time the request came in.
	View *keyring.View
	// Issuer is the issuer URL of the host the request came to.
	Issuer string
}

type key struct{}

// With returns ctx carrying the resolved tenant of a request.
func With(ctx context.Context, req Request) context.Context {
	return context.WithValue(ctx, key{}, req)
}

// From returns the resolved tenant of a request, if any.
func From(ctx context.Context) (Request, bool) {
	req, ok := ctx.Value(key{}).(Request)
	return req, ok
}
