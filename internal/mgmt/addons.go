package mgmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/signet-auth/signet"
)

// samlFields are the properties addons.samlp may carry (Auth0's names; see
// signet.SAMLAddon).
var samlFields = []string{"audience", "recipient", "destination", "issuer", "mappings",
	"nameIdentifierFormat", "nameIdentifierProbes", "signResponse", "signatureAlgorithm",
	"digestAlgorithm", "allowSHA1", "lifetimeInSeconds", "authnContextClassRef", "typedAttributes",
	"includeAttributeNameFormat", "logout"}

// applyAddons sets c.Addons from the addons property of o, if present. As
// every other property, addons replaces the whole stored value: an add-on
// absent from it (or null) is disabled, and null or {} disables both.
// Returns EINVALID for an unknown add-on or property, a value of the wrong
// type, or settings signet.SAMLAddon.Validate refuses.
func applyAddons(o object, c *signet.Client) error {
	v, ok := o["addons"]
	if !ok {
		return nil
	}
	if jsonType(v) == "null" {
		c.Addons = signet.ClientAddons{}
		return nil
	}
	ad, _, err := o.obj("addons", "samlp", "wsfed")
	if err != nil {
		return err
	}
	var out signet.ClientAddons
	if raw, ok := ad["addons.samlp"]; ok && jsonType(raw) != "null" {
		if _, _, err := ad.obj("addons.samlp", samlFields...); err != nil {
			return err
		}
		var s signet.SAMLAddon
		if err := decodeStrict(raw, &s, "addons.samlp"); err != nil {
			return err
		}
		if err := s.Validate(); err != nil {
			return invalid("Payload validation error: '%s'", signet.ErrorMessage(err))
		}
		out.SAMLP = &s
	}
	if raw, ok := ad["addons.wsfed"]; ok && jsonType(raw) != "null" {
		if _, _, err := ad.obj("addons.wsfed", "realm"); err != nil {
			return err
		}
		var w signet.WSFedAddon
		if err := decodeStrict(raw, &w, "addons.wsfed"); err != nil {
			return err
		}
		if err := w.Validate(); err != nil {
			return invalid("Payload validation error: '%s'", signet.ErrorMessage(err))
		}
		out.WSFed = &w
	}
	c.Addons = out
	return nil
}

// decodeStrict decodes raw into v, refusing unknown properties at any depth.
// Returns EINVALID naming the property (under prefix) that does not fit.
func decodeStrict(raw json.RawMessage, v any, prefix string) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	err := d.Decode(v)
	if err == nil {
		return nil
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return invalid("Payload validation error: 'Expected type %s but found type %s' on property %s.", jsonKind(te.Type.Kind().String()), te.Value, prefix+"."+te.Field)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return invalid("Payload validation error: 'Additional properties not allowed: %s' on property %s.", strings.Trim(name, `"`), prefix)
	}
	return invalid("Payload validation error: 'Invalid value' on property %s.", prefix)
}

// jsonKind names a Go kind in JSON Schema words.
func jsonKind(k string) string {
	switch k {
	case "bool":
		return "boolean"
	case "int", "int64":
		return "integer"
	case "map", "struct", "ptr":
		return "object"
	case "slice":
		return "array"
	}
	return k
}
