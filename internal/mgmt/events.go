package mgmt

import (
	"net/http"
	"strconv"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
)

// maxEvents is the most events one page returns.
const maxEvents = 100

// eventObject is one audit event of a tenant's keys (an extension).
type eventObject struct {
	Seq            int64             `json:"seq"`
	Date           time.Time         `json:"date"`
	Type           string            `json:"type"`
	Actor          string            `json:"actor,omitempty"`
	KID            string            `json:"kid,omitempty"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
	Data           map[string]string `json:"data,omitempty"`
}

// listEvents answers GET /api/v2/keys/signing/events: the tenant's audit
// events, newest first, optionally filtered by ?type= and limited by
// ?per_page= (1..100, default 50).
func (a *API) listEvents(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := noBody(r); err != nil {
		return err
	}
	q := r.URL.Query()
	limit := 50
	if s := q.Get("per_page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxEvents {
			return withCode("invalid_query_string", invalid("Query validation error: 'per_page' must be an integer from 1 to %d.", maxEvents))
		}
		limit = n
	}
	evs, err := a.store.Events(r.Context(), c.tenant, signet.EventFilter{Type: q.Get("type"), Limit: limit})
	if err != nil {
		return err
	}
	out := make([]eventObject, len(evs))
	for i, e := range evs {
		out[i] = eventObject{Seq: e.Seq, Date: e.Time.UTC(), Type: e.Type, Actor: e.Actor, KID: e.KID,
			IdempotencyKey: keyring.IdempotencyKey(e.IdempotencyKey), Data: e.Data}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
