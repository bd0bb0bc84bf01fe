package saml_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// signingCerts returns the certificates of the KeyDescriptors use="signing"
// of metadata (SAML IdP or WS-Fed), in document order.
func signingCerts(t *testing.T, metadata []byte) []*x509.Certificate {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(metadata); err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for _, kd := range doc.FindElements("//KeyDescriptor") {
		if kd.SelectAttrValue("use", "") != "signing" {
			t.Fatalf("KeyDescriptor use=%q", kd.SelectAttrValue("use", ""))
		}
		el := kd.FindElement(".//X509Certificate")
		der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(el.Text()))
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// signedElement names a signed element for the verifiers: the element an
// SP reads (a path of local names from the root, the last one in
// namespace ns) and its ID attribute.
type signedElement struct {
	path   []string
	ns     string
	idAttr string
}

var (
	samlResponse   = signedElement{[]string{"Response"}, "urn:oasis:names:tc:SAML:2.0:protocol", "ID"}
	samlAssertion  = signedElement{[]string{"Response", "Assertion"}, "urn:oasis:names:tc:SAML:2.0:assertion", "ID"}
	samlLogoutResp = signedElement{[]string{"LogoutResponse"}, "urn:oasis:names:tc:SAML:2.0:protocol", "ID"}
	saml11Assert   = signedElement{[]string{"RequestSecurityTokenResponse", "RequestedSecurityToken", "Assertion"}, "urn:oasis:names:tc:SAML:1.0:assertion", "AssertionID"}
)

// tag is the element's local name.
func (se signedElement) tag() string { return se.path[len(se.path)-1] }

// find returns the element in d: at each step the first child with the
// local name.
func (se signedElement) find(d *etree.Document) *etree.Element {
	el := d.Root()
	if el == nil || el.Tag != se.path[0] {
		return nil
	}
	for _, tag := range se.path[1:] {
		var next *etree.Element
		for _, c := range el.ChildElements() {
			if c.Tag == tag {
				next = c
				break
			}
		}
		if next == nil {
			return nil
		}
		el = next
	}
	if el.NamespaceURI() != se.ns {
		return nil
	}
	return el
}

// xpath is the XPath of the element's Signature child, for xmlsec1.
func (se signedElement) xpath() string {
	var b strings.Builder
	for _, tag := range se.path[:len(se.path)-1] {
		fmt.Fprintf(&b, "/*[local-name()='%s'][1]", tag)
	}
	fmt.Fprintf(&b, "/*[local-name()='%s'][1][namespace-uri()='%s']", se.tag(), se.ns)
	return b.String() + "/*[local-name()='Signature' and namespace-uri()='http://www.w3.org/2000/09/xmldsig#']"
}

// verifyGoxmldsig checks the enveloped signature of the element se of doc
// with goxmldsig, trusting certs only, and returns the element the
// signature covers.
func verifyGoxmldsig(doc []byte, se signedElement, certs []*x509.Certificate) (*etree.Element, error) {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		return nil, err
	}
	el := se.find(d)
	if el == nil {
		return nil, fmt.Errorf("no %s element", strings.Join(se.path, "/"))
	}
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: certs})
	ctx.IdAttribute = se.idAttr
	return ctx.Validate(el)
}

// haveXmlsec1 reports whether the xmlsec1 command is there; under CI it
// must be.
func haveXmlsec1(t *testing.T) bool {
	t.Helper()
	if _, err := exec.LookPath("xmlsec1"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmlsec1 is required under CI (.ci/run installs the Debian package xmlsec1)")
		}
		t.Log("xmlsec1 not installed: skipping its check")
		return false
	}
	return true
}

// verifyXmlsec1 checks with `xmlsec1 --verify` the signature that is a
// direct child of the first element se of doc (the one an SP reads) against
// each of certs in turn, ignoring the certificate in KeyInfo as an SP
// configured from metadata does; it succeeds if one of them verifies. (One
// run trusting all of them with --trusted-pem does not work: the
// certificates share their subject, and OpenSSL then picks the wrong one
// as issuer.) It returns xmlsec1's output on failure.
func verifyXmlsec1(t *testing.T, doc []byte, se signedElement, certs []*x509.Certificate) error {
	t.Helper()
	// Not t.TempDir: xmlsec1 reads a comma in a key file name as a list
	// separator, and subtest names put commas in t.TempDir's paths.
	dir, err := os.MkdirTemp("", "xmlsec")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "doc.xml")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for i, c := range certs {
		p := filepath.Join(dir, fmt.Sprintf("cert%d.pem", i))
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("xmlsec1", "--verify", "--enabled-reference-uris", "same-doc",
			"--enabled-key-data", "rsa", "--pubkey-cert-pem", p,
			"--id-attr:"+se.idAttr, se.ns+":"+se.tag(),
			"--node-xpath", se.xpath(),
			in).CombinedOutput()
		if err == nil && bytes.Contains(out, []byte("OK")) {
			return nil
		}
		errs = append(errs, fmt.Errorf("xmlsec1 with certificate %d: %v: %s", i, err, lastLines(out, 4)))
	}
	if len(errs) == 0 {
		return errors.New("xmlsec1: no certificate to verify with")
	}
	return errors.Join(errs...)
}

// lastLines returns the last n lines of out.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// verifyResponse checks a base64 SAMLResponse two of the three ways (the
// third, crewjam/saml, runs in the SP's ACS): goxmldsig and xmlsec1 on the
// assertion and, if signedResponse, on the Response. It returns the first
// failure.
func verifyResponse(t *testing.T, b64 string, certs []*x509.Certificate, signedResponse bool) error {
	t.Helper()
	doc, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return err
	}
	return verifyXML(t, doc, certs, signedResponse)
}

func verifyXML(t *testing.T, doc []byte, certs []*x509.Certificate, signedResponse bool) error {
	t.Helper()
	ses := []signedElement{samlAssertion}
	if signedResponse {
		ses = append(ses, samlResponse)
	}
	var errs []error
	for _, se := range ses {
		if _, err := verifyGoxmldsig(doc, se, certs); err != nil {
			errs = append(errs, fmt.Errorf("goxmldsig %s: %w", se.tag(), err))
		}
		if haveXmlsec1(t) {
			if err := verifyXmlsec1(t, doc, se, certs); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", se.tag(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// parseWithCrewjam parses a Response XML with a crewjam SP directly (what
// its ACS does after decoding the form).
func parseWithCrewjam(sp *crewjam.ServiceProvider, doc []byte, ids []string) (*crewjam.Assertion, error) {
	return sp.ParseXMLResponse(doc, ids, sp.AcsURL)
}

// parseCerts parses DER certificates.
func parseCerts(t *testing.T, ders [][]byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, d := range ders {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// verifyGoxmldsigAny returns the certificate in the KeyInfo of the first
// assertion's signature.
func verifyGoxmldsigAny(doc []byte) ([]byte, error) {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		return nil, err
	}
	el := d.FindElement("//Assertion/Signature/KeyInfo/X509Data/X509Certificate")
	if el == nil {
		return nil, errors.New("no KeyInfo certificate")
	}
	return base64.StdEncoding.DecodeString(strings.TrimSpace(el.Text()))
}
