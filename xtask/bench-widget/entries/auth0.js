// Auth0 Lock as a shop bundles it.
import Auth0Lock from 'auth0-lock';
window.lock = new Auth0Lock('client', 'id.example');
