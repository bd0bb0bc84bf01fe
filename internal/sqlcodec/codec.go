package sqlcodec

import (
	"encoding/json"
	"math"
	"time"

	"github.com/signet-auth/signet"
)

// Scanner is one row: *sql.Row, *sql.Rows, pgx.Row and pgx.Rows are Scanners.
type Scanner interface {
	Scan(dest ...any) error
}

// EncodeTime returns t as Unix nanoseconds, or nil (NULL) for the zero time.
// Returns EINVALID for a time outside the int64 nanosecond range (1678 to 2262).
func EncodeTime(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return nil, signet.Errorf(signet.EINVALID, "Time %s is out of range.", t.Format(time.RFC3339Nano))
	}
	return t.UnixNano(), nil
}

var (
	minTime = time.Unix(0, math.MinInt64).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// EncodeTimes encodes several times at once.
// Returns EINVALID for the first out of range.
func EncodeTimes(ts ...time.Time) ([]any, error) {
	out := make([]any, len(ts))
	for i, t := range ts {
		v, err := EncodeTime(t)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// DecodeTime is the inverse of EncodeTime for a scanned nullable column
// (nil for NULL); times come back in UTC.
func DecodeTime(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// UTC returns t as a read returns it: in UTC, the zero time still zero.
func UTC(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// NullString maps "" to NULL.
func NullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// expiry encodes a required expiry time.
// Returns EINVALID for the zero time or one out of range.
func expiry(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, signet.Errorf(signet.EINVALID, "An expiry time is required.")
	}
	return EncodeTime(t)
}

// list encodes s as a JSON array: [] for nil, never null.
func list[T any](s []T) (string, error) {
	if s == nil {
		s = []T{}
	}
	b, err := json.Marshal(s)
	return string(b), err
}
