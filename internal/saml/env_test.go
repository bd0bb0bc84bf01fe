package saml_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/oidc"
	"github.com/signet-auth/signet/internal/password"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/saml"
	"github.com/signet-auth/signet/internal/secret"
	"github.com/signet-auth/signet/internal/sqlite"
)

var pool = keygen.NewPool(4)

func TestMain(m *testing.M) {
	// Cheap password hashes: the tests sign in many times.
	password.Default = ringtest.FastPasswords
	os.Exit(ringtest.Main(m, pool))
}

const (
	testEmail    = "ada@example.com"
	testPassword = "correct horse battery staple"
)

// env is one tenant served by the real server on loopback with the real
// OIDC login and the SAML handler, and a service provider on another
// loopback server whose ACS runs crewjam/saml.
type env struct {
	t     *testing.T
	store *sqlite.DB
	ring  *keyring.Ring
	clock *ringtest.Clock
	srv   *httptest.Server
	base  string // http://127.0.0.1:PORT/ (the issuer)
	host  string
	user  signet.User

	sp      *httptest.Server
	spMu    sync.Mutex
	spByApp map[string]*crewjam.ServiceProvider // the SP each ACS path uses
}

type envOptions struct {
	alg string // tenant algorithm; "" = RS256
	// publishDelay is keyring.Config.PublishDelay; with it the ring runs on
	// the env's clock too, which then starts an hour in the past so that a
	// test can age the tenant's first keys and still be on time for the SP.
	publishDelay time.Duration
}

func newEnv(t *testing.T, opt envOptions) *env {
	t.Helper()
	clk := ringtest.NewClock(time.Now().UTC().Truncate(time.Second))
	ro := ringtest.Options{Pool: pool}
	if opt.publishDelay > 0 {
		clk.Add(-time.Hour)
		ro.Now, ro.PublishDelay = clk.Now, opt.publishDelay
	}
	re := ringtest.New(t, ro)
	e := &env{t: t, store: re.Store, ring: re.Ring, clock: clk, spByApp: map[string]*crewjam.ServiceProvider{}}
	auth := oidc.New(oidc.Config{Ring: re.Ring, Store: re.Store, Users: re.Store, Now: e.clock.Now})
	h := saml.New(saml.Config{Store: re.Store, Auth: auth, LoginURL: oidc.LoginURL, Now: e.clock.Now})
	e.srv = re.Serve(t, "default", opt.alg, auth, h)
	e.host = e.srv.Listener.Addr().String()
	e.base = e.srv.URL + "/"

	e.sp = httptest.NewServer(http.HandlerFunc(e.serveACS))
	t.Cleanup(e.sp.Close)

	e.user = re.CreateUser(t, signet.User{Tenant: "default", Email: testEmail, EmailVerified: true,
		Name: "Ada Lovelace", CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}, testPassword)
	return e
}

