package signet

import "strings"

// unsafeSchemes are the schemes a browser runs or reads instead of
// navigating to: a redirect or form post to one runs script in the origin
// that sent it, or reads the user's files.
var unsafeSchemes = []string{"javascript", "data", "vbscript", "file"}

// BrowserScheme returns the scheme, lower-cased, that a browser reads from
// s when it follows s as a link or redirect: as the WHATWG URL parser does,
// leading C0 controls and spaces are dropped and tabs and newlines removed
// anywhere before the scheme is read (an ASCII letter, then letters,
// digits, '+', '-' or '.', up to ':'). It returns "" for a URL without a
// scheme, which a browser resolves against the page it is on.
func BrowserScheme(s string) string {
	s = strings.TrimLeft(s, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"+
		"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\t' || c == '\n' || c == '\r':
			continue
		case c == ':':
			if b.Len() == 0 {
				return ""
			}
			return b.String()
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			b.WriteByte(c | 0x20)
		case b.Len() > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
			b.WriteByte(c)
		default:
			return ""
		}
	}
	return ""
}

// CheckRedirectURL reports whether a browser may be sent to s: a client's
// callbacks and allowed logout URLs are checked with it when registered,
// and every redirect or form post to a URL an application named is checked
// again before it is sent. http, https and the custom schemes of native
// applications (com.example.app://callback) pass.
// Returns an EINVALID *Error if a browser would read s as a javascript:,
// data:, vbscript: or file: URL, whatever its case and any tabs, newlines
// or leading control characters in it.
func CheckRedirectURL(s string) error {
	scheme := BrowserScheme(s)
	for _, u := range unsafeSchemes {
		if scheme == u {
			return Errorf(EINVALID, "URL scheme %s: is not allowed: browsers run or read it instead of going to it", scheme)
		}
	}
	return nil
}
