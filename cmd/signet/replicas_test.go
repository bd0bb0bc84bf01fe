package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/loadtest"
	"github.com/signet-auth/signet/internal/postgres"
	"github.com/signet-auth/signet/internal/postgres/pgtest"
)

// The tests in this file run the real signet binary as separate processes:
// three replicas of one tenant on one fresh PostgreSQL database, reached
// with the same Host header as behind a load balancer.

// fleetHost is the public host every replica serves.
const fleetHost = "signet.test"

// binary is the signet binary, built once per test run by signetBinary.
var binary struct {
	once      sync.Once
	dir, path string
	err       error
}

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// signetBinary builds ./cmd/signet once and returns its path.
func signetBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		// go test puts its own GOROOT/bin first on the PATH.
		goTool, err := exec.LookPath("go")
		if err != nil {
			binary.err = err
			return
		}
		if binary.dir, binary.err = os.MkdirTemp("", "signet-bin-"); binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "signet")
		out, err := exec.Command(goTool, "build", "-o", binary.path, ".").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// proc is one `signet serve` process.
type proc struct {
	t       *testing.T
	args    []string // after serve --addr ADDR
	env     []string
	dataDir string
	addr    string // 127.0.0.1:port
	url     string // http://127.0.0.1:port
	logs    *syncBuffer
	cmd     *exec.Cmd
	exited  chan struct{}
}

// startProc starts `signet serve` on addr (127.0.0.1:0 for any port) and
// returns once it listens. It is stopped when the test ends.
func startProc(t *testing.T, bin, dataDir, addr, dsn, masterKey string, extra ...string) *proc {
	t.Helper()
	p := &proc{t: t, dataDir: dataDir, logs: &syncBuffer{},
		args: append([]string{"--data-dir", dataDir, "--database", dsn,
			"--public-url", "http://" + fleetHost, "--log-format", "json"}, extra...),
		env: append(os.Environ(), "SIGNET_MASTER_KEY="+masterKey)}
	p.start(addr)
	t.Cleanup(p.stop)
	return p
}

// start runs the process and waits for its "signet serving" log line.
func (p *proc) start(addr string) {
	p.t.Helper()
	p.cmd = exec.Command(signetBinary(p.t), append([]string{"serve", "--addr", addr}, p.args...)...)
	p.cmd.Env = p.env
	out, err := p.cmd.StderrPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	p.cmd.Stdout = p.logs
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.exited = make(chan struct{})
	listening := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		s.Buffer(make([]byte, 64<<10), 1<<20)
		for s.Scan() {
			line := s.Bytes()
			p.logs.Write(append(line, '\n'))
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "signet serving" {
				select {
				case listening <- rec.Addr:
				default:
				}
			}
		}
	}()
	go func() { p.cmd.Wait(); close(p.exited) }()
	select {
	case p.addr = <-listening:
	case <-p.exited:
		p.t.Fatalf("signet serve exited: %v\n%s", p.cmd.ProcessState, p.logs.String())
	case <-time.After(60 * time.Second):
		p.t.Fatalf("signet serve did not start:\n%s", p.logs.String())
	}
	p.url = "http://" + p.addr
}

// kill ends the process with SIGKILL: no shutdown, no cleanup.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// restart starts the process again on its former address.
func (p *proc) restart() { p.start(p.addr) }

// stop ends the process with SIGTERM, as an orchestrator does.
func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.t.Errorf("signet serve ignored SIGTERM for 20 s:\n%s", p.logs.String())
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// fleet is three replicas on one database.
type fleet struct {
	dsn   string
	procs []*proc
	creds credentials
	http  *http.Client
}

// startFleet starts n replicas on a fresh PostgreSQL database, one after
// the other (the first bootstraps the tenant and writes the admin
// credentials), each with its own data dir and the same master key.
func startFleet(t *testing.T, n int, extra ...string) *fleet {
	t.Helper()
	dsn := pgtest.Database(t)
	bin := signetBinary(t)
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i*7 + 3)
	}
	masterKey := base64.StdEncoding.EncodeToString(key)
	f := &fleet{dsn: dsn, http: hostClient(fleetHost)}
	f.http.Timeout = 60 * time.Second
	for range n {
		f.procs = append(f.procs, startProc(t, bin, t.TempDir(), "127.0.0.1:0", dsn, masterKey, extra...))
	}
	b, err := os.ReadFile(filepath.Join(f.procs[0].dataDir, credentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f.creds); err != nil {
		t.Fatal(err)
	}
	return f
}

