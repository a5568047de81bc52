// A real, certified OpenID provider (panva's oidc-provider) for the single sign-on tests
// (tests/test_oidc_e2e.py, tests/browser/test_oidc.py). Only its documented configuration is
// used: one JSON file (the first argument) names the port, the clients, the signing keys (JWKs),
// the ID token lifetime and a clock offset; its `accounts` are read again at every look-up, so a
// test can change a person's groups while the provider runs. Login and consent are the
// provider's own development pages (devInteractions: any password is accepted for a known login).
//
//   node provider.mjs settings.json      prints "listening <issuer>" when ready
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const settingsPath = process.argv[2];
const settings = JSON.parse(readFileSync(settingsPath, "utf8"));

// A provider whose clock is off (settings.clock_offset seconds): the tokens it issues are dated
// accordingly (an expired ID token at the relying party, from a real provider).
if (settings.clock_offset) {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + settings.clock_offset * 1000;
}

function accounts() {
  return JSON.parse(readFileSync(settingsPath, "utf8")).accounts || {};
}

const configuration = {
  clients: settings.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: c.token_endpoint_auth_method || "client_secret_basic",
  })),
  jwks: { keys: settings.keys },
  // Claims of the granted scopes go into the ID token (as Entra ID, Okta and Google do), not
  // only to the userinfo endpoint.
  conformIdTokenClaims: false,
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
    groups: ["groups"],
  },
  scopes: ["openid", "email", "profile", "groups"],
  async findAccount(ctx, id) {
    const account = accounts()[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...account };
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
  },
  pkce: { required: () => true },
  ttl: {
    IdToken: settings.id_token_ttl || 300,
    AccessToken: 600,
    AuthorizationCode: 60,
    Interaction: 3600,
    Session: 3600,
    Grant: 3600,
  },
  cookies: { keys: ["office-booker-test-provider-cookie-key"] },
  clientBasedCORS: () => false,
  renderError(ctx, out) {
    ctx.type = "html";
    ctx.body = `<!DOCTYPE html><title>Error</title><h1>Provider error</h1><pre>${JSON.stringify(out)}</pre>`;
  },
};

const issuer = `http://127.0.0.1:${settings.port}`;
const provider = new Provider(issuer, configuration);
provider.on("server_error", (ctx, err) => console.error("server_error", err));
provider.on("grant.error", (ctx, err) => console.error("grant.error", err.message, err.error_description || ""));

const server = provider.listen(settings.port, "127.0.0.1", () => {
  console.log(`listening ${issuer}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
