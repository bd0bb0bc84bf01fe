package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	crewjam "github.com/crewjam/saml"
)

// TestSAMLCLI configures a SAML SP with `signet clients saml` and reads its
// metadata from the running server: the current and the next certificate,
// the current first; after `signet keys rotate` the former next comes
// first; --disable removes it.
func TestSAMLCLI(t *testing.T) {
	in := start(t, t.TempDir())
	out, err := in.run("clients", "create", "--name", "SP")
	if err != nil {
		t.Fatal(err)
	}
	id := field(t, out, "client_id")
	out, err = in.run("clients", "saml", id, "--audience", "urn:sp", "--recipient", "https://sp.example.com/acs",
		"--mappings", "email=mail", "--sign-response", "--wsfed")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "samlp/metadata/"+id) || !strings.Contains(out, "FederationMetadata.xml") {
		t.Fatalf("output %s", out)
	}
	certs := func() [][]byte {
		t.Helper()
		res, err := http.Get(in.base + "/samlp/metadata/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var ed crewjam.EntityDescriptor
		if res.StatusCode != 200 || xml.Unmarshal(b, &ed) != nil || len(ed.IDPSSODescriptors) != 1 {
			t.Fatalf("metadata = %d %s", res.StatusCode, b)
		}
		var out [][]byte
		for _, kd := range ed.IDPSSODescriptors[0].KeyDescriptors {
			out = append(out, []byte(kd.KeyInfo.X509Data.X509Certificates[0].Data))
		}
		return out
	}
	before := certs()
	if len(before) != 2 {
		t.Fatalf("%d certificates", len(before))
	}
	tok := in.token(in.credentials())
	if st, b, _ := in.call("POST", "/api/v2/keys/signing/rotate", tok, nil); st != 201 {
		t.Fatalf("rotate = %d %s", st, b)
	}
	after := certs()
	if !bytes.Equal(after[0], before[1]) {
		t.Fatal("after a rotation the metadata does not lead with the former next certificate")
	}
	// The Management API shows the add-on with Auth0's names.
	_, body, _ := in.call("GET", "/api/v2/clients/"+id, tok, nil)
	if !bytes.Contains(body, []byte(`"samlp":{"audience":"urn:sp","recipient":"https://sp.example.com/acs","mappings":{"email":"mail"},"signResponse":true}`)) {
		t.Fatalf("client %s", body)
	}
	if _, err := in.run("clients", "saml", id, "--disable"); err != nil {
		t.Fatal(err)
	}
	if res, err := http.Get(in.base + "/samlp/metadata/" + id); err != nil || res.StatusCode != 404 {
		t.Fatalf("metadata after --disable: %v %v", res.StatusCode, err)
	}
	if _, err := in.run("clients", "saml", id, "--recipient", "/relative"); err == nil {
		t.Fatal("a relative recipient was accepted")
	}
	if out, err := in.run("clients", "saml", id, "--callbacks", "https://sp.example.com/acs2 JavaScript:alert(1)"); err == nil ||
		!strings.Contains(err.Error(), "javascript: is not allowed") {
		t.Fatalf("a javascript: callback: %v %s", err, out)
	}
}

// field returns the value of a "name<TAB…>value" line of CLI output.
func field(t *testing.T, out, name string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == name {
			return f[1]
		}
	}
	t.Fatalf("no %s in %s", name, out)
	return ""
}
