package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/signet-auth/signet"
)

// samlFlags are the flags of `signet clients saml`.
type samlFlags struct {
	audience, recipient, callbacks, nameIDFormat, mappings, realm string
	signResponse, wsfed, disable                                  bool
	lifetime                                                      int
	logoutCallback                                                string
}

// register adds the flags to fs.
func (f *samlFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.audience, "audience", "", "the service provider's entity ID (default: the client id)")
	fs.StringVar(&f.recipient, "recipient", "", "the assertion consumer service URL (also added to the callbacks)")
	fs.StringVar(&f.callbacks, "callbacks", "", "space-separated further ACS / WS-Fed reply URLs")
	fs.StringVar(&f.nameIDFormat, "name-id-format", "", "NameID Format (default urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified)")
	fs.StringVar(&f.mappings, "mappings", "", `space-separated field=attribute mappings, e.g. "email=mail nickname=uid"`)
	fs.StringVar(&f.logoutCallback, "logout-callback", "", "the SP's single logout URL (enables single logout)")
	fs.BoolVar(&f.signResponse, "sign-response", false, "sign the whole Response as well as the assertion")
	fs.IntVar(&f.lifetime, "lifetime", 0, "assertion lifetime in seconds (default 3600)")
	fs.BoolVar(&f.wsfed, "wsfed", false, "enable WS-Federation too")
	fs.StringVar(&f.realm, "realm", "", "a further WS-Fed wtrealm to accept (with --wsfed)")
	fs.BoolVar(&f.disable, "disable", false, "turn SAML and WS-Fed off for the client")
}

// clientsSAML runs `signet clients saml CLIENT_ID [flags]`: it replaces the
// client's SAML (and WS-Fed) add-on with the flags' settings and prints
// where the IdP metadata is.
func clientsSAML(ctx context.Context, store signet.Store, tenant, issuer, clientID string, f samlFlags, out io.Writer) error {
	var a signet.SAMLAddon
	a.Audience, a.Recipient, a.NameIdentifierFormat = f.audience, f.recipient, f.nameIDFormat
	a.SignResponse, a.LifetimeInSeconds = f.signResponse, f.lifetime
	if f.logoutCallback != "" {
		a.Logout = &signet.SAMLLogout{Callback: f.logoutCallback}
	}
	for _, m := range strings.Fields(f.mappings) {
		k, v, ok := strings.Cut(m, "=")
		if !ok {
			return usagef("clients saml", "--mappings: %q is not field=attribute", m)
		}
		if a.Mappings == nil {
			a.Mappings = map[string]string{}
		}
		a.Mappings[k] = v
	}
	if err := a.Validate(); err != nil {
		return err
	}
	for _, u := range strings.Fields(f.callbacks) {
		if err := signet.CheckRedirectURL(u); err != nil {
			return fmt.Errorf("--callbacks %q: %s", u, signet.ErrorMessage(err))
		}
	}
	w := signet.WSFedAddon{Realm: f.realm}
	if err := w.Validate(); err != nil {
		return err
	}
	cl, err := store.UpdateClient(ctx, tenant, clientID, func(c *signet.Client) error {
		c.UpdatedAt = time.Now().UTC()
		if f.disable {
			c.Addons = signet.ClientAddons{}
			return nil
		}
		c.Addons.SAMLP = &a
		c.Addons.WSFed = nil
		if f.wsfed {
			c.Addons.WSFed = &w
		}
		for _, u := range append([]string{f.recipient}, strings.Fields(f.callbacks)...) {
			if u != "" && !slices.Contains(c.Callbacks, u) {
				c.Callbacks = append(c.Callbacks, u)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if f.disable {
		fmt.Fprintf(out, "SAML and WS-Fed are off for %s\n", cl.ClientID)
		return nil
	}
	fmt.Fprintf(out, "client_id\t%s\nsso\t%ssamlp/%s\nmetadata\t%ssamlp/metadata/%s\n", cl.ClientID, issuer, cl.ClientID, issuer, cl.ClientID)
	if cl.Addons.WSFed != nil {
		fmt.Fprintf(out, "wsfed\t%swsfed/%s\nwsfed_metadata\t%swsfed/FederationMetadata/2007-06/FederationMetadata.xml\n", issuer, cl.ClientID, issuer)
	}
	return nil
}
