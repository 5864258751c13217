// Express: a middleware that admits only requests with a valid passport and
// answers everything else as RFC 6750 says (401 with WWW-Authenticate, or 503
// with Retry-After while the issuer's keys cannot be had). The reason a token
// failed goes to the server's log as its code, never into the answer.
import express from 'express';
import { authenticate, createVerifier } from '@tessera/verifier';

export function requirePassport(verifier) {
  return async (request, response, next) => {
    const answer = await authenticate(verifier, request.headers.authorization);
    if (answer.ok) {
      request.passport = answer.passport;
      return next();
    }
    if (answer.error) console.warn(`bearer token refused: ${answer.error.code}`);
    response.status(answer.status).set(answer.headers).end();
  };
}

export async function shop({ issuer, audience, ...options }) {
  const verifier = await createVerifier({ issuer, audience, remote: {}, rejectPii: true, ...options });
  const app = express();
  app.get('/orders', requirePassport(verifier), (request, response) => {
    response.json({ customer: request.passport.claims.sub, orders: [] });
  });
  return app;
}

// node express.mjs https://id.shop.example shop-api
if (import.meta.url === `file://${process.argv[1]}`) {
  const [issuer, audience] = process.argv.slice(2);
  (await shop({ issuer, audience })).listen(3000);
}
