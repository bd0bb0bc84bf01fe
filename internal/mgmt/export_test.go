package mgmt

import "net/http"

// recorder is a router that keeps the patterns it is given.
type recorder []string

func (r *recorder) Handle(pattern string, _ http.Handler) { *r = append(*r, pattern) }

// Patterns returns every pattern API.Register adds to a mux.
func Patterns(a *API) []string {
	var r recorder
	a.register(&r)
	return r
}
