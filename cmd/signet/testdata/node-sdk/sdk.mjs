// Drives Auth0's Node SDK against a Signet server over HTTPS and prints one
// JSON object of what it saw. Environment: DOMAIN (host:port), CLIENT_ID,
// CLIENT_SECRET, NODE_EXTRA_CA_CERTS (the server's certificate).
import { ManagementClient } from "auth0";

const m = new ManagementClient({
  domain: process.env.DOMAIN,
  clientId: process.env.CLIENT_ID,
  clientSecret: process.env.CLIENT_SECRET,
});

// failure runs fn and returns the HTTP status and body of the error it
// throws ({status: 0} if it succeeds).
async function failure(fn) {
  try {
    await fn();
    return { status: 0 };
  } catch (e) {
    return { status: e.statusCode ?? -1, body: e.body ?? String(e) };
  }
}

// statusOf runs fn and returns the HTTP status of the error it throws.
async function statusOf(fn) {
  return (await failure(fn)).status;
}

// all collects every item of a paged list, following the SDK's own paging.
async function all(page) {
  const out = [];
  for await (const item of page) out.push(item);
  return out;
}

const out = {};
// On an unexpected error, show what was seen so far.
process.on("uncaughtException", (e) => {
  console.error("seen so far: " + JSON.stringify(out, null, 1));
  console.error(e);
  process.exit(1);
});
process.on("unhandledRejection", (e) => {
  console.error("seen so far: " + JSON.stringify(out, null, 1));
  console.error(e);
  process.exit(1);
});

// --- users -----------------------------------------------------------------
const db = "Username-Password-Authentication";
const u = {};
out.users = u;
u.created = await m.users.create({
  connection: db,
  email: "Alice@Example.com",
  password: "correct horse battery",
  name: "Alice",
  email_verified: true,
});
const alice = u.created.user_id;
u.duplicate = await failure(() => m.users.create({ connection: db, email: "alice@example.com", password: "another long one" }));
u.noConnection = await failure(() => m.users.create({ email: "nc@example.com", password: "long enough pw" }));
u.otherConnection = await failure(() => m.users.create({ connection: "google-oauth2", email: "oc@example.com", password: "long enough pw" }));
u.weakPassword = await failure(() => m.users.create({ connection: db, email: "weak@example.com", password: "short" }));
for (const e of ["bob@example.com", "carol@example.com"]) {
  await m.users.create({ connection: db, email: e, password: "long enough pw" });
}
u.get = await m.users.get(alice);
u.getFields = await m.users.get(alice, { fields: "user_id,email", include_fields: true });
const first = await m.users.list({ per_page: 2, include_totals: true });
u.page0 = { ids: first.data.map((x) => x.user_id), total: first.response.total, start: first.response.start, limit: first.response.limit, hasNext: first.hasNextPage() };
await first.getNextPage();
u.page1 = { ids: first.data.map((x) => x.user_id), start: first.response.start, hasNext: first.hasNextPage() };
u.all = (await all(await m.users.list({ per_page: 2 }))).map((x) => x.email);
u.defaultList = (await m.users.list()).data.map((x) => x.email);
u.search = (await m.users.list({ q: 'email:"bob@example.com"', search_engine: "v3" })).data.map((x) => x.email);
u.byEmail = (await m.users.listUsersByEmail({ email: "carol@example.com" })).map((x) => x.email);
u.byEmailNone = await m.users.listUsersByEmail({ email: "nobody@example.com" });
u.renamed = await m.users.update(alice, { name: "Alice L." });
u.blocked = await m.users.update(alice, { blocked: true });
u.unblocked = await m.users.update(alice, { blocked: false, password: "a brand new password" });
u.updateWeak = await failure(() => m.users.update(alice, { password: "short" }));
u.updateUnknown = await failure(() => m.users.update("auth0|000000000000000000000000", { name: "x" }));
const bob = (await m.users.listUsersByEmail({ email: "bob@example.com" }))[0].user_id;
await m.users.delete(bob);
u.afterDelete = await failure(() => m.users.get(bob));
u.count = (await m.users.list({ include_totals: true })).response.total;

