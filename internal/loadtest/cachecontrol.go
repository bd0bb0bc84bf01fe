package loadtest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// freshness returns how long a response with header h may be reused without
// revalidation (RFC 9111 §4.2.1 for a private cache): max-age minus Age, or
// zero when the response says no-store or no-cache, has no usable max-age,
// or is older than its max-age. It never guesses a heuristic lifetime.
func freshness(h http.Header) time.Duration {
	maxAge, ok := int64(0), false
	for _, line := range h.Values("Cache-Control") {
		for _, d := range strings.Split(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				n, err := deltaSeconds(value)
				if err != nil || ok { // a malformed or repeated max-age: stale (§4.2.1)
					return 0
				}
				maxAge, ok = n, true
			}
		}
	}
	if !ok {
		return 0
	}
	if age := h.Get("Age"); age != "" {
		n, err := deltaSeconds(age)
		if err != nil {
			return 0
		}
		maxAge -= n
	}
	if maxAge <= 0 {
		return 0
	}
	return time.Duration(maxAge) * time.Second
}

// maxDelta caps delta-seconds, as RFC 9111 §1.2.2 allows (2^31).
const maxDelta = 1 << 31

// deltaSeconds parses RFC 9111 delta-seconds (1*DIGIT, optionally quoted as
// some servers send it), capping it at maxDelta.
func deltaSeconds(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, strconv.ErrSyntax
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxDelta {
		return maxDelta, nil // all digits: only too large
	}
	return n, nil
}
