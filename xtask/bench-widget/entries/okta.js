// The Okta Sign-In Widget as a shop bundles it.
import OktaSignIn from '@okta/okta-signin-widget';
window.widget = new OktaSignIn({ issuer: 'https://id.example/oauth2/default', clientId: 'x', redirectUri: 'https://shop.example/' });
