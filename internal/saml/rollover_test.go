package saml_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
)

// keyInfoCert returns the certificate in the assertion signature's KeyInfo.
func keyInfoCert(t *testing.T, samlResponse string) []byte {
	t.Helper()
	doc, _ := base64.StdEncoding.DecodeString(samlResponse)
	el, err := verifyGoxmldsigAny(doc)
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// TestRollover is Auth0's outage fixed: an SP that fetched metadata before
// a rotation accepts assertions signed after it, because the metadata
// listed the next certificate; after rotate-and-revoke the metadata no
// longer lists the revoked certificate, and the old SP refuses what the
// revoked key... is never used to sign again.
func TestRollover(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	c := e.app(signet.SAMLAddon{}, false)
	md0, ed0 := e.metadata(c)
	before := metadataCerts(t, md0)
	v, _ := e.ring.View("default")
	if !bytes.Equal(before[0], v.Current.Certificate) || !bytes.Equal(before[1], v.Keyset.Next().Certificate) {
		t.Fatal("metadata does not list the current then the next certificate")
	}
	sp := e.serviceProvider(c, ed0) // holds md0 from now on
	e.useSP(c, sp)
	b := e.browser()

	// Signed before the rotation, by the current key.
	f := postForm(t, b.follow("/samlp/"+c.ClientID))
	checkResponse(t, b, f, before, false)
	if !bytes.Equal(keyInfoCert(t, f.fields.Get("SAMLResponse")), before[0]) {
		t.Fatal("not signed by the current key")
	}

	// Rotate: the next key signs; the SP with the old metadata accepts.
	if _, err := e.ring.Rotate(ctx, "default", keyring.RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	f = postForm(t, b.follow("/samlp/"+c.ClientID))
	if !bytes.Equal(keyInfoCert(t, f.fields.Get("SAMLResponse")), before[1]) {
		t.Fatal("after the rotation the assertion is not signed by the former next key")
	}
	if res := checkResponse(t, b, f, before, false); res.NameID != e.user.ID {
		t.Fatalf("old SP read %+v", res)
	}

	// Rotate and revoke: the former next key (current since the rotation) is
	// revoked and is gone from the metadata; the new current and next are listed.
	if _, err := e.ring.Rotate(ctx, "default", keyring.RotateOptions{RevokeCurrent: true}); err != nil {
		t.Fatal(err)
	}
	md2, ed2 := e.metadata(c)
	after := metadataCerts(t, md2)
	v, _ = e.ring.View("default")
	if len(after) != 2 || !bytes.Equal(after[0], v.Current.Certificate) || !bytes.Equal(after[1], v.Keyset.Next().Certificate) {
		t.Fatal("metadata after rotate-and-revoke does not list exactly the current and next certificates")
	}
	for _, der := range after {
		if bytes.Equal(der, before[1]) {
			t.Fatal("metadata lists the revoked certificate")
		}
		if bytes.Equal(der, before[0]) {
			t.Fatal("metadata lists a previous certificate")
		}
	}
	f = postForm(t, b.follow("/samlp/"+c.ClientID))
	// The old SP never saw the new current key: all three verifiers refuse.
	if err := verifyResponse(t, f.fields.Get("SAMLResponse"), parseCerts(t, before), false); err == nil {
		t.Fatal("goxmldsig/xmlsec1 accepted a key the SP's metadata does not list")
	}
	if res := b.submit(f); res.Error == "" {
		t.Fatal("crewjam accepted a key its metadata does not list")
	}
	// An SP that refreshes its metadata accepts it.
	e.useSP(c, e.serviceProvider(c, ed2))
	checkResponse(t, b, f, after, false)
}

// rotate rotates the tenant's key, revoking the old current one if revoke.
func (e *env) rotate(revoke bool) {
	e.t.Helper()
	if _, err := e.ring.Rotate(context.Background(), "default", keyring.RotateOptions{RevokeCurrent: revoke}); err != nil {
		e.t.Fatal(err)
	}
}

// TestRolloverDuringPublishDelay checks the seconds after a rotation that
// promoted a just-published key, when the tenant still signs with the
// previous key (keyring.Config.PublishDelay): the metadata lists that key
// first, and an SP configured from it accepts the assertion.
func TestRolloverDuringPublishDelay(t *testing.T) {
	const delay = 2 * time.Second
	e := newEnv(t, envOptions{publishDelay: delay})
	c := e.app(signet.SAMLAddon{}, false)
	e.clock.Add(time.Hour) // the tenant's first keys are long published
	e.rotate(false)
	first, _ := e.ring.View("default")
	e.rotate(false) // promotes the key the first rotation published a moment ago
	v, _ := e.ring.View("default")
	if v.Signing.KID != first.Current.KID || v.Current.KID == first.Current.KID {
		t.Fatalf("signing with %s, current %s; want the previous current %s to sign", v.Signing.KID, v.Current.KID, first.Current.KID)
	}

	md, ed := e.metadata(c)
	certs := metadataCerts(t, md)
	want := [][]byte{v.Signing.Certificate, v.Current.Certificate, v.Keyset.Next().Certificate}
	if len(certs) != 3 || !bytes.Equal(certs[0], want[0]) || !bytes.Equal(certs[1], want[1]) || !bytes.Equal(certs[2], want[2]) {
		t.Fatalf("metadata lists %d certificates, want the signing, current and next ones", len(certs))
	}
	e.useSP(c, e.serviceProvider(c, ed))
	b := e.browser()
	f := postForm(t, b.follow("/samlp/"+c.ClientID))
	if !bytes.Equal(keyInfoCert(t, f.fields.Get("SAMLResponse")), v.Signing.Certificate) {
		t.Fatal("the assertion is not signed by the previous key during the publish delay")
	}
	checkResponse(t, b, f, certs, false)

	// Once the current key has been published for the delay, it signs and
	// the metadata is back to current and next; the SP from before accepts.
	e.clock.Add(delay)
	if err := e.ring.Refresh(context.Background(), "default"); err != nil {
		t.Fatal(err)
	}
	md2, _ := e.metadata(c)
	if after := metadataCerts(t, md2); len(after) != 2 || !bytes.Equal(after[0], v.Current.Certificate) {
		t.Fatalf("metadata after the delay lists %d certificates, want current and next", len(after))
	}
	f = postForm(t, b.follow("/samlp/"+c.ClientID))
	if !bytes.Equal(keyInfoCert(t, f.fields.Get("SAMLResponse")), v.Current.Certificate) {
		t.Fatal("after the delay the assertion is not signed by the current key")
	}
	checkResponse(t, b, f, certs, false)
}
