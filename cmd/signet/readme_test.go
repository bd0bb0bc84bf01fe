package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// readmeWalkthrough returns the fenced sh block under "## Walkthrough with
// curl" in the repository's README.md.
func readmeWalkthrough(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Walkthrough with curl\n")
	if !ok {
		t.Fatal(`README.md has no "## Walkthrough with curl" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "\n```sh\n")
	if !ok {
		t.Fatal("the walkthrough has no ```sh block")
	}
	block, _, ok = strings.Cut(block, "\n```\n")
	if !ok {
		t.Fatal("the walkthrough's ```sh block is not closed")
	}
	for _, v := range []string{"${BASE:-", "${CREDS:-"} {
		if !strings.Contains(block, v) {
			t.Fatalf("the walkthrough no longer reads %s…}: this test sets BASE and CREDS", v)
		}
	}
	return block
}

// TestReadmeWalkthrough runs the README's curl walkthrough, as extracted
// from README.md, with bash -euo pipefail against a running server, three
// times: twice in a row, then after one more rotation (as the dashboard
// makes), so that two previous keys are listed when step 5 picks one. Each
// run must list the keys, rotate, publish the JWKS, revoke the key that was
// current before its rotation (printing its kid) and see its token refused.
func TestReadmeWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required under CI (.ci/run installs it): %v", tool, err)
			}
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	script := readmeWalkthrough(t)
	in := start(t, t.TempDir())
	creds := in.credentials()

	for run := 1; run <= 3; run++ {
		if run == 3 {
			if status, body, _ := in.call("POST", "/api/v2/keys/signing/rotate", in.token(creds), nil); status != 201 {
				t.Fatalf("rotate between runs = %d %s", status, body)
			}
		}
		before := in.keys(in.token(creds))
		current, next := kidInState(before, "current"), kidInState(before, "next")

		cmd := exec.Command("bash", "-euo", "pipefail", "-c", markSteps(script))
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "BASE="+in.base, "CREDS="+filepath.Join(in.dataDir, credentialsFile))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, out)
		}
		steps := walkthroughSteps(string(out))
		for _, want := range []struct {
			step  int
			what  string
			lines []string
		}{
			{2, "lists the current and next keys", []string{fmt.Sprintf(`  "kid": %q,`, current), fmt.Sprintf(`  "kid": %q,`, next)}},
			{3, "rotates to the next key", []string{fmt.Sprintf("%q", next)}},
			{4, "publishes the new current and the previous key", []string{next, current}},
			{5, "revokes the key that was current", []string{fmt.Sprintf("%q", current)}},
		} {
			for _, l := range want.lines {
				if !slices.Contains(steps[want.step], l) {
					t.Errorf("run %d: step %d %s: no line %q in:\n%s", run, want.step, want.what, l, out)
				}
			}
		}
		if len(steps[4]) != len(keysIn(before, "previous"))+3 {
			t.Errorf("run %d: step 4: JWKS kids %q, want current, next and %d previous", run, steps[4], len(keysIn(before, "previous"))+1)
		}
		if s5 := steps[5]; len(s5) != 2 || !strings.Contains(s5[1], `"statusCode":401`) {
			t.Errorf("run %d: step 5 printed %q, want the revoked kid, then a 401 for the old token", run, s5)
		}

		after := in.keys(in.token(creds))
		if got := kidInState(after, "current"); got != next {
			t.Errorf("run %d: current key %s after the walkthrough, want the former next %s", run, got, next)
		}
		for _, k := range after {
			if *k.KID == current && !*k.Revoked {
				t.Errorf("run %d: the former current key %s is %s, want revoked", run, current, state(k))
			}
		}
		if run == 3 && len(keysIn(after, "previous")) != 1 {
			t.Errorf("run 3: previous keys %v, want the one rotated out between the runs", keysIn(after, "previous"))
		}
	}
}

// kidInState returns the kid of the one key in state st.
func kidInState(ks []signingKey, st string) string {
	if kids := keysIn(ks, st); len(kids) == 1 {
		return kids[0]
	}
	return ""
}

// keysIn returns the kids of the keys in state st, in list order.
func keysIn(ks []signingKey, st string) []string {
	var out []string
	for _, k := range ks {
		if state(k) == st {
			out = append(out, *k.KID)
		}
	}
	return out
}

// markSteps puts before each numbered step comment ("# 3. Rotate…") of a
// walkthrough a command printing "### step 3", so that its output can be
// split by step. The commands are left as they are.
func markSteps(script string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(script, "\n") {
		if n, _, ok := strings.Cut(strings.TrimPrefix(l, "# "), ". "); ok && strings.HasPrefix(l, "# ") && len(n) == 1 && n[0] >= '1' && n[0] <= '9' {
			b.WriteString("echo '### step " + n + "'\n")
		}
		b.WriteString(l)
	}
	return b.String()
}

// walkthroughSteps splits the output of a script marked by markSteps into
// the non-empty lines of each step.
func walkthroughSteps(out string) map[int][]string {
	steps := map[int][]string{}
	step := 0
	for _, l := range strings.Split(out, "\n") {
		if n, ok := strings.CutPrefix(l, "### step "); ok {
			fmt.Sscan(n, &step)
			continue
		}
		if strings.TrimSpace(l) != "" {
			steps[step] = append(steps[step], l)
		}
	}
	return steps
}

// TestReadmeLayoutNamesEveryPackage checks that the README's layout table
// has a row for every directory of the module that holds Go code, so a new
// package cannot be left out of it.
func TestReadmeLayoutNamesEveryPackage(t *testing.T) {
	root := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, layout, ok := strings.Cut(string(b), "\n## Layout\n")
	if !ok {
		t.Fatal(`README.md has no "## Layout" section`)
	}
	layout, _, _ = strings.Cut(layout, "\n## ")
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if name := d.Name(); rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		if goFiles, _ := filepath.Glob(filepath.Join(path, "*.go")); len(goFiles) == 0 {
			return nil
		}
		row := "| `/`"
		if rel != "." {
			row = "| `" + filepath.ToSlash(rel) + "/`"
		}
		if !strings.Contains(layout, row) {
			t.Errorf("README.md's layout has no row %s |", row)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
