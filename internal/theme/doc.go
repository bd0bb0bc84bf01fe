// Package theme holds the look every page Signet serves shares: the
// palette, radius and font stacks as CSS custom properties on :root, with
// the base font and colours of the body. The dashboard serves CSS as a
// stylesheet of its own (its other rules use the properties); the
// end-user login page inlines it in its nonce'd style element, as its
// Content-Security-Policy admits no stylesheet from elsewhere.
package theme