// app stores a client with a SAML add-on (and WS-Fed add-on if wsfed) whose
// ACS is the SP server's /acs/<client id>, and returns the client.
func (e *env) app(addon signet.SAMLAddon, wsfed bool) signet.Client {
	e.t.Helper()
	id := secret.ClientID()
	acs := e.sp.URL + "/acs/" + id
	if addon.Audience == "" {
		addon.Audience = "urn:sp:" + id
	}
	c := signet.Client{Tenant: "default", ClientID: id, Name: "SP " + id, AppType: "regular_web",
		GrantTypes: []string{"authorization_code"}, Callbacks: []string{acs}, AllowedLogoutURLs: []string{e.sp.URL + "/bye"},
		Addons: signet.ClientAddons{SAMLP: &addon}}
	if wsfed {
		c.Addons.WSFed = &signet.WSFedAddon{}
	}
	if err := e.store.CreateClient(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// acs returns the ACS URL of an application.
func (e *env) acs(c signet.Client) string { return e.sp.URL + "/acs/" + c.ClientID }

// metadata fetches an application's IdP metadata over HTTP.
func (e *env) metadata(c signet.Client) ([]byte, *crewjam.EntityDescriptor) {
	e.t.Helper()
	res, err := http.Get(e.base + "samlp/metadata/" + c.ClientID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		e.t.Fatalf("metadata: %d %s", res.StatusCode, b)
	}
	var ed crewjam.EntityDescriptor
	if err := xml.Unmarshal(b, &ed); err != nil {
		e.t.Fatalf("metadata does not parse: %v\n%s", err, b)
	}
	return b, &ed
}

// serviceProvider returns a crewjam SP for c configured from md.
func (e *env) serviceProvider(c signet.Client, md *crewjam.EntityDescriptor) *crewjam.ServiceProvider {
	acs, _ := url.Parse(e.acs(c))
	meta, _ := url.Parse(e.sp.URL + "/metadata/" + c.ClientID)
	return &crewjam.ServiceProvider{
		EntityID:          c.Addons.SAMLP.Audience,
		AcsURL:            *acs,
		MetadataURL:       *meta,
		IDPMetadata:       md,
		AllowIDPInitiated: true,
	}
}

// useSP makes the SP server's ACS for c parse responses with sp.
func (e *env) useSP(c signet.Client, sp *crewjam.ServiceProvider) {
	e.spMu.Lock()
	defer e.spMu.Unlock()
	e.spByApp[c.ClientID] = sp
}

// acsResult is what the SP server's ACS answers: the NameID and
// attributes crewjam read, or its error.
type acsResult struct {
	NameID     string              `json:"name_id"`
	Attributes map[string][]string `json:"attributes"`
	RelayState string              `json:"relay_state"`
	Error      string              `json:"error"`
}

// serveACS is the SP: POST /acs/{client} parses the response with
// crewjam/saml, accepting InResponseTo the ids in the request_ids query.
func (e *env) serveACS(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/acs/")
	e.spMu.Lock()
	sp := e.spByApp[id]
	e.spMu.Unlock()
	if !ok || sp == nil || r.Method != "POST" {
		http.NotFound(w, r)
		return
	}
	r.ParseForm()
	var ids []string
	if s := r.Header.Get("X-Request-Ids"); s != "" {
		ids = strings.Split(s, ",")
	}
	var out acsResult
	out.RelayState = r.PostForm.Get("RelayState")
	a, err := sp.ParseResponse(r, ids)
	if err != nil {
		out.Error = err.Error()
		var ie *crewjam.InvalidResponseError
		if errors.As(err, &ie) {
			out.Error += ": " + ie.PrivateErr.Error()
		}
	} else {
		out.NameID = a.Subject.NameID.Value
		out.Attributes = map[string][]string{}
		for _, st := range a.AttributeStatements {
			for _, at := range st.Attributes {
				for _, v := range at.Values {
					out.Attributes[at.Name] = append(out.Attributes[at.Name], v.Value)
				}
			}
		}
	}
	json.NewEncoder(w).Encode(out)
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
type browser struct {
	t *testing.T
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	return &browser{t: e.t, e: e, c: ringtest.Browser()}
}

// response is what a test looks at.
type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, target string, form url.Values, hdr ...string) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	if strings.HasPrefix(target, "/") {
		target = strings.TrimSuffix(b.e.base, "/") + target
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(rb)}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login signs in on the login page for returnTo and returns the answer
// (a redirect to returnTo).
func (b *browser) login(returnTo string) response {
	b.t.Helper()
	p := b.do("GET", oidc.LoginURL(returnTo), nil)
	m := csrfField.FindStringSubmatch(p.body)
	if p.status != 200 || m == nil {
		b.t.Fatalf("login page = %d %s", p.status, p.body)
	}
	return b.do("POST", "/login", url.Values{"csrf": {m[1]}, "return_to": {returnTo}, "email": {testEmail}, "password": {testPassword}})
}

// follow goes to target (GET), signing in when sent to the login page and
// following redirects on Signet's host, until a page that is not a
// redirect: the auto-posting form, or an error page.
func (b *browser) follow(target string) response {
	b.t.Helper()
	r := b.do("GET", target, nil)
	for i := 0; i < 5 && (r.status == http.StatusFound || r.status == http.StatusSeeOther); i++ {
		loc := r.header.Get("Location")
		if strings.HasPrefix(loc, "/login") {
			u, _ := url.Parse(loc)
			r = b.login(u.Query().Get("return_to"))
			continue
		}
		r = b.do("GET", loc, nil)
	}
	return r
}

// form is an auto-posting form read from a page.
type form struct {
	action string
	fields url.Values
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenIn   = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// postForm reads the auto-posting form of a page; it fails the test if
// the page has none.
func postForm(t *testing.T, r response) form {
	t.Helper()
	m := formAction.FindStringSubmatch(r.body)
	if r.status != 200 || m == nil {
		t.Fatalf("no auto-post form: %d %s", r.status, r.body)
	}
	f := form{action: html.UnescapeString(m[1]), fields: url.Values{}}
	for _, h := range hiddenIn.FindAllStringSubmatch(r.body, -1) {
		f.fields.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	return f
}

// submit posts a form as the browser would, with the request ids the SP
// expects.
func (b *browser) submit(f form, requestIDs ...string) acsResult {
	b.t.Helper()
	r := b.do("POST", f.action, f.fields, "X-Request-Ids", strings.Join(requestIDs, ","))
	var out acsResult
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		b.t.Fatalf("ACS answered %d %s", r.status, r.body)
	}
	return out
}
