// Verifies the SAML 1.1 assertion in a WS-Fed wresult (an RSTR read from
// stdin) the way a Node relying party does, with xml-crypto: the assertion
// the RP reads (RequestedSecurityToken/Assertion) must carry a signature
// whose one reference is that assertion, valid under one of the
// certificates (PEM files) given as arguments; the certificate in KeyInfo
// is ignored, as by an RP configured from metadata.
// Prints "OK <NameIdentifier>" and exits 0, or prints why and exits 1.
import { readFileSync } from "node:fs";
import { DOMParser } from "@xmldom/xmldom";
import { SignedXml } from "xml-crypto";

const SAML11 = "urn:oasis:names:tc:SAML:1.0:assertion";
const DSIG = "http://www.w3.org/2000/09/xmldsig#";
const xml = readFileSync(0, "utf8");
const certs = process.argv.slice(2).map((f) => readFileSync(f, "utf8"));

function fail(msg) {
  console.log("FAIL " + msg);
  process.exit(1);
}

function child(el, ns, name) {
  for (let n = el && el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && n.localName === name && (ns === null || n.namespaceURI === ns)) return n;
  }
  return null;
}

const doc = new DOMParser({ onError: (level, msg) => fail("parse: " + msg) }).parseFromString(xml, "text/xml");
const rstr = doc.documentElement;
if (!rstr || rstr.localName !== "RequestSecurityTokenResponse") fail("not an RSTR");
const assertion = child(child(rstr, null, "RequestedSecurityToken"), SAML11, "Assertion");
if (!assertion) fail("no SAML 1.1 assertion");
const signature = child(assertion, DSIG, "Signature");
if (!signature) fail("the assertion is not signed");
const id = assertion.getAttribute("AssertionID");

let lastErr = "no certificate";
for (const cert of certs) {
  const sig = new SignedXml({ publicCert: cert, idAttribute: "AssertionID", getCertFromKeyInfo: () => null });
  sig.loadSignature(signature);
  try {
    if (!sig.checkSignature(xml)) {
      lastErr = "signature invalid";
      continue;
    }
  } catch (e) {
    lastErr = String(e.message || e);
    continue;
  }
  const refs = sig.getReferences();
  if (refs.length !== 1 || refs[0].uri !== "#" + id) fail("the signature does not reference the assertion");
  // Read the NameIdentifier from what was signed, not from the document.
  const signed = new DOMParser().parseFromString(sig.getSignedReferences()[0], "text/xml").documentElement;
  const stmt = child(signed, SAML11, "AuthenticationStatement");
  const nameId = child(child(stmt, SAML11, "Subject"), SAML11, "NameIdentifier");
  console.log("OK " + (nameId ? nameId.textContent : ""));
  process.exit(0);
}
fail(lastErr);
