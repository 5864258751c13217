// Hono: the same middleware for every runtime Hono runs on (Node, Deno, Bun,
// Cloudflare Workers). Requests without a valid passport get RFC 6750's
// answers (401 with WWW-Authenticate, or 503 with Retry-After while the
// issuer's keys cannot be had); the reason stays in the server's log.
import { Hono } from 'hono';
import { authenticate, createVerifier } from '@tessera/verifier';

export function requirePassport(verifier) {
  return async (context, next) => {
    const answer = await authenticate(verifier, context.req.header('authorization'));
    if (!answer.ok) {
      if (answer.error) console.warn(`bearer token refused: ${answer.error.code}`);
      return context.body(null, answer.status, answer.headers);
    }
    context.set('passport', answer.passport);
    await next();
  };
}

/** The shop's API; `options` are createVerifier's (issuer, audience, keys). */
export function shop(options) {
  // Created on first use: a Worker may not fetch or wait at start-up.
  let verifier;
  const app = new Hono();
  app.use('/orders', async (context, next) => {
    verifier ??= createVerifier({ remote: {}, rejectPii: true, ...options });
    return requirePassport(await verifier)(context, next);
  });
  app.get('/orders', (context) => context.json({ customer: context.get('passport').claims.sub, orders: [] }));
  return app;
}

// Serving it, once per process or isolate (the verifier's key cache lives in
// the app): Node, serve(shop(options)) from @hono/node-server; Deno,
// Deno.serve(shop(options).fetch); Bun, export default shop(options); a
// Cloudflare Worker, whose options come from its bindings:
//
//   let app;
//   export default {
//     fetch: (request, env) => (app ??= shop({ issuer: env.ISSUER, audience: env.AUDIENCE })).fetch(request),
//   };
