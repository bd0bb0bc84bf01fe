package mgmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"unicode/utf8"
)

// maxBodyBytes caps request bodies.
const maxBodyBytes = 64 << 10

// readBody reads the request body, at most maxBodyBytes.
// Returns EINVALID if it is larger or cannot be read.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, invalid("Payload content length greater than maximum allowed: %d.", maxBodyBytes)
	}
	if err != nil {
		return nil, invalid("The request body could not be read.")
	}
	return b, nil
}

// noBody checks the body of an endpoint that takes none: absent, empty,
// "null" or "{}" (with any Content-Type), as Auth0 SDKs send them.
// Returns EINVALID for anything else.
func noBody(r *http.Request) error {
	_, err := decodeObject(r)
	return err
}

// object is a JSON object body, by property.
type object map[string]json.RawMessage

// decodeObject reads a JSON object body whose properties are all in allowed.
// An absent, empty or "null" body is the empty object.
// Returns EINVALID for bad JSON, a non-object, or an unknown property.
func decodeObject(r *http.Request, allowed ...string) (object, error) {
	b, err := readBody(r)
	if err != nil {
		return nil, err
	}
	b = bytes.Trim(b, " \t\r\n") // JSON's white space only: "\f{}" is not JSON
	if len(b) == 0 {
		return object{}, nil
	}
	if !json.Valid(b) {
		return nil, invalid("Payload validation error: 'Invalid JSON'.")
	}
	if t := jsonType(b); t != "object" && t != "null" {
		return nil, invalid("Payload validation error: 'Expected type object but found type %s'.", t)
	}
	var o object
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, invalid("Payload validation error: 'Invalid JSON'.")
	}
	if o == nil {
		o = object{}
	}
	if err := o.only(allowed...); err != nil {
		return nil, err
	}
	return o, nil
}

// only checks that every property of o is in allowed.
// Returns EINVALID naming the first unknown one (in sorted order).
func (o object) only(allowed ...string) error {
	var unknown []string
	for k := range o {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return invalid("Payload validation error: 'Additional properties not allowed: %s'.", unknown[0])
}

// jsonType names the JSON type of a valid JSON value, in the words of
// Auth0's validation messages.
func jsonType(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "null"
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	if bytes.ContainsAny(v, ".eE") {
		return "number"
	}
	return "integer"
}

// typeError is Auth0's message for a property of the wrong type.
func typeError(prop, want string, got json.RawMessage) error {
	return invalid("Payload validation error: 'Expected type %s but found type %s' on property %s.", want, jsonType(got), prop)
}

// str reads string property name, if present, checking its length in
// characters against min and max.
// Returns EINVALID for a non-string or a bad length.
func (o object) str(name string, min, max int) (string, bool, error) {
	v, ok := o[name]
	if !ok {
		return "", false, nil
	}
	var s string
	if jsonType(v) != "string" || json.Unmarshal(v, &s) != nil {
		return "", true, typeError(name, "string", v)
	}
	if n := utf8.RuneCountInString(s); n < min {
		return "", true, invalid("Payload validation error: 'String is too short (%d chars), minimum %d' on property %s.", n, min, name)
	} else if n > max {
		return "", true, invalid("Payload validation error: 'String is too long (%d chars), maximum %d' on property %s.", n, max, name)
	}
	return s, true, nil
}

// strs reads array-of-strings property name, if present.
// Returns EINVALID for anything else.
func (o object) strs(name string) ([]string, bool, error) {
	return arrayOf[string](o, name, "string")
}

// integer reads integer property name, if present, checking min ≤ n ≤ max.
// Returns EINVALID for a non-integer or one out of range.
func (o object) integer(name string, min, max int) (int, bool, error) {
	v, ok := o[name]
	if !ok {
		return 0, false, nil
	}
	var n int
	if jsonType(v) != "integer" || json.Unmarshal(v, &n) != nil {
		return 0, true, typeError(name, "integer", v)
	}
	if n < min || n > max {
		return 0, true, invalid("Payload validation error: 'Value %d is out of range (%d..%d)' on property %s.", n, min, max, name)
	}
	return n, true, nil
}

// obj reads object property name, if present, checking that its properties
// are all in allowed. The result's keys are the dotted paths of the
// properties ("name.prop"), so that its readers' messages name them in full.
// Returns EINVALID for a non-object or an unknown property.
func (o object) obj(name string, allowed ...string) (object, bool, error) {
	v, ok := o[name]
	if !ok {
		return nil, false, nil
	}
	var sub object
	if jsonType(v) != "object" || json.Unmarshal(v, &sub) != nil {
		return nil, true, typeError(name, "object", v)
	}
	if err := sub.only(allowed...); err != nil {
		return nil, true, err
	}
	out := make(object, len(sub))
	for k, v := range sub {
		out[name+"."+k] = v
	}
	return out, true, nil
}

// objects reads array-of-objects property name, if present.
// Returns EINVALID for anything else.
func (o object) objects(name string) ([]object, bool, error) {
	return arrayOf[object](o, name, "object")
}

// arrayOf reads property name, if present, as an array whose items all have
// JSON type elem and decode into T.
// Returns EINVALID for anything else, naming the first bad item.
func arrayOf[T any](o object, name, elem string) ([]T, bool, error) {
	v, ok := o[name]
	if !ok {
		return nil, false, nil
	}
	var items []json.RawMessage
	if jsonType(v) != "array" || json.Unmarshal(v, &items) != nil {
		return nil, true, typeError(name, "array", v)
	}
	out := make([]T, 0, len(items))
	for i, it := range items {
		var x T
		if jsonType(it) != elem || json.Unmarshal(it, &x) != nil {
			return nil, true, typeError(fmt.Sprintf("%s[%d]", name, i), elem, it)
		}
		out = append(out, x)
	}
	return out, true, nil
}

// required returns Auth0's message for a missing required property.
func required(name string) error {
	return invalid("Payload validation error: 'Missing required property: %s'.", name)
}
