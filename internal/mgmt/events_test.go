package mgmt_test

import (
	"net/http"
	"testing"
	"time"
)

func TestEvents(t *testing.T) {
	e := newEnv(t)
	all := e.token("")
	v := e.view("default")
	oldCurrent := v.Current.KID
	if rec := e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate", token: all,
		header: map[string]string{"Idempotency-Key": "k1"}}); rec.Code != http.StatusCreated {
		t.Fatalf("rotate = %d", rec.Code)
	}
	token := e.token("") // the old one is still valid; use a fresh one anyway
	if rec := e.do(req{method: "PUT", path: "/api/v2/keys/signing/" + oldCurrent + "/revoke", token: token}); rec.Code != http.StatusOK {
		t.Fatalf("revoke = %d %s", rec.Code, rec.Body)
	}
	type event struct {
		Seq            int64
		Date           time.Time
		Type, Actor    string
		KID            string
		IdempotencyKey string `json:"idempotency_key"`
		Data           map[string]string
	}
	evs := decode[[]event](t, e.do(req{method: "GET", path: "/api/v2/keys/signing/events", token: token}))
	if len(evs) != 3 {
		t.Fatalf("%d events, want created, rotated, revoked: %+v", len(evs), evs)
	}
	if evs[0].Type != "signing_key.revoked" || evs[0].KID != oldCurrent || evs[0].Actor != e.adminID {
		t.Errorf("newest event = %+v", evs[0])
	}
	if evs[1].Type != "signing_key.rotated" || evs[1].IdempotencyKey != "k1" || evs[1].Data["previous_kid"] != oldCurrent {
		t.Errorf("rotation event = %+v", evs[1])
	}
	if !(evs[0].Seq > evs[1].Seq && evs[1].Seq > evs[2].Seq) || evs[0].Date.IsZero() {
		t.Errorf("events not newest first with dates: %+v", evs)
	}
	one := decode[[]event](t, e.do(req{method: "GET", path: "/api/v2/keys/signing/events?type=signing_key.rotated&per_page=1", token: token}))
	if len(one) != 1 || one[0].Type != "signing_key.rotated" {
		t.Errorf("filtered events = %+v", one)
	}
	if rec := e.do(req{method: "GET", path: "/api/v2/keys/signing/events?per_page=0", token: token}); rec.Code != http.StatusBadRequest {
		t.Errorf("per_page=0 = %d, want 400", rec.Code)
	}
	if rec := e.do(req{method: "GET", path: "/api/v2/keys/signing/events", token: e.token("create:signing_keys")}); rec.Code != http.StatusForbidden {
		t.Errorf("without read:signing_keys = %d, want 403", rec.Code)
	}
	// Tenant "other" sees only its own events.
	other := e.tokenFor(otherHost, "http://"+otherHost+"/api/v2/", e.otherID, e.otherSecret, "")
	if evs := decode[[]event](t, e.do(req{method: "GET", path: "/api/v2/keys/signing/events", token: other, host: otherHost})); len(evs) != 1 {
		t.Errorf("tenant other sees %d events, want its own 1", len(evs))
	}
}
