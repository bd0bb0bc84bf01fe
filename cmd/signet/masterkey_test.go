package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // raw access to a data dir's database

	"github.com/signet-auth/signet/internal/postgres/pgtest"
)

// runMain runs Main with args and the environment env, and returns its exit
// code, stdout and stderr.
func runMain(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errb.String()
}

// randomKey returns a new master key as SIGNET_MASTER_KEY holds it.
func randomKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// metaValue returns the meta row name of the data dir's database ("" if none).
func metaValue(t *testing.T, dir, name string) string {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow(`SELECT value FROM meta WHERE name = ?`, name).Scan(&v); err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	return v
}

// deleteMeta empties the data dir's meta table, as in a data dir made by a
// version before it.
func deleteMeta(t *testing.T, dir string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM meta`); err != nil {
		t.Fatal(err)
	}
}

// TestWrongMasterKeyWritesNothing runs the commands that seal new keys with
// a wrong SIGNET_MASTER_KEY, and from another data dir with only --database
// (no master.key there): each exits non-zero naming where its key came
// from, and nothing is written: the keys and tenants stay as they were and
// no master.key appears.
func TestWrongMasterKeyWritesNothing(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir)
	db := filepath.Join(dir, "signet.db")
	keyFile, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	keysBefore, err := in.run("keys", "list")
	if err != nil {
		t.Fatal(err)
	}
	tenantsBefore, err := in.run("tenants", "list")
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()

	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"keys rotate, wrong SIGNET_MASTER_KEY", map[string]string{"SIGNET_MASTER_KEY": randomKey()},
			[]string{"keys", "rotate", "--data-dir", dir}, []string{"SIGNET_MASTER_KEY", "not the one", "nothing was written"}},
		{"keys rotate --revoke-current, wrong SIGNET_MASTER_KEY", map[string]string{"SIGNET_MASTER_KEY": randomKey()},
			[]string{"keys", "rotate", "--revoke-current", "--data-dir", dir}, []string{"SIGNET_MASTER_KEY", "not the one"}},
		{"tenants create, wrong SIGNET_MASTER_KEY", map[string]string{"SIGNET_MASTER_KEY": randomKey()},
			[]string{"tenants", "create", "acme", "--data-dir", dir}, []string{"SIGNET_MASTER_KEY", "not the one"}},
		{"keys rotate, another data dir", nil,
			[]string{"keys", "rotate", "--data-dir", elsewhere, "--database", db},
			[]string{filepath.Join(elsewhere, "master.key"), "does not exist", "no new key was made"}},
		{"tenants create, another data dir", nil,
			[]string{"tenants", "create", "acme", "--data-dir", elsewhere, "--database", "sqlite:" + db},
			[]string{filepath.Join(elsewhere, "master.key"), "does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, tt.env, tt.args...)
			if code == 0 {
				t.Fatalf("exit 0, want non-zero; stdout:\n%s", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(elsewhere, "master.key")); !os.IsNotExist(err) {
				t.Errorf("a master.key was made in the other data dir (stat: %v)", err)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, "master.key")); !bytes.Equal(got, keyFile) {
				t.Error("master.key changed")
			}
			if got, _ := in.run("keys", "list"); got != keysBefore {
				t.Errorf("keys changed:\n%s\nwant\n%s", got, keysBefore)
			}
			if got, _ := in.run("tenants", "list"); got != tenantsBefore {
				t.Errorf("tenants changed:\n%s\nwant\n%s", got, tenantsBefore)
			}
		})
	}

	// The right key, from the file or from SIGNET_MASTER_KEY, still works.
	if _, err := in.run("tenants", "create", "acme"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SIGNET_MASTER_KEY": strings.TrimSpace(string(keyFile))}
	if code, _, stderr := runMain(t, env, "keys", "rotate", "--tenant", "acme", "--data-dir", elsewhere, "--database", db); code != 0 {
		t.Fatalf("keys rotate with the right SIGNET_MASTER_KEY: exit %d: %s", code, stderr)
	}
}

// TestServeRefusesWithoutMasterKey deletes master.key from a data dir whose
// database holds keys: serve refuses, naming the file, and makes no new one.
func TestServeRefusesWithoutMasterKey(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir)
	in.stop()
	keyPath := filepath.Join(dir, "master.key")
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runMain(t, nil, "serve", "--addr", "127.0.0.1:0", "--data-dir", dir)
	if code == 0 {
		t.Fatal("serve exited 0")
	}
	for _, w := range []string{keyPath, "does not exist", "restore"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if _, err := os.Stat(keyPath); !os.IsNotExist(err) {
		t.Errorf("serve made a new master.key (stat: %v)", err)
	}
}

// TestMasterKeyCheckUpgrade starts on a database from before key-check
// values (its meta table emptied): a wrong key is refused without recording
// anything, because no sealed key opens under it; the right key opens one,
// and the check value is recorded; from then on a wrong key is refused by
// the check value, and serve and the CLI work with the right one.
func TestMasterKeyCheckUpgrade(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir)
	creds := in.credentials()
	in.stop()
	deleteMeta(t, dir)

	wrong := map[string]string{"SIGNET_MASTER_KEY": randomKey()}
	code, _, stderr := runMain(t, wrong, "serve", "--addr", "127.0.0.1:0", "--data-dir", dir)
	if code == 0 || !strings.Contains(stderr, "not the one") || !strings.Contains(stderr, "none of the 2 sealed keys") {
		t.Fatalf("serve with a wrong key on an old database: exit %d:\n%s", code, stderr)
	}
	if v := metaValue(t, dir, metaKeyCheck); v != "" {
		t.Fatalf("a wrong key recorded a check value %q", v)
	}

	in = start(t, dir, "--addr", in.addr)
	if metaValue(t, dir, metaKeyCheck) == "" {
		t.Fatal("the right key's first start recorded no check value")
	}
	if in.credentials() != creds {
		t.Error("the upgrade rewrote admin-credentials.json")
	}
	in.keys(in.token(creds))
	if _, err := in.run("keys", "rotate"); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runMain(t, wrong, "keys", "rotate", "--data-dir", dir)
	if code == 0 || !strings.Contains(stderr, "not the one") || !strings.Contains(stderr, "key id") {
		t.Fatalf("keys rotate with a wrong key after the upgrade: exit %d:\n%s", code, stderr)
	}
}

// TestMasterKeyRaceOnEmptyPostgres starts two replicas at once on one empty
// PostgreSQL database, each with its own data dir and no SIGNET_MASTER_KEY,
// so each makes its own master.key: exactly one key becomes the database's;
// the other replica refuses, and the key file it made is gone.
func TestMasterKeyRaceOnEmptyPostgres(t *testing.T) {
	dsn := pgtest.Database(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		dir  string
		code int
		logs *syncBuffer
	}
	results := make(chan result, 2)
	ready := make(chan string, 2)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for range 2 {
		r := result{dir: t.TempDir(), logs: &syncBuffer{}}
		wg.Go(func() {
			r.code = Main(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", r.dir, "--database", dsn},
				Env{Stdout: r.logs, Stderr: r.logs, Getenv: func(string) string { return "" },
					Ready: func(string) { ready <- r.dir }})
			results <- r
		})
	}
	var winner string
	var loser result
	for winner == "" || loser.dir == "" {
		select {
		case d := <-ready:
			if winner != "" {
				t.Fatal("both replicas started, each with its own master key")
			}
			winner = d
		case r := <-results:
			if r.code == 0 || loser.dir != "" {
				t.Fatalf("a replica stopped with exit %d:\n%s", r.code, r.logs.String())
			}
			loser = r
		case <-time.After(60 * time.Second):
			t.Fatal("the replicas neither started nor stopped")
		}
	}
	if s := loser.logs.String(); !strings.Contains(s, "not the one") && !strings.Contains(s, "does not exist") {
		t.Errorf("the losing replica's error does not explain:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(loser.dir, "master.key")); !os.IsNotExist(err) {
		t.Errorf("the losing replica left its master.key (stat: %v)", err)
	}
	if _, err := os.Stat(filepath.Join(winner, "master.key")); err != nil {
		t.Errorf("the winner's master.key: %v", err)
	}
}
