package loadtest

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFreshness(t *testing.T) {
	for _, tc := range []struct {
		cacheControl []string
		age          string
		want         time.Duration
	}{
		{[]string{"public, max-age=300, must-revalidate"}, "", 300 * time.Second},
		{[]string{"max-age=300"}, "100", 200 * time.Second},
		{[]string{"max-age=300"}, "301", 0},
		{[]string{"max-age=300"}, "soon", 0},
		{[]string{`max-age="60"`}, "", time.Minute},
		{[]string{"MAX-AGE=5"}, "", 5 * time.Second},
		{[]string{"public", "max-age=7"}, "", 7 * time.Second},
		{[]string{"max-age=0"}, "", 0},
		{[]string{"max-age=-1"}, "", 0},
		{[]string{"max-age=1.5"}, "", 0},
		{[]string{"max-age="}, "", 0},
		{[]string{"max-age=5, max-age=6"}, "", 0},
		{[]string{"max-age=300, no-cache"}, "", 0},
		{[]string{"no-store, max-age=300"}, "", 0},
		{[]string{"public"}, "", 0},
		{nil, "", 0},
		{[]string{"max-age=99999999999999999999"}, "", maxDelta * time.Second},
	} {
		h := http.Header{}
		for _, v := range tc.cacheControl {
			h.Add("Cache-Control", v)
		}
		if tc.age != "" {
			h.Set("Age", tc.age)
		}
		if got := freshness(h); got != tc.want {
			t.Errorf("freshness(%q, Age %q) = %v, want %v", tc.cacheControl, tc.age, got, tc.want)
		}
	}
}

// FuzzFreshness checks that any Cache-Control and Age header gives a
// lifetime between 0 and maxDelta seconds, and 0 whenever no-store or
// no-cache is present.
func FuzzFreshness(f *testing.F) {
	f.Add("public, max-age=300, must-revalidate", "")
	f.Add(`max-age="5", no-cache`, "3")
	f.Add("max-age=99999999999999999999999", "-1")
	f.Fuzz(func(t *testing.T, cc, age string) {
		h := http.Header{"Cache-Control": {cc}}
		if age != "" {
			h.Set("Age", age)
		}
		got := freshness(h)
		if got < 0 || got > maxDelta*time.Second {
			t.Fatalf("freshness(%q, %q) = %v", cc, age, got)
		}
		lower := strings.ToLower(cc)
		for _, d := range strings.Split(lower, ",") {
			name, _, _ := strings.Cut(strings.TrimSpace(d), "=")
			if (strings.TrimSpace(name) == "no-store" || strings.TrimSpace(name) == "no-cache") && got != 0 {
				t.Fatalf("freshness(%q) = %v despite %s", cc, got, name)
			}
		}
	})
}
