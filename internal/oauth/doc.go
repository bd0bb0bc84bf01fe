// Package oauth serves a tenant's public OAuth 2.0 and OpenID Connect
// endpoints, with Auth0's paths and shapes:
//
//   - GET /.well-known/jwks.json: the published keys, served from the bytes the
//     keyring built for the tenant's view (never per request), with a strong
//     ETag, 304 on If-None-Match and a configurable public max-age;
//   - GET /.well-known/openid-configuration: discovery;
//   - GET /pem, /rawpem, /cer, /pb7, /fingerprint (each also with an ignored
//     /{client_id} suffix): the current key's certificate in several forms;
//   - POST /oauth/token: the token endpoint (client_credentials, and the
//     grant types of a Provider such as internal/oidc's authorization_code
//     and refresh_token; public clients authenticate without a secret only
//     for those).
//
// Every handler expects the tenant middleware of internal/server to have put
// a reqctx.Request in the request context; without one it answers 404.
// Token endpoint errors are RFC 6749 JSON bodies; only internal errors are
// logged, and never a secret.
package oauth