// --- resource servers --------------------------------------------------------
const r = {};
out.resourceServers = r;
const ident = "https://orders.example/api";
r.created = await m.resourceServers.create({
  name: "Orders",
  identifier: ident,
  scopes: [{ value: "read:orders", description: "Read orders" }, { value: "write:orders", description: "Write orders" }],
  signing_alg: "RS256",
  token_lifetime: 3600,
});
r.get = await m.resourceServers.get(r.created.id);
r.getByIdentifier = (await m.resourceServers.get(ident)).id;
r.list = (await all(await m.resourceServers.list())).map((x) => ({ identifier: x.identifier, is_system: x.is_system }));
r.updated = await m.resourceServers.update(r.created.id, {
  name: "Orders API",
  scopes: [{ value: "read:orders", description: "Read orders" }, { value: "write:orders", description: "Write orders" }, { value: "admin:orders" }],
});
r.duplicate = await failure(() => m.resourceServers.create({ name: "again", identifier: ident }));
r.unknown = await failure(() => m.resourceServers.get("no-such-api"));

// --- clients -----------------------------------------------------------------
const c = {};
out.clients = c;
const web = {
  name: "Web App",
  description: "A regular web application",
  app_type: "regular_web",
  grant_types: ["authorization_code", "refresh_token"],
  callbacks: ["https://app.example/callback"],
  allowed_logout_urls: ["https://app.example/"],
  token_endpoint_auth_method: "client_secret_post",
  jwt_configuration: { lifetime_in_seconds: 7200, alg: "RS256" },
  refresh_token: { rotation_type: "rotating", expiration_type: "expiring", token_lifetime: 86400 },
  addons: {
    samlp: {
      audience: "urn:sp.example",
      recipient: "https://sp.example/acs",
      mappings: { email: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" },
      nameIdentifierFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
      signatureAlgorithm: "rsa-sha256",
      digestAlgorithm: "sha256",
      lifetimeInSeconds: 3600,
    },
  },
};
c.created = await m.clients.create(web);
const webID = c.created.client_id;
c.get = await m.clients.get(webID);
c.getFields = await m.clients.get(webID, { fields: "client_id,name", include_fields: true });
c.updated = await m.clients.update(webID, {
  callbacks: ["https://app.example/callback", "https://app.example/callback2"],
  jwt_configuration: { lifetime_in_seconds: 3600 },
  addons: { samlp: { audience: "urn:sp.example", recipient: "https://sp.example/acs" }, wsfed: {} },
});
c.badCallback = await failure(() => m.clients.update(webID, { callbacks: ["not a url"] }));
c.badAlg = await failure(() => m.clients.update(webID, { jwt_configuration: { alg: "HS256" } }));
c.badRotation = await failure(() => m.clients.update(webID, { refresh_token: { rotation_type: "non-rotating" } }));
const doomed = await m.clients.create({ name: "Doomed", app_type: "spa", callbacks: ["http://localhost:3000/cb"] });
c.spa = { token_endpoint_auth_method: doomed.token_endpoint_auth_method, has_secret: doomed.client_secret !== undefined };
c.listed = (await all(await m.clients.list())).map((x) => x.client_id);
c.listPage = await (async () => {
  const p = await m.clients.list({ per_page: 1, include_totals: true });
  return { n: p.data.length, total: p.response.total, secretShown: p.data.some((x) => x.client_secret !== undefined) };
})();
await m.clients.delete(doomed.client_id);
c.afterDelete = await failure(() => m.clients.get(doomed.client_id));
c.deleteAgain = await statusOf(() => m.clients.delete(doomed.client_id));

// --- client grants -----------------------------------------------------------
const g = {};
out.grants = g;
g.created = await m.clientGrants.create({ client_id: webID, audience: ident, scope: ["read:orders"] });
g.get = await m.clientGrants.get(g.created.id);
g.byClient = (await all(await m.clientGrants.list({ client_id: webID }))).map((x) => x.id);
g.byAudience = (await all(await m.clientGrants.list({ audience: ident }))).map((x) => x.id);
g.all = (await all(await m.clientGrants.list())).length;
g.updated = await m.clientGrants.update(g.created.id, { scope: ["read:orders", "write:orders"] });
g.duplicate = await failure(() => m.clientGrants.create({ client_id: webID, audience: ident, scope: [] }));
g.deletedClient = await failure(() => m.clientGrants.create({ client_id: doomed.client_id, audience: ident, scope: ["read:orders"] }));
g.badScope = await failure(() => m.clientGrants.update(g.created.id, { scope: ["fly:orders"] }));
await m.clientGrants.delete(g.created.id);
g.afterDelete = await failure(() => m.clientGrants.get(g.created.id));

await m.resourceServers.delete(r.created.id);
r.afterDelete = await failure(() => m.resourceServers.get(r.created.id));

// The Go test signs in as Alice through this client.
out.login = { clientId: webID, clientSecret: c.created.client_secret, email: "alice@example.com", password: "a brand new password", oldPassword: "correct horse battery" };

// --- signing keys (last: revoking the current key ends this token) ------------
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
