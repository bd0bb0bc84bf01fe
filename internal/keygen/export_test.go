package keygen

// NewSerial exposes newSerial to the external tests.
var NewSerial = newSerial
