package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromium returns the path of the Chromium to drive: $SIGNET_CHROMIUM, or
// Debian's /usr/bin/chromium, or chromium on $PATH. Without one the test is
// skipped, except under CI=true, where it fails: CI installs it.
func chromium(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("SIGNET_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium (apt-get install chromium, or set SIGNET_CHROMIUM): the browser tests must run in CI")
	}
	t.Skip("no Chromium: apt-get install chromium, or set SIGNET_CHROMIUM")
	return ""
}

// artifacts returns the folder for the test's screenshots:
// $SIGNET_ARTIFACTS/<name> if set, else a temporary one.
func artifacts(t *testing.T, name string) string {
	t.Helper()
	base := os.Getenv("SIGNET_ARTIFACTS")
	if base == "" {
		return t.TempDir()
	}
	dir := filepath.Join(base, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserTab starts a headless Chromium with a fresh profile and a
// 1280×800 window, and returns a context for its first tab. The browser is
// stopped when the test ends.
func browserTab(t *testing.T, path string) context.Context {
	t.Helper()
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action starts the browser; it must not run under a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return ctx
}

// keyStates returns the tenant's kids by state, read with a fresh token
// through the Management API.
func (in *instance) keyStates() map[string][]string {
	in.t.Helper()
	out := map[string][]string{}
	for _, k := range in.keys(in.token(in.credentials())) {
		state := "previous"
		switch {
		case *k.Current:
			state = "current"
		case *k.Next:
			state = "next"
		case *k.Revoked:
			state = "revoked"
		}
		out[state] = append(out[state], *k.KID)
	}
	return out
}

// TestDashboardInBrowser drives the dashboard in headless Chromium as an
// administrator would, from the credentials the first start wrote: sign in,
// open Signing Keys, rotate, rotate and revoke, revoke a previous key,
// revoke old previous keys in bulk, sign out; it checks each change through
// the Management API and saves a screenshot of each step.
func TestDashboardInBrowser(t *testing.T) {
	chrome := chromium(t)
	in := start(t, t.TempDir())
	creds := in.credentials()
	dash := creds.Dashboard
	if dash.URL != in.base+"/dashboard/" || dash.Email != "admin@localhost" || len(dash.Password) < 20 {
		t.Fatalf("admin-credentials.json dashboard = %+v, want the URL %s/dashboard/, admin@localhost and a generated password", dash, in.base)
	}
	shots := artifacts(t, "dashboard")
	tab := browserTab(t, chrome)
	ctx, cancel := context.WithTimeout(tab, 3*time.Minute)
	defer cancel()

	step := 0
	// shot saves the whole page, or with a dialog open just the window.
	shot := func(name string) {
		t.Helper()
		step++
		capture := chromedp.FullScreenshot(100)
		if strings.Contains(name, "dialog") || strings.Contains(name, "narrow") {
			capture = chromedp.CaptureScreenshot()
		}
		png, err := chromedp.Run(ctx, capture)
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(shots, fmt.Sprintf("%02d-%s.png", step, name))
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// do runs steps, each group within 30 seconds.
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			where, _ := chromedp.Run(ctx, chromedp.Location())
			focus, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : ""`))
			t.Fatalf("%s: %v (at %s, focus on %s)", what, err, where, focus)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return s
	}
	// says reports an error unless text, the visible text of what, holds
	// want and not notWant.
	says := func(text, what, want, notWant string) {
		t.Helper()
		if !strings.Contains(text, want) || strings.Contains(text, notWant) {
			t.Errorf("%s says %q, want %q and not %q", what, text, want, notWant)
		}
	}
	location := func() string {
		t.Helper()
		l, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	keysPage := in.base + "/dashboard/tenants/default/settings/signing-keys"
	// submit clicks a submit button and waits for the notice of the page it
	// leads to (the notice of the page it leaves is removed first).
	submit := func(what, sel string) {
		t.Helper()
		do(what,
			chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := chromedp.Evaluate[bool](`(n => { if (n) n.remove(); return true })(document.getElementById("notice"))`)(ctx, t)
				return err
			}),
			chromedp.Click(chromedp.CSS(sel)),
			chromedp.WaitVisible(chromedp.CSS("#notice")))
	}

	// 1. The dashboard asks for a sign-in; the credentials file's work.
	// Reduced motion: no transitions half-way through in the screenshots.
	reducedMotion := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}}})
		return err
	})
	do("open the dashboard", chromedp.EmulateViewport(1280, 800), reducedMotion, chromedp.Navigate(dash.URL), chromedp.WaitVisible(chromedp.CSS("#email")))
	if l := location(); l != in.base+"/dashboard/signin" {
		t.Errorf("signed out, %s went to %s", dash.URL, l)
	}
	shot("sign-in")
	do("sign in with a wrong password",
		chromedp.SendKeys(chromedp.CSS("#email"), dash.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS(`form[action="/dashboard/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice.is-error`)))
	if n := text(".notice.is-error"); n != "Wrong e-mail address or password." {
		t.Errorf("wrong password: %q", n)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#email"))); v != dash.Email {
		t.Errorf("after a failed sign-in the e-mail field holds %q", v)
	}
	shot("sign-in-failed")
	do("sign in", // the e-mail address is kept
		chromedp.SendKeys(chromedp.CSS("#password"), dash.Password),
		chromedp.Click(chromedp.CSS(`form[action="/dashboard/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("table.keys")),
	)

	// 2. Tenant Settings → Signing Keys.
	if l := location(); l != keysPage {
		t.Errorf("after sign-in the browser is at %s, want %s", l, keysPage)
	}
	if tab := text(`.tabs a[aria-current="page"]`); tab != "Signing Keys" {
		t.Errorf("current tab %q", tab)
	}
	shot("signing-keys")
	if n := eval(`String((document.body.innerText.match(/Tenant\s+default/g) || []).length)`); n != "1" {
		t.Errorf("the page names \"Tenant default\" %s times, want once", n)
	}
	do("open the General tab", chromedp.Click(chromedp.CSS(`.tabs a[href$="/settings"]`)), chromedp.WaitVisible(chromedp.CSS(".facts")))
	shot("general")
	do("back to Signing Keys", chromedp.Click(chromedp.CSS(`.tabs a[href$="/signing-keys"]`)), chromedp.WaitVisible(chromedp.CSS("table.keys")))
	states := in.keyStates()
	current, next := states["current"][0], states["next"][0]
	if got := eval(`document.querySelector('tr[data-state="current"]').dataset.kid`); got != current {
		t.Errorf("the page's current key is %s, the API's %s", got, current)
	}

	// 3. Rotate Key → dialog → Rotate: the old next key is current.
	do("open the rotate dialog", chromedp.Click(chromedp.CSS(`a[data-dialog="rotate-dialog"]`)), chromedp.WaitVisible(chromedp.CSS("#rotate-dialog")))
	says(text("#rotate-dialog"), "the rotate dialog", "tokens it signed remain valid until you revoke it", "is revoked at once")
	shot("rotate-dialog")
	submit("confirm the rotation", `#rotate-dialog button[type=submit]`)
	shot("rotated")
	// One notice: it says when the fresh next key is old enough, where the
	// tab would otherwise add its own "still new" banner.
	if n := eval(`String(document.querySelectorAll("main > .notice, main > .callout:not(#growth)").length)`); n != "1" {
		t.Errorf("after a rotation the page shows %s notices and banners, want 1", n)
	}
	says(text("#notice"), "the notice after a rotation", "if you rotate again before", "The next key is still new")
	// Times to the second, the full RFC 3339 timestamp on hover.
	shown := eval(`document.querySelector('tr[data-state="current"] td[data-label="Current since"] time').textContent`)
	hover := eval(`document.querySelector('tr[data-state="current"] td[data-label="Current since"] time').title`)
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`).MatchString(shown) {
		t.Errorf("current since reads %q, want a time to the second", shown)
	}
	if ts, err := time.Parse(time.RFC3339Nano, hover); err != nil || ts.UTC().Format(time.DateTime) != shown {
		t.Errorf("current since %q has the title %q, want its RFC 3339 timestamp (%v)", shown, hover, err)
	}
	states = in.keyStates()
	if states["current"][0] != next || !contains(states["previous"], current) {
		t.Fatalf("after Rotate: %v, want %s current and %s previous", states, next, current)
	}
	if n := text("#notice"); !strings.Contains(n, "Signing key rotated") || !strings.Contains(n, next+" is now the current key") {
		t.Errorf("notice after rotate: %q", n)
	}
	firstPrevious := current
	current, next = states["current"][0], states["next"][0]

	// 4. Rotate with "Yes, revoke the currently used signing key": the old current is revoked.
	do("open the rotate dialog again", chromedp.Click(chromedp.CSS(`a[data-dialog="rotate-dialog"]`)), chromedp.WaitVisible(chromedp.CSS("#rotate-dialog")))
	do("tick the revoke checkbox", chromedp.Click(chromedp.CSS(`#rotate-dialog input[name=revoke_current]`)))
	if label := text(`#rotate-dialog button[type=submit]`); label != "Rotate and revoke" {
		t.Errorf("with the box ticked the button says %q", label)
	}
	says(text("#rotate-dialog"), "the rotate dialog with the box ticked", "is revoked at once: tokens it signed stop being accepted", "remain valid until you revoke it")
	shot("rotate-and-revoke-dialog")
	submit("confirm rotate and revoke", `#rotate-dialog button[type=submit]`)
	shot("rotated-and-revoked")
	states = in.keyStates()
	if states["current"][0] != next || !contains(states["revoked"], current) {
		t.Fatalf("after rotate and revoke: %v, want %s current and %s revoked", states, next, current)
	}
	if n := text("#notice"); !strings.Contains(n, current+" is revoked") {
		t.Errorf("notice after rotate and revoke: %q", n)
	}

	// 5. Revoke the previous key from the first rotation.
	revokeDialog := `dialog[id="revoke-` + firstPrevious + `"]`
	do("open the revoke dialog",
		chromedp.Click(chromedp.CSS(`a[data-dialog="revoke-`+firstPrevious+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(revokeDialog)))
	if d := text(revokeDialog); !strings.Contains(d, firstPrevious) || !strings.Contains(d, "stop being accepted") {
		t.Errorf("revoke dialog does not name the kid and warn: %q", d)
	}
	shot("revoke-dialog")
	submit("confirm the revocation", revokeDialog+` button[type=submit]`)
	shot("revoked")
	states = in.keyStates()
	if !contains(states["revoked"], firstPrevious) || len(states["previous"]) != 0 {
		t.Fatalf("after Revoke: %v, want %s revoked and no previous key", states, firstPrevious)
	}

	// 6. The dialog is keyboard-usable: Enter on Rotate Key opens it with
	// the focus on Cancel; Escape closes it and nothing changes.
	// A real Enter whose keydown activated the link sends no keypress;
	// chromedp.KeyEvent would send one, and it would press Cancel.
	pressEnter := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	do("open the dialog from the keyboard",
		chromedp.Focus(chromedp.CSS(`a[data-dialog="rotate-dialog"]`)),
		pressEnter,
		chromedp.WaitVisible(chromedp.CSS("#rotate-dialog")))
	if f := eval(`document.activeElement.textContent.trim()`); f != "Cancel" {
		t.Errorf("focus in the opened dialog is on %q, want Cancel", f)
	}
	do("close it with Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.CSS("#rotate-dialog")))
	if after := in.keyStates(); after["current"][0] != states["current"][0] {
		t.Errorf("Escape in the dialog rotated: %v", after)
	}

	// 7. A narrow window.
	do("narrow window", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table.keys")))
	if w := eval(`String(document.documentElement.scrollWidth)`); w != "390" {
		t.Errorf("at 390 px the page is %s px wide: it scrolls sideways", w)
	}
	shot("narrow")
	do("scroll to the keys", chromedp.ScrollIntoView(chromedp.CSS("#valid-h")))
	shot("narrow-keys")
	do("scroll to the revoked keys", chromedp.ScrollIntoView(chromedp.CSS("#revoked-h")))
	shot("narrow-revoked-keys")
	do("open the dialog in the narrow window", chromedp.Click(chromedp.CSS(`a[data-dialog="rotate-dialog"]`)), chromedp.WaitVisible(chromedp.CSS("#rotate-dialog")))
	shot("narrow-rotate-dialog")
	do("close it", chromedp.Click(chromedp.CSS(`#rotate-dialog [data-close]`)), chromedp.WaitNotVisible(chromedp.CSS("#rotate-dialog")))
	do("wide window", chromedp.EmulateViewport(1280, 800), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table.keys")))

	// 8. Without JavaScript the links lead to confirmation pages that work too.
	noScript := func(off bool) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
			return err
		})
	}
	before := in.keyStates()
	do("rotate without JavaScript",
		noScript(true), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table.keys")),
		chromedp.Click(chromedp.CSS(`a[data-dialog="rotate-dialog"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main form.confirm`)))
	if l := location(); l != keysPage+"/rotate" {
		t.Errorf("without JavaScript Rotate Key went to %s", l)
	}
	says(text("main form.confirm"), "the rotate page", "remain valid until you revoke it", "is revoked at once")
	do("tick the box without JavaScript", chromedp.Click(chromedp.CSS(`main form.confirm input[name=revoke_current]`)))
	says(text("main form.confirm"), "the rotate page with the box ticked", "is revoked at once", "remain valid until you revoke it")
	if label := text(`main form.confirm button[type=submit]`); label != "Rotate and revoke" {
		t.Errorf("without JavaScript, with the box ticked the button says %q", label)
	}
	shot("rotate-and-revoke-page-without-javascript")
	do("untick it", chromedp.Click(chromedp.CSS(`main form.confirm input[name=revoke_current]`)))
	says(text("main form.confirm"), "the rotate page with the box unticked again", "remain valid until you revoke it", "is revoked at once")
	shot("rotate-page-without-javascript")
	submit("confirm on the page", `main form.confirm button[type=submit]`)
	if after := in.keyStates(); after["current"][0] != before["next"][0] {
		t.Errorf("rotation without JavaScript: %v, want %s current", after, before["next"][0])
	}
	do("scripts back on", noScript(false), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table.keys")))

	// 9. Revoke Old Keys: two more rotations make three previous keys; the
	// dialog proposes the time the newest one stopped signing, which keeps
	// it and revokes the two older ones in one step.
	tok := in.token(in.credentials())
	for range 2 {
		if status, body, _ := in.call("POST", "/api/v2/keys/signing/rotate", tok, nil); status != 201 {
			t.Fatalf("rotate through the API: %d %s", status, body)
		}
	}
	prev := in.keyStates()["previous"] // most recently current first
	if len(prev) != 3 {
		t.Fatalf("previous keys before the bulk revocation: %v, want 3", prev)
	}
	do("open the bulk revocation dialog", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table.keys")),
		chromedp.Click(chromedp.CSS(`a.button[data-dialog="revoke-previous-dialog"]`)),
		chromedp.WaitVisible(chromedp.CSS("#revoke-previous-dialog")))
	if d := text("#revoke-previous-dialog"); !strings.Contains(d, prev[2]) || !strings.Contains(d, "stop being accepted") {
		t.Errorf("bulk revocation dialog does not list the keys and warn: %q", d)
	}
	shot("revoke-previous-dialog")
	submit("confirm the bulk revocation", `#revoke-previous-dialog button[type=submit]`)
	shot("revoked-previous")
	bulk := in.keyStates()
	if len(bulk["previous"]) != 1 || bulk["previous"][0] != prev[0] || !contains(bulk["revoked"], prev[1]) || !contains(bulk["revoked"], prev[2]) {
		t.Fatalf("after the bulk revocation: %v, want %s previous and %v revoked", bulk, prev[0], prev[1:])
	}
	if n := text("#notice"); !strings.Contains(n, "2 previous signing keys revoked") {
		t.Errorf("notice after the bulk revocation: %q", n)
	}

	// 10. Sign out: back to the sign-in page, and the session is gone.
	do("sign out", chromedp.Click(chromedp.CSS(`form[action="/dashboard/signout"] button`)), chromedp.WaitVisible(chromedp.CSS("#email")))
	if n := text("main"); !strings.Contains(n, "You have signed out.") {
		t.Errorf("after sign-out the page says %q", n)
	}
	shot("signed-out")
	do("open Signing Keys signed out", chromedp.Navigate(keysPage), chromedp.WaitVisible(chromedp.CSS("#email")))
	if l := location(); !strings.HasPrefix(l, in.base+"/dashboard/signin?next=") {
		t.Errorf("signed out, Signing Keys went to %s", l)
	}

	// 11. The end-user login page has the dashboard's look: its font,
	// colours and primary button.
	look := `JSON.stringify((b => ({font: getComputedStyle(document.body).fontFamily, color: getComputedStyle(document.body).color,
		background: getComputedStyle(document.body).backgroundColor, button: getComputedStyle(b).backgroundColor, radius: getComputedStyle(b).borderRadius}))(document.querySelector("button[type=submit]")))`
	dashboardLook := eval(look)
	do("open the login page", chromedp.Navigate(in.base+"/login"), chromedp.WaitVisible(chromedp.CSS("#email")))
	if loginLook := eval(look); loginLook != dashboardLook {
		t.Errorf("the login page looks like %s, the dashboard's sign-in like %s", loginLook, dashboardLook)
	}
	shot("login")
	t.Logf("screenshots in %s", shots)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
