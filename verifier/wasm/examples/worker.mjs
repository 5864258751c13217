// A Cloudflare Worker that serves the shop's API only to requests with a
// valid passport, with no framework. The issuer and audience come from the
// Worker's bindings (ISSUER, AUDIENCE). Refusals are RFC 6750's answers.
import { authenticate, createVerifier } from '@tessera/verifier';

let verifier;

export default {
  async fetch(request, env) {
    // One verifier per isolate: its key cache outlives the request.
    verifier ??= createVerifier({ issuer: env.ISSUER, audience: env.AUDIENCE, remote: {}, rejectPii: true });
    const answer = await authenticate(await verifier, request.headers.get('authorization'));
    if (!answer.ok) {
      if (answer.error) console.warn(`bearer token refused: ${answer.error.code}`);
      return new Response(null, { status: answer.status, headers: answer.headers });
    }
    return Response.json({ customer: answer.passport.claims.sub, orders: [] });
  },
};
