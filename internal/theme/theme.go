package theme

import _ "embed" // for CSS

// CSS is the shared stylesheet: custom properties on :root (--ink, --muted,
// --bg, --card, --line, --accent, --danger, --success, --warning and their
// shades, --radius, --sans, --mono) and the body's font and colours.
//
//go:embed theme.css
var CSS string
