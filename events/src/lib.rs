//! Identity-provider events, verified and read as one normalized event.
//!
//! An IdP tells the shops it serves that a user was deleted, disabled,
//! enabled or signed out, each in its own format: Logto and ZITADEL
//! webhooks, Keycloak's through the p2-inc `keycloak-events` extension,
//! OpenID Connect Back-Channel Logout tokens, Shared Signals security
//! events, and Standard Webhooks. [`formats`] verifies each one exactly as
//! its sender signs it (the format is configured per source, never
//! guessed) and reads it as an [`Event`]: an [`Action`], the IdP's user id,
//! the session when there is one, and a key under which a redelivery of
//! the same event is recognised. [`standard_webhooks`] signs and verifies
//! the Standard Webhooks deliveries the builder relays to shops.
//!
//! What it is not: storage, HTTP or key fetching. Callers keep the replay
//! keys, verify JWTs with `tessera-verifier` before [`formats::logout_token`]
//! and [`formats::security_event`] read their claims, and relay events.
//!
//! Personal data: the formats' bodies carry e-mail addresses, names and
//! phone numbers (Logto sends the whole user). Nothing here reads them:
//! each body is parsed into types that hold only ids, flags and times, so
//! an [`Event`] holds no personal data and may be stored and logged.

pub mod formats;
pub mod standard_webhooks;

pub use formats::{Action, Event, EventError, Format, Received};
