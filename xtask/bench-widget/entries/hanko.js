// Hanko Elements as a shop bundles it: the element registered against an API.
import { register } from '@teamhanko/hanko-elements';
register('http://127.0.0.1:1');
