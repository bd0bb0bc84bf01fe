package mgmt

import (
	"net/http"
	"net/url"
	"strconv"
)

// paging is a list request's page/per_page/include_totals, and for client
// grants Auth0's checkpoint from/take, as Auth0's SDKs send them: node-auth0
// v5+ always sends include_totals=true with page=0&per_page=50 (take=50 for
// client grants) and reads the items from the wrapped object.
type paging struct {
	start, limit int
	totals       bool
	// checkpoint is set when from or take was given: the answer carries
	// next when items remain.
	checkpoint bool
}

// readPaging reads the paging parameters of q. checkpoint allows from and
// take (client grants).
// Returns EINVALID (invalid_query_string) for a bad value.
func readPaging(q url.Values, checkpoint bool) (paging, error) {
	page, err := queryInt(q.Get("page"), "page", 0, 1<<20, 0)
	if err != nil {
		return paging{}, err
	}
	per, err := queryInt(q.Get("per_page"), "per_page", 1, maxPerPage, 50)
	if err != nil {
		return paging{}, err
	}
	totals, err := queryBool(q.Get("include_totals"), "include_totals")
	if err != nil {
		return paging{}, err
	}
	p := paging{start: page * per, limit: per, totals: totals}
	if !q.Has("page") && !q.Has("per_page") && !totals {
		p.limit = maxListAll // as before paging: the whole list
	}
	if !checkpoint || (!q.Has("from") && !q.Has("take")) {
		return p, nil
	}
	p.checkpoint = true
	if p.limit, err = queryInt(q.Get("take"), "take", 1, maxPerPage, 50); err != nil {
		return paging{}, err
	}
	// from is the opaque next of an earlier answer: an offset, as Signet
	// lists in a stable order.
	if p.start, err = queryInt(q.Get("from"), "from", 0, 1<<30, 0); err != nil {
		return paging{}, err
	}
	return p, nil
}

// maxListAll is the limit of a list request without paging parameters.
const maxListAll = 1 << 30

// queryBool parses a boolean query parameter; "" is false.
// Returns EINVALID otherwise.
func queryBool(s, name string) (bool, error) {
	switch s {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, withCode("invalid_query_string", invalid("Query validation error: '%s' must be true or false.", name))
}

// writePage answers with the page p selects of all: a bare array, or with
// include_totals (or a checkpoint) Auth0's object {key, start, limit, total}
// ({key, next} for a checkpoint).
func writePage[T any](w http.ResponseWriter, p paging, key string, all []T) {
	start := min(p.start, len(all))
	end := min(start+p.limit, len(all))
	items := all[start:end]
	if items == nil {
		items = []T{}
	}
	switch {
	case p.checkpoint:
		body := map[string]any{key: items}
		if end < len(all) {
			body["next"] = strconv.Itoa(end)
		}
		if p.totals {
			body["start"], body["limit"], body["total"] = start, p.limit, len(all)
		}
		writeJSON(w, http.StatusOK, body)
	case p.totals:
		writeJSON(w, http.StatusOK, map[string]any{key: items, "start": p.start, "limit": p.limit, "total": len(all)})
	default:
		writeJSON(w, http.StatusOK, items)
	}
}
