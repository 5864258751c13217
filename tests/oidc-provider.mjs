// npm's oidc-provider (a certified OpenID Provider) set up as a shop's IdP
// would be: the public PKCE client `demo`, JWT access tokens for the shop's
// audience `demo-shop-api`, and its development login and consent pages. Its
// accounts carry every end-user claim of OpenID Connect Core 5.1, and it puts
// them all into the ID token under the `openid` scope, as IdPs with
// generous defaults do; none of it may reach the shop's page.
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';
import { freePort } from './support.mjs';

export const INTEROP_USER = {
  name: 'Ada Interop', given_name: 'Ada', family_name: 'Interop', middle_name: 'King',
  nickname: 'ada-nick', preferred_username: 'ada.interop.user', profile: 'https://id.example/ada-interop',
  picture: 'https://id.example/ada-interop.png', website: 'https://ada-interop.example',
  email: 'ada.interop@example.test', gender: 'female-interop', birthdate: '1815-12-10',
  zoneinfo: 'Europe/Interop', locale: 'en-Interop', phone_number: '+44 20 7946 0999',
  address: { formatted: '12 Interop Street' }, updated_at: 1_700_000_123,
};

/**
 * Starts the provider. `like: 'logto'` makes it issue the shop's JWT access
 * token only when the sign-in asks for it with an RFC 8707 resource
 * indicator, at the authorization request and again at the token endpoint,
 * as Logto does (otherwise the access token is opaque); `resource` is then
 * the token's audience. `redirectUris` adds registered redirect URIs (their
 * origins may call the token endpoint). `port` picks its port (so a server
 * configured with its issuer can start first); `backchannelLogoutUri`
 * registers the client for OpenID Connect Back-Channel Logout there.
 */
export async function startOidcProvider({
  shopOrigin, like, resource: logtoResource, redirectUris = [], port: chosenPort, backchannelLogoutUri,
}) {
  const port = chosenPort ?? await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signing = { ...(await exportJWK(privateKey)), kid: 'interop-rs256', alg: 'RS256', use: 'sig' };
  const resource = 'urn:tessera:demo-shop-api';
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'demo',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [`${shopOrigin}/demo/`, `${shopOrigin}/demo/orders`, ...redirectUris],
      post_logout_redirect_uris: [`${shopOrigin}/demo/`, `${shopOrigin}/demo/orders`],
      // OpenID Connect Back-Channel Logout: the logout token goes to
      // Tessera's event source, with the session id.
      ...(backchannelLogoutUri
        ? { backchannel_logout_uri: backchannelLogoutUri, backchannel_logout_session_required: true }
        : {}),
    }],
    // Everything here runs on loopback, which oidc-provider's outgoing
    // requests refuse (its SSRF guard): let the back-channel call through.
    fetch: (url, options) => {
      delete options.dispatcher;
      return globalThis.fetch(url, options);
    },
    jwks: { keys: [signing] },
    cookies: { keys: ['interop-test-cookie-key-0123456789'] },
    pkce: { required: () => true },
    // Two lifetimes, as many IdPs have: the widget must keep the access
    // token's for what uses the access token.
    ttl: { AccessToken: 300, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
    // Public clients may call the token endpoint from their redirect URIs' origins.
    clientBasedCORS: (_context, origin, client) => client.redirectUris.some((uri) => new URL(uri).origin === origin),
    claims: { openid: ['sub', 'email_verified', 'phone_number_verified', ...Object.keys(INTEROP_USER)] },
    conformIdTokenClaims: false,
    findAccount: (_context, id) => ({
      accountId: id,
      claims: () => ({ sub: id, ...INTEROP_USER, email_verified: true, phone_number_verified: false }),
    }),
    features: {
      devInteractions: { enabled: true },
      backchannelLogout: { enabled: Boolean(backchannelLogoutUri) },
      resourceIndicators: like === 'logto'
        ? {
          enabled: true,
          // No resource asked for at the token endpoint: an opaque token.
          defaultResource: () => undefined,
          useGrantedResource: () => false,
          getResourceServerInfo: (_context, indicator) => {
            if (indicator !== logtoResource) throw new errors.InvalidTarget();
            return { scope: 'openid', audience: logtoResource, accessTokenFormat: 'jwt', accessTokenTTL: 600 };
          },
        }
        : {
          enabled: true,
          defaultResource: () => resource,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: 'openid',
            audience: 'demo-shop-api',
            accessTokenFormat: 'jwt',
            accessTokenTTL: 600,
          }),
        },
    },
  });
  // Keep the test output quiet: the development interactions warn on start.
  provider.on('server_error', (_context, error) => console.error('oidc-provider:', error));
  const server = createServer(provider.callback());
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { issuer, stop: () => new Promise((resolve) => server.close(resolve)) };
}
