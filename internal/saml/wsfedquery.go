package saml

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// WS-Federation passive requestor actions (WS-Federation 1.2 §13.2).
const (
	ActionSignIn         = "wsignin1.0"
	ActionSignOut        = "wsignout1.0"
	ActionSignOutCleanup = "wsignoutcleanup1.0"
)

// Limits on WS-Fed parameters.
const (
	maxWSFedContext = 4096
	maxWSFedQuery   = 16 << 10
)

// WSFedRequest is a WS-Federation passive request (wa=wsignin1.0 or
// wsignout1.0) as Signet reads it from the query string.
type WSFedRequest struct {
	// Action is wa.
	Action string
	// Realm is wtrealm: the relying party's identifier, the audience of
	// the assertion.
	Realm string
	// Reply is wreply: where to post the token (sign-in) or return to
	// (sign-out); "" means the application's default.
	Reply string
	// Context is wctx: opaque state posted back unchanged.
	Context string
}

// wsfedParams are the parameters ParseWSFedQuery reads; each at most once.
var wsfedParams = []string{"wa", "wtrealm", "wreply", "wctx", "wct", "whr", "wfresh", "wauth", "wreq"}

// ParseWSFedQuery reads a WS-Federation passive request from a query string
// (its raw, still escaped form). wa must be wsignin1.0, wsignout1.0 or
// wsignoutcleanup1.0; wtrealm, wreply and wctx are optional, each at most
// once, valid UTF-8 without control characters; wreply, when given, must be
// an absolute http or https URL without a fragment; wreq (a full request
// document) is refused.
// Returns an EINVALID signet.Error naming the problem.
func ParseWSFedQuery(rawQuery string) (WSFedRequest, error) {
	if len(rawQuery) > maxWSFedQuery {
		return WSFedRequest{}, invalidRequest("The WS-Federation request is too large.")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return WSFedRequest{}, invalidRequest("The WS-Federation query string is malformed.")
	}
	for _, p := range wsfedParams {
		if len(q[p]) > 1 {
			return WSFedRequest{}, invalidRequest("The WS-Federation parameter %s is given more than once.", p)
		}
		if v := q.Get(p); !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl) {
			return WSFedRequest{}, invalidRequest("The WS-Federation parameter %s is not valid text.", p)
		}
	}
	req := WSFedRequest{Action: q.Get("wa"), Realm: q.Get("wtrealm"), Reply: q.Get("wreply"), Context: q.Get("wctx")}
	switch req.Action {
	case ActionSignIn, ActionSignOut, ActionSignOutCleanup:
	case "":
		return WSFedRequest{}, invalidRequest("The WS-Federation request has no wa parameter.")
	default:
		return WSFedRequest{}, invalidRequest("The WS-Federation action %q is not supported; use wsignin1.0 or wsignout1.0.", truncate(req.Action, 64))
	}
	if q.Has("wreq") {
		return WSFedRequest{}, invalidRequest("The WS-Federation parameter wreq is not supported.")
	}
	if len(req.Realm) > maxURILen {
		return WSFedRequest{}, invalidRequest("The WS-Federation wtrealm is too long.")
	}
	if len(req.Context) > maxWSFedContext {
		return WSFedRequest{}, invalidRequest("The WS-Federation wctx is longer than %d bytes.", maxWSFedContext)
	}
	if req.Reply != "" {
		if err := checkReplyURL(req.Reply); err != nil {
			return WSFedRequest{}, err
		}
	}
	return req, nil
}

// checkReplyURL reports whether s is an absolute http(s) URL (scheme in
// lower case) without a fragment or user information, at most maxURILen bytes.
func checkReplyURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || len(s) > maxURILen || !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") || u.Host == "" || u.Fragment != "" || u.User != nil {
		return invalidRequest("The reply URL must be an absolute http or https URL without a fragment.")
	}
	return nil
}

// truncate returns s cut to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
