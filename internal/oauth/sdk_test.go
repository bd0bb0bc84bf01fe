package oauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestClientCredentialsSDK gets tokens with golang.org/x/oauth2, which both
// go-auth0 generations use: Basic with url.QueryEscape'd credentials first
// (auto-detect), and client_secret_post.
func TestClientCredentialsSDK(t *testing.T) {
	e := newEnv(t)
	oddID, oddSecret := e.addClient("odd:id+/ä", "s3:cr+t/ %&=?", []string{"client_credentials"})
	e.grant(oddID, apiAud, []string{"read:things"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Host = host
		e.serve.ServeHTTP(w, e.withTenant(r))
	}))
	defer srv.Close()

	tests := []struct {
		name, id, secret string
		style            oauth2.AuthStyle
		aud, wantScope   string
	}{
		{"auto-detect", e.clientID, e.secret, oauth2.AuthStyleAutoDetect, mgmtAud, ""},
		{"basic, escaped credentials", oddID, oddSecret, oauth2.AuthStyleInHeader, apiAud, "read:things"},
		{"post, escaped credentials", oddID, oddSecret, oauth2.AuthStyleInParams, apiAud, "read:things"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := clientcredentials.Config{
				ClientID: tt.id, ClientSecret: tt.secret, TokenURL: srv.URL + "/oauth/token",
				EndpointParams: map[string][]string{"audience": {tt.aud}}, AuthStyle: tt.style,
			}
			tok, err := cfg.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") || tok.Expiry.IsZero() {
				t.Errorf("token = %+v", tok)
			}
			if s, _ := tok.Extra("scope").(string); tt.wantScope != "" && s != tt.wantScope {
				t.Errorf("scope = %q, want %q", s, tt.wantScope)
			}
		})
	}
	// A wrong secret surfaces as an oauth2.RetrieveError with invalid_client.
	cfg := clientcredentials.Config{ClientID: e.clientID, ClientSecret: "wrong", TokenURL: srv.URL + "/oauth/token",
		EndpointParams: map[string][]string{"audience": {apiAud}}}
	_, err := cfg.Token(context.Background())
	if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 {
		t.Errorf("wrong secret: %v", err)
	}
}
