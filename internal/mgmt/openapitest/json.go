package openapitest

import (
	"bytes"
	"encoding/json"
)

// jsonUnmarshal decodes a JSON body as the schema validator wants it:
// numbers as float64, objects as map[string]any.
func jsonUnmarshal(b []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	return d.Decode(v)
}
