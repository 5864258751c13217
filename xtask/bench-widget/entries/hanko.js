// Hanko Elements as a shop bundles it: the element registered against its
// API. The benchmark serves a stand-in for that API on the bundle's own
// origin (see first-render.mjs), so Hanko renders its real login form.
import { register } from '@teamhanko/hanko-elements';
register(new URL('/hanko-api', import.meta.url).href);
