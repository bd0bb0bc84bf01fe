// Drives Auth0's Node SDK against a Signet server over HTTPS and prints one
// JSON object of what it saw. Environment: DOMAIN (host:port), CLIENT_ID,
// CLIENT_SECRET, NODE_EXTRA_CA_CERTS (the server's certificate).
import { ManagementClient } from "auth0";

const m = new ManagementClient({
  domain: process.env.DOMAIN,
  clientId: process.env.CLIENT_ID,
  clientSecret: process.env.CLIENT_SECRET,
});

// statusOf runs fn and returns the HTTP status of the error it throws.
async function statusOf(fn) {
  try {
    await fn();
    return 0;
  } catch (e) {
    return e.statusCode ?? -1;
  }
}

const out = {};
const before = await m.keys.signing.list();
out.before = before.map((k) => ({ kid: k.kid, current: k.current, next: k.next, previous: k.previous, revoked: k.revoked }));
const current = before.find((k) => k.current);
const next = before.find((k) => k.next);
out.get = (await m.keys.signing.get(current.kid)).kid;
out.getFingerprint = (await m.keys.signing.get(current.kid)).fingerprint;
out.rotated = (await m.keys.signing.rotate()).kid;
out.oldNext = next.kid;
const after = await m.keys.signing.list();
out.after = after.map((k) => ({ kid: k.kid, current: k.current, next: k.next, previous: k.previous }));
out.revoked = (await m.keys.signing.revoke(current.kid)).kid;
out.oldCurrent = current.kid;
// The SDK's own token was signed by the key it just revoked: Auth0 behaves
// the same way. A new client gets a new token signed by the new current key.
out.staleTokenStatus = await statusOf(() => m.keys.signing.list());
const fresh = new ManagementClient({
  domain: process.env.DOMAIN,
  clientId: process.env.CLIENT_ID,
  clientSecret: process.env.CLIENT_SECRET,
});
out.final = (await fresh.keys.signing.list()).map((k) => ({ kid: k.kid, revoked: k.revoked, revoked_at: k.revoked_at }));
out.unknownStatus = await statusOf(() => fresh.keys.signing.get("no-such-kid"));
out.revokeCurrentStatus = await statusOf(() => fresh.keys.signing.revoke(out.rotated));
console.log(JSON.stringify(out));
