package saml

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/signet-auth/signet"
)

// Limits on inbound SAML messages. Real AuthnRequests and LogoutRequests are
// a few kilobytes; anything near these limits is an attack or a mistake.
const (
	// MaxEncodedMessage is the largest SAMLRequest parameter accepted, in
	// bytes of its base64 text.
	MaxEncodedMessage = 64 << 10
	// MaxMessageXML is the largest decoded (and inflated) message, in bytes.
	MaxMessageXML = 64 << 10
	// maxXMLDepth and maxXMLElements bound the shape of a message.
	maxXMLDepth    = 16
	maxXMLElements = 512
	maxXMLAttrs    = 32
)

// Errors of inbound message decoding. Each is an EINVALID signet.Error whose
// message is shown on the error page.
var (
	ErrMessageTooLarge = signet.Errorf(signet.EINVALID, "The SAML message is too large.")
	ErrMessageEncoding = signet.Errorf(signet.EINVALID, "The SAML message is not valid base64.")
	ErrMessageDeflate  = signet.Errorf(signet.EINVALID, "The SAML message is not valid DEFLATE data (HTTP-Redirect binding).")
	ErrMessageXML      = signet.Errorf(signet.EINVALID, "The SAML message is not well-formed XML.")
	ErrMessageDTD      = signet.Errorf(signet.EINVALID, "The SAML message carries a DTD or processing instruction, which is refused.")
	ErrMessageShape    = signet.Errorf(signet.EINVALID, "The SAML message is too deeply nested or has too many elements or attributes.")
)

// decodeRedirect decodes a message of the HTTP-Redirect binding: base64 of
// raw DEFLATE (SAML bindings §3.4.4.1).
// Returns ErrMessageTooLarge, ErrMessageEncoding or ErrMessageDeflate.
func decodeRedirect(s string) ([]byte, error) {
	raw, err := decodeBase64(s)
	if err != nil {
		return nil, err
	}
	r := flate.NewReader(bytes.NewReader(raw))
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, MaxMessageXML+1))
	if err != nil {
		return nil, ErrMessageDeflate
	}
	if len(out) > MaxMessageXML {
		return nil, ErrMessageTooLarge
	}
	return out, nil
}

// decodePost decodes a message of the HTTP-POST binding: base64 of the XML.
// Returns ErrMessageTooLarge or ErrMessageEncoding.
func decodePost(s string) ([]byte, error) {
	out, err := decodeBase64(s)
	if err != nil {
		return nil, err
	}
	if len(out) > MaxMessageXML {
		return nil, ErrMessageTooLarge
	}
	return out, nil
}

// decodeBase64 decodes standard base64, ignoring the line breaks and spaces
// some SPs put in it.
func decodeBase64(s string) ([]byte, error) {
	if len(s) > MaxEncodedMessage {
		return nil, ErrMessageTooLarge
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	out, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrMessageEncoding
	}
	return out, nil
}

// checkXML reports whether data is one well-formed XML element, at most
// maxXMLDepth deep with at most maxXMLElements elements of at most
// maxXMLAttrs attributes, without a DTD (<!DOCTYPE>, <!ENTITY>) nor any
// processing instruction other than the XML declaration. Only then may it be
// decoded: encoding/xml neither loads DTDs nor expands their entities, and
// this refuses them outright instead of half-reading them.
// Returns ErrMessageXML, ErrMessageDTD or ErrMessageShape.
func checkXML(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	depth, elements, roots := 0, 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ErrMessageXML
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			elements++
			if depth > maxXMLDepth || elements > maxXMLElements || len(t.Attr) > maxXMLAttrs {
				return ErrMessageShape
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			return ErrMessageDTD
		case xml.ProcInst:
			if t.Target != "xml" || elements > 0 {
				return ErrMessageDTD
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return ErrMessageXML
			}
		}
	}
	if roots != 1 || depth != 0 {
		return ErrMessageXML
	}
	return nil
}

// encodeRedirect encodes XML for the HTTP-Redirect binding: raw DEFLATE,
// then base64.
func encodeRedirect(data []byte) string {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	fw.Write(data)
	fw.Close()
	return base64.StdEncoding.EncodeToString(b.Bytes())
}