// do makes a request to replica i with the fleet's Host header. It returns
// status 0 if the request could not be made.
func (f *fleet) do(t *testing.T, i int, method, path, bearer string, form url.Values) (int, []byte) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.procs[i].url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := f.http.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// token gets a Management API token from replica i.
func (f *fleet) token(t *testing.T, i int) string {
	t.Helper()
	status, body := f.do(t, i, "POST", "/oauth/token", "", url.Values{"grant_type": {"client_credentials"},
		"client_id": {f.creds.ClientID}, "client_secret": {f.creds.ClientSecret}, "audience": {f.creds.Audience}})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if status != 200 || json.Unmarshal(body, &tok) != nil {
		t.Fatalf("token from replica %d: %d %s", i, status, body)
	}
	return tok.AccessToken
}

// keys lists replica i's signing keys with a fresh token.
func (f *fleet) keys(t *testing.T, i int) []signingKey {
	t.Helper()
	status, body := f.do(t, i, "GET", "/api/v2/keys/signing", f.token(t, i), nil)
	var ks []signingKey
	if status != 200 || json.Unmarshal(body, &ks) != nil {
		t.Fatalf("keys of replica %d: %d %s", i, status, body)
	}
	return ks
}

// jwksKIDs returns the kids replica i's JWKS publishes.
func (f *fleet) jwksKIDs(t *testing.T, i int) []string {
	t.Helper()
	status, body := f.do(t, i, "GET", "/.well-known/jwks.json", "", nil)
	var set struct{ Keys []struct{ KID string } }
	if status != 200 || json.Unmarshal(body, &set) != nil {
		t.Fatalf("JWKS of replica %d: %d %s", i, status, body)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// within polls cond every 10 ms until it holds and returns how long that
// took after since; it fails the test if that is more than limit.
func within(t *testing.T, since time.Time, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	for !cond() {
		if time.Since(since) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	d := time.Since(since)
	t.Logf("%s after %v", what, d.Round(time.Millisecond))
	return d
}

// valid checks a key listing: exactly one current and one next key, and
// each key in exactly one state.
func valid(ks []signingKey) error {
	count := map[string]int{}
	for _, k := range ks {
		n := 0
		for _, b := range []*bool{k.Current, k.Next, k.Previous, k.Revoked} {
			if b != nil && *b {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("key %s is in %d states", *k.KID, n)
		}
		count[state(k)]++
	}
	if count["current"] != 1 || count["next"] != 1 {
		return fmt.Errorf("%d current and %d next keys among %d", count["current"], count["next"], len(ks))
	}
	return nil
}

// kidsOf returns the kids of ks in order, and the kid in state s.
func kidsOf(ks []signingKey) []string {
	var out []string
	for _, k := range ks {
		out = append(out, *k.KID)
	}
	return out
}

func kidIn(ks []signingKey, s string) string {
	for _, k := range ks {
		if state(k) == s {
			return *k.KID
		}
	}
	return ""
}

// rotations returns the number of rotation events in the tenant's audit
// log, read from the database through the store.
func (f *fleet) rotations(t *testing.T) int {
	t.Helper()
	db, err := postgres.Open(t.Context(), f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	evs, err := db.Events(t.Context(), "default", signet.EventFilter{Type: signet.EventKeyRotated, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// TestReplicas runs three replicas on one PostgreSQL database and checks
// that changes reach every replica within a second, that a replica killed
// in the middle of rotations leaves a valid keyset, that concurrent
// rotations through every replica are each counted once, and that under
// load with rotations every 2 s and a burst of 20 concurrent rotations
// (every fourth a rotate-and-revoke) no token of a non-revoked key fails to
// verify against any replica's JWKS.
func TestReplicas(t *testing.T) {
	f := startFleet(t, 3, "--jwks-max-age", "3s")

	oldToken := f.token(t, 0) // signed by the first current key
	first := f.keys(t, 0)
	if err := valid(first); err != nil {
		t.Fatal(err)
	}

	t.Run("rotate through one, the others publish it within 1s", func(t *testing.T) {
		status, body := f.do(t, 0, "POST", "/api/v2/keys/signing/rotate", f.token(t, 0), nil)
		if status != 201 {
			t.Fatalf("rotate = %d %s", status, body)
		}
		answered := time.Now() // the change was committed before the answer
		next := kidIn(f.keys(t, 0), "next")
		for _, i := range []int{1, 2} {
			within(t, answered, time.Second, fmt.Sprintf("replica %d publishes the new next key", i), func() bool {
				return slices.Contains(f.jwksKIDs(t, i), next)
			})
			within(t, answered, time.Second, fmt.Sprintf("replica %d signs with the new current key", i), func() bool {
				return kidOf(t, f.token(t, i)) == kidIn(first, "next")
			})
		}
	})

	t.Run("revoke through another, all three refuse the key within 1s", func(t *testing.T) {
		old := kidIn(first, "current")
		for i := range f.procs {
			if status, body := f.do(t, i, "GET", "/api/v2/keys/signing", oldToken, nil); status != 200 {
				t.Fatalf("replica %d refuses a token of the previous key before it is revoked: %d %s", i, status, body)
			}
		}
		status, body := f.do(t, 1, "PUT", "/api/v2/keys/signing/"+old+"/revoke", f.token(t, 1), nil)
		if status != 200 {
			t.Fatalf("revoke through replica 1 = %d %s", status, body)
		}
		answered := time.Now()
		for i := range f.procs {
			within(t, answered, time.Second, fmt.Sprintf("replica %d refuses the revoked key's token and no longer publishes it", i), func() bool {
				status, _ := f.do(t, i, "GET", "/api/v2/keys/signing", oldToken, nil)
				return status == 401 && !slices.Contains(f.jwksKIDs(t, i), old)
			})
		}
	})

	t.Run("SIGKILL during rotations leaves a valid keyset", func(t *testing.T) {
		victim := f.procs[2]
		before := f.keys(t, 0)
		rotated := f.rotations(t)
		var (
			inFlight, started atomic.Int64
			mu                sync.Mutex
			answered          []string // kids the answered rotations made current
			wg                sync.WaitGroup
		)
		tokens := make([]string, 4)
		for i := range tokens {
			tokens[i] = f.token(t, 2)
		}
		stop := make(chan struct{})
		for _, tok := range tokens {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					inFlight.Add(1)
					started.Add(1)
					status, body := f.do(t, 2, "POST", "/api/v2/keys/signing/rotate", tok, nil)
					inFlight.Add(-1)
					if status == 0 {
						return // killed
					}
					if status != 201 {
						t.Errorf("rotate = %d %s", status, body)
						return
					}
					var r struct{ KID string }
					json.Unmarshal(body, &r)
					mu.Lock()
					answered = append(answered, r.KID)
					mu.Unlock()
				}
			})
		}
		for started.Load() < 12 {
			time.Sleep(time.Millisecond)
		}
		for inFlight.Load() == 0 {
			runtime.Gosched()
		}
		victim.kill()
		close(stop)
		wg.Wait()
		t.Logf("killed replica 2 after %d rotate requests, %d answered", started.Load(), len(answered))

		// Replica 0 answers from its view, which follows the last commits
		// (made through replica 1, or by the victim just before it died)
		// within milliseconds: give it a second to catch up.
		n := f.rotations(t) - rotated
		after := f.keys(t, 0)
		for deadline := time.Now().Add(time.Second); len(after) != len(before)+n && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
			after = f.keys(t, 0)
		}
		if err := valid(after); err != nil {
			t.Fatalf("keyset after the kill: %v", err)
		}
		if len(after) != len(before)+n {
			t.Errorf("%d keys after %d committed rotations, had %d: keys lost or made without an event", len(after), n, len(before))
		}
		if n < len(answered) {
			t.Errorf("%d rotations committed, %d answered", n, len(answered))
		}
		for _, kid := range append(kidsOf(before), answered...) {
			if !slices.Contains(kidsOf(after), kid) {
				t.Errorf("key %s lost", kid)
			}
		}
		victim.restart()
		within(t, time.Now(), 10*time.Second, "the restarted replica lists the same keys", func() bool {
			return slices.Equal(kidsOf(f.keys(t, 2)), kidsOf(f.keys(t, 0)))
		})
	})

	t.Run("100 concurrent rotations over the replicas", func(t *testing.T) {
		rotated := f.rotations(t)
		before := len(f.keys(t, 0))
		tokens := make([]string, len(f.procs))
		for i := range tokens {
			tokens[i] = f.token(t, i)
		}
		var (
			ok, failed atomic.Int64
			wg         sync.WaitGroup
			start      = make(chan struct{})
		)
		for n := range 100 {
			i := n % len(f.procs)
			wg.Go(func() {
				<-start
				status, body := f.do(t, i, "POST", "/api/v2/keys/signing/rotate", tokens[i], nil)
				if status == 201 {
					ok.Add(1)
					return
				}
				failed.Add(1)
				t.Logf("rotate through replica %d = %d %s", i, status, body)
			})
		}
		t0 := time.Now()
		close(start)
		wg.Wait()
		t.Logf("100 concurrent rotations: %d answered 201, %d failed, in %v", ok.Load(), failed.Load(), time.Since(t0).Round(time.Millisecond))
		n := f.rotations(t) - rotated
		if int64(n) != ok.Load() {
			t.Errorf("%d rotation events for %d successful responses", n, ok.Load())
		}
		if ok.Load() == 0 {
			t.Fatal("no rotation succeeded")
		}
		ks := f.keys(t, 0)
		if err := valid(ks); err != nil {
			t.Fatal(err)
		}
		if len(ks) != before+n {
			t.Errorf("%d keys after %d rotations from %d", len(ks), n, before)
		}
		for i := range f.procs {
			within(t, time.Now(), 5*time.Second, fmt.Sprintf("replica %d lists the same valid keyset", i), func() bool {
				got := f.keys(t, i)
				return valid(got) == nil && slices.Equal(kidsOf(got), kidsOf(ks))
			})
		}
	})

	t.Run("load with rotations every 2s and a burst of 20 with rotate-and-revoke", func(t *testing.T) {
		var urls []string
		for _, p := range f.procs {
			urls = append(urls, p.url)
		}
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(signetBinary(t), "loadtest", "--url", strings.Join(urls, ","), "--host", fleetHost,
			"--credentials", filepath.Join(f.procs[0].dataDir, credentialsFile), "--duration", "20s",
			"--rotate-every", "2s", "--revoke-every", "3", "--rotate-via", "1", "--burst", "20", "--burst-revoke-every", "4", "--json")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var rep loadtest.Report
		if jerr := json.Unmarshal(stdout.Bytes(), &rep); jerr != nil {
			t.Fatalf("signet loadtest: %v, report %v\n%s\n%s", err, jerr, stdout.String(), stderr.String())
		}
		t.Logf("\n%s", rep.String())
		if err != nil || !rep.OK() {
			t.Errorf("signet loadtest: %v: %d verification failures of non-revoked keys\n%s", err, rep.Failures.NotRevoked, stderr.String())
		}
		if rep.Tokens == 0 || len(rep.TokenErrors) > 0 || len(rep.ChangeErrors) > 0 || rep.Failures.JWKSUnavailable > 0 {
			t.Errorf("tokens %d, token errors %v, change errors %v, JWKS unavailable %d",
				rep.Tokens, rep.TokenErrors, rep.ChangeErrors, rep.Failures.JWKSUnavailable)
		}
		if len(rep.Changes) < 5 || rep.Unpropagated > 0 {
			t.Errorf("%d changes, %d change×replica not propagated", len(rep.Changes), rep.Unpropagated)
		}
	})
}

// TestLoadtestUsage checks that `signet loadtest` refuses bad command lines
// before sending anything.
func TestLoadtestUsage(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "creds.json")
	os.WriteFile(creds, []byte(`{"client_id":"a","client_secret":"b","audience":"http://x/api/v2/"}`), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"loadtest", "--bogus"}, 2, "loadtest: unknown flag -bogus"},
		{[]string{"loadtest", "--credentials", creds}, 1, "no replica URL"},
		{[]string{"loadtest", "--url", "http://127.0.0.1:1"}, 1, "need a client id"},
		{[]string{"loadtest", "--url", "ftp://x", "--credentials", creds}, 1, "want http(s)://host[:port]"},
		{[]string{"loadtest", "--url", "http://127.0.0.1:1", "--credentials", creds, "--rotate-via", "1"}, 1, "there are 1"},
		{[]string{"loadtest", "--url", "http://127.0.0.1:1", "--credentials", filepath.Join(t.TempDir(), "none")}, 1, "no such file"},
		{[]string{"loadtest", "--url", "http://127.0.0.1:1", "--credentials", creds, "extra"}, 2, `loadtest: unexpected argument "extra"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(t.Context(), tc.args, Env{Stdout: &out, Stderr: &errb})
			if code != tc.code || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), tc.code, tc.want)
			}
		})
	}
}

// TestReplicaStopsSigningWhenCutOff runs two replicas, the second reaching
// PostgreSQL through a proxy that then black-holes its traffic while a key
// is rotated and revoked through the first: once its view is older than
// --max-staleness the cut-off replica answers /readyz with 503 (the token
// endpoint refuses too, see keyring.TestStopsSigningWhenCutOff; here its
// client lookup would wait on the black-holed database), and once the
// traffic flows again it is ready and signs with the new key.
func TestReplicaStopsSigningWhenCutOff(t *testing.T) {
	dsn := pgtest.Database(t)
	proxy, viaProxy := pgtest.NewProxy(t, dsn)
	bin := signetBinary(t)
	masterKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	f := &fleet{dsn: dsn, http: hostClient(fleetHost)}
	f.http.Timeout = 30 * time.Second
	f.procs = append(f.procs, startProc(t, bin, t.TempDir(), "127.0.0.1:0", dsn, masterKey))
	f.procs = append(f.procs, startProc(t, bin, t.TempDir(), "127.0.0.1:0", viaProxy, masterKey, "--max-staleness", "1s"))
	b, err := os.ReadFile(filepath.Join(f.procs[0].dataDir, credentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f.creds); err != nil {
		t.Fatal(err)
	}
	// /readyz with a short timeout: before the bound it may wait on the
	// black-holed database (its own timeout is another setting).
	quick := hostClient(fleetHost)
	quick.Timeout = 300 * time.Millisecond
	readyz := func() int {
		resp, err := quick.Get(f.procs[1].url + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := readyz(); got != 200 {
		t.Fatalf("replica 1 /readyz before the cut = %d", got)
	}
	leaked := kidOf(t, f.token(t, 1))

	proxy.Hold()
	status, body := f.do(t, 0, "POST", "/api/v2/keys/signing/rotate?revoke_current=true", f.token(t, 0), nil)
	if status != 201 {
		t.Fatalf("rotate-and-revoke through replica 0 = %d %s", status, body)
	}
	within(t, time.Now(), 4*time.Second, "the cut-off replica answers /readyz 503", func() bool { return readyz() == 503 })

	proxy.Release()
	within(t, time.Now(), 15*time.Second, "the replica is ready again and signs with the new key", func() bool {
		status, body := f.do(t, 1, "POST", "/oauth/token", "", url.Values{"grant_type": {"client_credentials"},
			"client_id": {f.creds.ClientID}, "client_secret": {f.creds.ClientSecret}, "audience": {f.creds.Audience}})
		if status != 200 {
			return false
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		json.Unmarshal(body, &tok)
		return kidOf(t, tok.AccessToken) != leaked && readyz() == 200
	})
	if slices.Contains(f.jwksKIDs(t, 1), leaked) {
		t.Errorf("replica 1 still publishes the revoked key %s", leaked)
	}
}
