// A certified OpenID provider for the sign-in tests: panva's oidc-provider (npm), started by tests/signin/provider.py
// as `node oidc_provider.mjs <config.json>` with NODE_PATH unused (it is imported from the given module folder).
// The config names the port, the issuer, the pages' client (secret, redirect URIs), the test accounts (their
// claims: name, roles) and the signing key (a private JWK the tests also sign MCP access tokens with). The built-in
// development interactions are the login and consent pages a person uses in Chromium: any password is accepted for
// a known account; an unknown one is refused.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { default: Provider } = await import(pathToFileURL(path.join(config.module, 'lib', 'index.js')).href);

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: { keys: config.keys },
  cookies: { keys: [config.cookie_key] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['name', 'roles'], email: ['email'] },
  conformIdTokenClaims: config.conform_id_token_claims ?? true,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
});
provider.proxy = false;
const server = provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${config.issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
