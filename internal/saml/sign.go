package saml

import (
	"crypto"
	"crypto/rsa"
	"fmt"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/signet-auth/signet"
)

// ErrUnsupportedKey is returned when the tenant's current key is not an RSA
// key. goxmldsig encodes ECDSA signature values as ASN.1 DER instead of the
// r||s concatenation XML-DSig requires (RFC 4050, RFC 6931 §2.3.6), so
// xmlsec1, Shibboleth, ADFS and other conforming verifiers would reject
// ES256-signed assertions; Signet refuses to issue them instead.
var ErrUnsupportedKey = signet.Errorf(signet.ECONFLICT,
	"SAML and WS-Federation assertions need an RS256 signing key; this tenant signs with another algorithm. Use an RS256 tenant for SAML and WS-Fed applications.")

// sigAlg is one XML signature method with its digest.
type sigAlg struct {
	method string      // SignatureMethod Algorithm
	hash   crypto.Hash // digest and signature hash (goxmldsig uses one for both)
}

var (
	rsaSHA256 = sigAlg{dsig.RSASHA256SignatureMethod, crypto.SHA256}
	rsaSHA1   = sigAlg{dsig.RSASHA1SignatureMethod, crypto.SHA1}
)

// signer signs XML elements with one key and its certificate.
type signer struct {
	key  crypto.Signer
	cert []byte // DER
	alg  sigAlg
}

// newSigner returns a signer for key (which must be RSA) with cert and alg.
// Returns ErrUnsupportedKey for a key that is not RSA.
func newSigner(key crypto.Signer, cert []byte, alg sigAlg) (*signer, error) {
	if key == nil {
		return nil, ErrUnsupportedKey
	}
	if _, ok := key.Public().(*rsa.PublicKey); !ok {
		return nil, ErrUnsupportedKey
	}
	return &signer{key: key, cert: cert, alg: alg}, nil
}

// sign computes an enveloped signature over el, referenced by el's idAttr
// attribute, with exclusive canonicalization, and inserts it as el's child
// at position (or last if position is past the end). el must declare every
// namespace prefix it uses: exclusive canonicalization digests it on its own.
func (s *signer) sign(el *etree.Element, idAttr string, position int) error {
	ctx, err := dsig.NewSigningContext(s.key, [][]byte{s.cert})
	if err != nil {
		return fmt.Errorf("saml: signing context: %w", err)
	}
	ctx.IdAttribute = idAttr
	ctx.Prefix = "ds"
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(s.alg.method); err != nil {
		return fmt.Errorf("saml: signature method: %w", err)
	}
	// goxmldsig canonicalizes the element it digests in place (it would drop
	// the xmlns:xs that xsi:type values need, for one): give it a copy.
	sig, err := ctx.ConstructSignature(el.Copy(), true)
	if err != nil {
		return fmt.Errorf("saml: sign: %w", err)
	}
	if position > len(el.Child) {
		position = len(el.Child)
	}
	el.InsertChildAt(position, sig)
	return nil
}

// after returns the index just after el's first child element named tag, or
// 0 if it has none.
func after(el *etree.Element, tag string) int {
	for i, c := range el.Child {
		if ce, ok := c.(*etree.Element); ok && ce.Tag == tag {
			return i + 1
		}
	}
	return 0
}
