# Tessera widget texts: en. Every message of en.ftl must be here.

widget-title = Sign in
sign-in = Sign in
sign-in-with = Continue with { $provider }
signing-in = Signing you in…
signed-in = You are signed in
sign-out = Sign out
privacy-note = This shop only sees a pseudonym, never your name or email.
error-idp-unavailable = The sign-in service cannot be reached. Please try again in a moment.
error-cancelled = Sign-in was cancelled.
error-state-mismatch = This sign-in could not be verified. Please start again.
error-clock-skew = Your device's clock seems to be off. Please correct it and try again.
error-configuration = Sign-in is not set up correctly for this shop.
error-generic = Something went wrong. Please try again.
error-session-expired = Your session has ended. Please sign in again.
error-popup-blocked = The sign-in window was blocked. Please allow pop-ups for this site and try again.
dismiss = Dismiss
