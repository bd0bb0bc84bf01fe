// Command oidc is a minimal relying party: a web application that signs its
// users in with Signet through the OpenID Connect authorization-code flow
// with PKCE, using the certified libraries github.com/coreos/go-oidc/v3 and
// golang.org/x/oauth2.
//
//	go run ./examples/oidc -issuer http://localhost:8080/ -client-id CLIENT_ID
//
// Register the application first (see the README): callback
// http://localhost:3000/callback, allowed logout URL http://localhost:3000/.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func main() {
	issuer := flag.String("issuer", "http://localhost:8080/", "Signet tenant's issuer URL")
	clientID := flag.String("client-id", "", "the application's client_id")
	clientSecret := flag.String("client-secret", "", "the application's secret (none for a public client)")
	addr := flag.String("addr", "localhost:3000", "where this application listens")
	flag.Parse()
	app, err := newApp(context.Background(), *issuer, *clientID, *clientSecret, "http://"+*addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("open http://%s/", *addr)
	log.Fatal(http.ListenAndServe(*addr, app))
}

// app is the relying party.
type app struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
	issuer   string // with the trailing slash
	base     string // this application's URL
}

// newApp discovers the provider at issuer and returns the application's handler.
func newApp(ctx context.Context, issuer, clientID, clientSecret, base string) (http.Handler, error) {
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	a := &app{
		provider: p,
		verifier: p.Verifier(&oidc.Config{ClientID: clientID}),
		oauth: oauth2.Config{ClientID: clientID, ClientSecret: clientSecret, Endpoint: p.Endpoint(),
			RedirectURL: base + "/callback", Scopes: []string{oidc.ScopeOpenID, "profile", "email"}},
		issuer: strings.TrimSuffix(issuer, "/") + "/",
		base:   base,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("GET /logout", a.logout)
	return mux, nil
}

var page = template.Must(template.New("").Parse(`<!DOCTYPE html><title>Example app</title>
{{if .}}<p>Signed in as <b>{{.Email}}</b> ({{.Subject}}).</p><pre>{{.Claims}}</pre><p><a href="/logout">Sign out</a></p>
{{else}}<p><a href="/login">Sign in with Signet</a></p>{{end}}`))

func (a *app) home(w http.ResponseWriter, r *http.Request) { page.Execute(w, nil) }

// login starts the flow: fresh state, nonce and PKCE verifier, kept in a
// short-lived cookie until the callback.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	v := url.Values{"state": {state}, "nonce": {nonce}, "verifier": {verifier}}
	http.SetCookie(w, &http.Cookie{Name: "flow", Value: v.Encode(), Path: "/", MaxAge: 600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, a.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// callback checks state, exchanges the code (with the PKCE verifier) and
// verifies the ID token (signature with the tenant's JWKS, iss, aud, exp,
// nonce, at_hash).
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie("flow")
	if err != nil {
		http.Error(w, "no sign-in in progress", http.StatusBadRequest)
		return
	}
	flow, _ := url.ParseQuery(c.Value)
	http.SetCookie(w, &http.Cookie{Name: "flow", Path: "/", MaxAge: -1})
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		http.Error(w, e+": "+q.Get("error_description"), http.StatusForbidden)
		return
	}
	if q.Get("state") == "" || q.Get("state") != flow.Get("state") {
		http.Error(w, "state mismatch", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	tok, err := a.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(flow.Get("verifier")))
	if err != nil {
		http.Error(w, "code exchange: "+err.Error(), http.StatusBadGateway)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := a.verifier.Verify(ctx, raw)
	if err != nil || id.Nonce != flow.Get("nonce") || id.VerifyAccessToken(tok.AccessToken) != nil {
		http.Error(w, "invalid ID token", http.StatusBadGateway)
		return
	}
	var claims struct {
		Email string `json:"email"`
	}
	var all map[string]any
	id.Claims(&claims)
	id.Claims(&all)
	pretty, _ := json.MarshalIndent(all, "", "  ")
	// A real application would now start its own session.
	page.Execute(w, map[string]string{"Email": claims.Email, "Subject": id.Subject, "Claims": string(pretty)})
}

// logout ends the Signet session too (Auth0's /v2/logout) and comes back
// to the home page, an allowed logout URL of the application.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	q := url.Values{"client_id": {a.oauth.ClientID}, "returnTo": {a.base + "/"}}
	http.Redirect(w, r, a.issuer+"v2/logout?"+q.Encode(), http.StatusFound)
}

func random() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
