//! Each IdP's event format: how its sender signs a request, and what the
//! request means for a shop.
//!
//! The HMAC formats ([`logto`], [`zitadel`], [`keycloak`],
//! [`standard_webhooks`]) are verified here against the raw body, exactly
//! as the sender computes the signature (each function names the upstream
//! file it follows), then read. The JWT formats are verified by the caller
//! with `tessera-verifier` (signature, `typ`, issuer, audience, times);
//! [`logout_token`] and [`security_event`] then apply their specification's
//! remaining rules to the claims and read them.
//!
//! Every reader answers a [`Received`]: the normalized [`Event`] and a key
//! that is the same for every redelivery of one event (the format's own
//! delivery or event id, or for Logto, which has none, the body's SHA-256),
//! for the caller's replay check.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::standard_webhooks::{self, Delivery, WebhookSecret};

/// How far a signed timestamp may be from now, either way (ZITADEL's own
/// tolerance, and Standard Webhooks').
pub const TOLERANCE_SECONDS: i64 = 300;

/// How old a Keycloak event may be: the extension retries a failed
/// delivery for up to 15 minutes with the event's original time.
pub const KEYCLOAK_MAX_AGE_SECONDS: i64 = 20 * 60;

/// The formats an event source may be configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Logto webhooks (`logto-signature-sha-256`).
    Logto,
    /// ZITADEL Actions v2 event targets (`ZITADEL-Signature`).
    Zitadel,
    /// Keycloak with the p2-inc `keycloak-events` webhook
    /// (`X-Keycloak-Signature`).
    Keycloak,
    /// OpenID Connect Back-Channel Logout 1.0 (a form POST of
    /// `logout_token`).
    BackChannelLogout,
    /// Shared Signals push delivery (RFC 8935) of RISC and CAEP events.
    SharedSignals,
    /// Standard Webhooks carrying Tessera's own event types.
    StandardWebhooks,
}

impl Format {
    /// Every format, in the order the documentation lists them.
    pub const ALL: [Format; 6] = [
        Format::Logto,
        Format::Zitadel,
        Format::Keycloak,
        Format::BackChannelLogout,
        Format::SharedSignals,
        Format::StandardWebhooks,
    ];

    /// Its name in configuration and URLs.
    pub fn name(self) -> &'static str {
        match self {
            Format::Logto => "logto",
            Format::Zitadel => "zitadel",
            Format::Keycloak => "keycloak",
            Format::BackChannelLogout => "back-channel-logout",
            Format::SharedSignals => "shared-signals",
            Format::StandardWebhooks => "standard-webhooks",
        }
    }

    /// The format named `name`.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|format| format.name() == name)
    }

    /// Whether a request is authenticated by the IdP's signing keys (a
    /// JWT) rather than by a shared secret.
    pub fn uses_issuer_keys(self) -> bool {
        matches!(self, Format::BackChannelLogout | Format::SharedSignals)
    }
}

/// What an IdP event asks of a shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The user was deleted: erase everything held under the subject.
    Erase,
    /// The user was disabled, suspended or locked: refuse the subject.
    Disable,
    /// The user was enabled again.
    Enable,
    /// The user (or one session) was signed out: refuse its tokens.
    EndSessions,
    /// An identifier of the user changed (e-mail, phone, user name): the
    /// shop holds none, but may want to know.
    IdentifierChanged,
    /// Nothing a shop acts on.
    Ignore,
}

impl Action {
    /// The Standard Webhooks event type relayed to shops, if any.
    pub fn shop_event_type(self) -> Option<&'static str> {
        match self {
            Action::Erase => Some("user.deleted"),
            Action::Disable => Some("user.disabled"),
            Action::Enable => Some("user.enabled"),
            Action::EndSessions => Some("session.revoked"),
            Action::IdentifierChanged => Some("user.updated"),
            Action::Ignore => None,
        }
    }

    /// The action a shop event type stands for.
    pub fn from_shop_event_type(name: &str) -> Option<Action> {
        [
            Action::Erase,
            Action::Disable,
            Action::Enable,
            Action::EndSessions,
            Action::IdentifierChanged,
        ]
        .into_iter()
        .find(|action| action.shop_event_type() == Some(name))
    }
}

/// One IdP event, normalized. Holds no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// What it asks of the shop.
    pub action: Action,
    /// The IdP's id of the user (its `sub` for the shop's client with
    /// public subjects). `None` for a session-only logout or when ignored.
    pub subject: Option<String>,
    /// The IdP's session id, for a sign-out of one session.
    pub session: Option<String>,
    /// When the IdP says it happened (Unix seconds), if it says.
    pub occurred_at: Option<i64>,
    /// The IdP's own name for the event (`User.Deleted`, `user.removed`,
    /// `admin.USER-DELETE`...), for the audit log.
    pub source_type: String,
}

/// A verified request: its event, and the key every redelivery of that
/// event shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// `<format>:<the format's natural id>`.
    pub key: String,
    /// The event.
    pub event: Event,
}

/// Why a request was refused. Nothing is changed by a refused request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// A required header is absent or not text.
    #[error("the `{0}` header is missing")]
    MissingHeader(&'static str),
    /// The signature header is not in the format's syntax.
    #[error("the `{0}` header is malformed")]
    MalformedSignature(&'static str),
    /// No signature matches the body under the source's secret.
    #[error("the signature does not match the body")]
    BadSignature,
    /// The signed time is outside the format's window: [`TOLERANCE_SECONDS`]
    /// either way, or [`KEYCLOAK_MAX_AGE_SECONDS`] old for Keycloak.
    #[error("the event's time ({0}) is outside the window this format allows around now")]
    Stale(&'static str),
    /// The body (or the token's claims) is not what the format sends.
    #[error("{0}")]
    Malformed(String),
}

impl EventError {
    /// A stable code for the error response.
    pub fn code(&self) -> &'static str {
        match self {
            EventError::MissingHeader(_) => "event_header_missing",
            EventError::MalformedSignature(_) => "event_signature_malformed",
            EventError::BadSignature => "event_signature_invalid",
            EventError::Stale(_) => "event_stale",
            EventError::Malformed(_) => "event_malformed",
        }
    }

    fn body(format: Format, error: impl std::fmt::Display) -> EventError {
        EventError::Malformed(format!(
            "the body is not a {} event: {error}",
            format.name()
        ))
    }
}

fn header<'a>(headers: &'a http::HeaderMap, name: &'static str) -> Result<&'a str, EventError> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or(EventError::MissingHeader(name))
}

/// HMAC-SHA256 of `message` under `key` equals one of `tags`, compared in
/// constant time.
fn hmac_matches<'t>(key: &[u8], message: &[u8], tags: impl IntoIterator<Item = &'t [u8]>) -> bool {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    tags.into_iter()
        .any(|tag| ring::hmac::verify(&key, message, tag).is_ok())
}

/// An RFC 3339 time as Unix seconds.
fn rfc3339(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

/// Unix seconds as ASCII digits alone, within `i64`.
fn unix_seconds(text: &str) -> Option<i64> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// Whether `at` lies within `past` seconds before `now` and
/// [`TOLERANCE_SECONDS`] after it (a clock a little ahead is forgiven).
fn fresh(at: i64, now: i64, past: i64) -> bool {
    match now.checked_sub(at) {
        Some(age) => age <= past && age >= -TOLERANCE_SECONDS,
        None => false,
    }
}

/// A user id as IdPs write them: 1 to 255 printable ASCII characters.
fn user_id(value: Option<&str>) -> Option<String> {
    value
        .filter(|id| !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
}

/// SHA-256 in lowercase hex.
fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

// ---- Logto ---------------------------------------------------------------

/// A Logto webhook body: only the fields read. `data` carries the whole
/// user (e-mail, phone, name...), none of which is deserialized.
#[derive(Deserialize)]
struct LogtoBody {
    event: String,
    #[serde(rename = "createdAt")]
    created_at: String,
    #[serde(default)]
    data: Option<LogtoData>,
    #[serde(default)]
    params: Option<LogtoParams>,
    /// Interaction hooks name the user here.
    #[serde(default, rename = "userId")]
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct LogtoData {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "isSuspended")]
    is_suspended: Option<bool>,
}

#[derive(Deserialize)]
struct LogtoParams {
    #[serde(default, rename = "userId")]
    user_id: Option<String>,
}

/// A Logto webhook, as `packages/core/src/libraries/hook/utils.ts`
/// (`sendWebhookRequest`) sends it: header `logto-signature-sha-256`, the
/// lowercase hex HMAC-SHA256 of the raw body under the hook's signing key
/// (its UTF-8 bytes, `packages/core/src/utils/sign.ts`). Logto sends no
/// timestamp header and no delivery id, so the body's `createdAt` must be
/// within [`TOLERANCE_SECONDS`] of now (Logto sends once, at once), and
/// the key is the body's SHA-256.
///
/// `User.Deleted` erases `data.id`; `User.SuspensionStatus.Updated`
/// disables or enables it by `data.isSuspended`; `User.Data.Updated` is an
/// identifier change; everything else is ignored.
pub fn logto(
    signing_key: &[u8],
    headers: &http::HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Received, EventError> {
    const HEADER: &str = "logto-signature-sha-256";
    let signature = header(headers, HEADER)?;
    let tag = hex::decode(signature).map_err(|_| EventError::MalformedSignature(HEADER))?;
    if !hmac_matches(signing_key, body, [tag.as_slice()]) {
        return Err(EventError::BadSignature);
    }
    let hook: LogtoBody =
        serde_json::from_slice(body).map_err(|error| EventError::body(Format::Logto, error))?;
    let created = rfc3339(&hook.created_at)
        .ok_or_else(|| EventError::body(Format::Logto, "`createdAt` is not an RFC 3339 time"))?;
    if !fresh(created, now, TOLERANCE_SECONDS) {
        return Err(EventError::Stale("`createdAt`"));
    }
    let subject = user_id(
        hook.data
            .as_ref()
            .and_then(|data| data.id.as_deref())
            .or(hook
                .params
                .as_ref()
                .and_then(|params| params.user_id.as_deref()))
            .or(hook.user_id.as_deref()),
    );
    let action = match hook.event.as_str() {
        "User.Deleted" => Action::Erase,
        "User.SuspensionStatus.Updated" => {
            match hook.data.as_ref().and_then(|data| data.is_suspended) {
                Some(true) => Action::Disable,
                Some(false) => Action::Enable,
                None => {
                    return Err(EventError::body(
                        Format::Logto,
                        "`User.SuspensionStatus.Updated` without `data.isSuspended`",
                    ));
                }
            }
        }
        "User.Data.Updated" => Action::IdentifierChanged,
        _ => Action::Ignore,
    };
    finish(
        format!("logto:{}", sha256_hex(body)),
        Format::Logto,
        action,
        subject,
        None,
        Some(created),
        hook.event,
    )
}

/// The event, refusing an action on nobody.
fn finish(
    key: String,
    format: Format,
    action: Action,
    subject: Option<String>,
    session: Option<String>,
    occurred_at: Option<i64>,
    source_type: String,
) -> Result<Received, EventError> {
    let needs_subject = !matches!(action, Action::Ignore | Action::EndSessions);
    if needs_subject && subject.is_none() {
        return Err(EventError::body(
            format,
            format!("`{source_type}` names no user"),
        ));
    }
    if action == Action::EndSessions && subject.is_none() && session.is_none() {
        return Err(EventError::body(
            format,
            format!("`{source_type}` names neither a user nor a session"),
        ));
    }
    // Event names are the IdP's, short and printable; keep them so.
    let source_type = source_type
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(100)
        .collect();
    Ok(Received {
        key,
        event: Event {
            action,
            subject: subject.filter(|_| action != Action::Ignore),
            session: session.filter(|_| action != Action::Ignore),
            occurred_at,
            source_type,
        },
    })
}

// ---- ZITADEL -------------------------------------------------------------

/// A ZITADEL event execution body (`internal/repository/execution/queue.go`
/// `ContextInfoEvent`): only the fields read. `event_payload` holds the
/// user's profile for many events and is read only for a session id.
#[derive(Deserialize)]
struct ZitadelBody {
    #[serde(rename = "aggregateID")]
    aggregate_id: String,
    #[serde(rename = "aggregateType")]
    aggregate_type: String,
    #[serde(rename = "instanceID")]
    instance_id: String,
    sequence: u64,
    event_type: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    event_payload: Option<Value>,
}

/// The session a `user.human.signed.out` names: `event_payload` is an
/// object in newer ZITADEL, base64 of one in older.
fn zitadel_session(payload: Option<&Value>) -> Option<String> {
    use base64::Engine as _;
    let decoded;
    let object = match payload? {
        Value::Object(object) => object,
        Value::String(encoded) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()?;
            decoded = serde_json::from_slice::<Map<String, Value>>(&bytes).ok()?;
            &decoded
        }
        _ => return None,
    };
    user_id(object.get("sessionID").and_then(Value::as_str))
}

/// A ZITADEL Actions v2 event target call, as `pkg/actions/signing.go`
/// (`ComputeSignatureHeader`) signs it: header `ZITADEL-Signature:
/// t=<unix>,v1=<hex>[,v1=<hex>...]`, each `v1` the HMAC-SHA256 of
/// `"<t>." + body` under the target's signing key; `t` within
/// [`TOLERANCE_SECONDS`] of now, either way (ZITADEL's `validatePayload`
/// checks only the past side). The key is the instance, aggregate and
/// sequence.
///
/// The user is `aggregateID` when `aggregateType` is `user` (`userID` is
/// whoever caused the event). `user.removed` erases; `user.deactivated` and
/// `user.locked` disable; `user.reactivated` and `user.unlocked` enable;
/// `user.human.signed.out` ends the session it names (or the user's);
/// e-mail, phone and user-name changes are identifier changes.
pub fn zitadel(
    signing_key: &[u8],
    headers: &http::HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Received, EventError> {
    const HEADER: &str = "zitadel-signature";
    let value = header(headers, HEADER)?;
    let mut timestamp = None;
    let mut tags = Vec::new();
    for part in value.split(',') {
        match part.trim().split_once('=') {
            Some(("t", seconds)) => {
                timestamp =
                    Some(unix_seconds(seconds).ok_or(EventError::MalformedSignature(HEADER))?);
            }
            // An entry that is not hex is skipped, as ZITADEL does.
            Some(("v1", tag)) => tags.extend(hex::decode(tag).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(EventError::MalformedSignature(HEADER))?;
    if tags.is_empty() {
        return Err(EventError::MalformedSignature(HEADER));
    }
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    if !hmac_matches(signing_key, &message, tags.iter().map(Vec::as_slice)) {
        return Err(EventError::BadSignature);
    }
    if !fresh(timestamp, now, TOLERANCE_SECONDS) {
        return Err(EventError::Stale("`t` of the signature"));
    }
    let event: ZitadelBody =
        serde_json::from_slice(body).map_err(|error| EventError::body(Format::Zitadel, error))?;
    let on_user = event.aggregate_type == "user";
    let action = match event.event_type.as_str() {
        _ if !on_user => Action::Ignore,
        "user.removed" => Action::Erase,
        "user.deactivated" | "user.locked" => Action::Disable,
        "user.reactivated" | "user.unlocked" => Action::Enable,
        "user.human.signed.out" => Action::EndSessions,
        "user.human.email.changed" | "user.human.phone.changed" | "user.username.changed" => {
            Action::IdentifierChanged
        }
        _ => Action::Ignore,
    };
    let session = (action == Action::EndSessions)
        .then(|| zitadel_session(event.event_payload.as_ref()))
        .flatten();
    if [&event.instance_id, &event.aggregate_id]
        .iter()
        .any(|id| user_id(Some(id)).is_none())
    {
        return Err(EventError::body(
            Format::Zitadel,
            "`instanceID` and `aggregateID` must be ids",
        ));
    }
    finish(
        format!(
            "zitadel:{}:{}:{}",
            event.instance_id, event.aggregate_id, event.sequence
        ),
        Format::Zitadel,
        action,
        on_user.then(|| event.aggregate_id.clone()),
        session,
        event.created_at.as_deref().and_then(rfc3339),
        event.event_type,
    )
}

// ---- Keycloak --------------------------------------------------------------

/// A `keycloak-events` webhook body (`representation/ExtendedAdminEvent.java`
/// and the user-event twin): only the fields read. `representation` is the
/// user as JSON text (e-mail, names...) and is read only for `enabled`.
#[derive(Deserialize)]
struct KeycloakBody {
    uid: String,
    #[serde(rename = "type")]
    kind: String,
    /// Epoch milliseconds.
    time: i64,
    #[serde(default, rename = "resourcePath")]
    resource_path: Option<String>,
    #[serde(default)]
    representation: Option<String>,
    #[serde(default, rename = "authDetails")]
    auth_details: Option<KeycloakAuthDetails>,
}

#[derive(Deserialize)]
struct KeycloakAuthDetails {
    #[serde(default, rename = "userId")]
    user_id: Option<String>,
    #[serde(default, rename = "sessionId")]
    session_id: Option<String>,
}

/// `users/<id>` (and, with `tail`, `users/<id>/<tail>`): the id.
fn keycloak_user_path<'a>(path: Option<&'a str>, tail: Option<&str>) -> Option<&'a str> {
    let rest = path?.strip_prefix("users/")?;
    match (rest.split_once('/'), tail) {
        (None, None) => Some(rest),
        (Some((id, found)), Some(tail)) if found == tail => Some(id),
        _ => None,
    }
}

/// A Keycloak event from the p2-inc `keycloak-events` webhook, as
/// `HttpSenderEventListenerProvider.java` (`send`, `hmacFor`) signs it:
/// header `X-Keycloak-Signature`, the lowercase hex HMAC-SHA256 of the
/// body. It has no timestamp header; the event's `time` must be within
/// [`KEYCLOAK_MAX_AGE_SECONDS`] (its retries keep the original time). The
/// key is `uid`, which its retries keep.
///
/// `admin.USER-DELETE` (the user in `resourcePath` `users/<id>`) and
/// `access.DELETE_ACCOUNT` (the user who acted) erase; `admin.USER-UPDATE`
/// disables or enables when its `representation` carries `enabled` (the
/// realm must include admin-event details), else is an identifier change;
/// `access.USER_DISABLED_BY_PERMANENT_LOCKOUT` disables; `access.LOGOUT`
/// ends that session, `admin.USER-ACTION` on `users/<id>/logout` all of
/// the user's.
pub fn keycloak(
    signing_key: &[u8],
    headers: &http::HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Received, EventError> {
    const HEADER: &str = "x-keycloak-signature";
    let signature = header(headers, HEADER)?;
    let tag = hex::decode(signature).map_err(|_| EventError::MalformedSignature(HEADER))?;
    if !hmac_matches(signing_key, body, [tag.as_slice()]) {
        return Err(EventError::BadSignature);
    }
    let event: KeycloakBody =
        serde_json::from_slice(body).map_err(|error| EventError::body(Format::Keycloak, error))?;
    let occurred = event.time.div_euclid(1000);
    if !fresh(occurred, now, KEYCLOAK_MAX_AGE_SECONDS) {
        return Err(EventError::Stale("`time`"));
    }
    if user_id(Some(&event.uid)).is_none() {
        return Err(EventError::body(Format::Keycloak, "`uid` must be an id"));
    }
    let actor = event
        .auth_details
        .as_ref()
        .and_then(|details| details.user_id.as_deref());
    let path = event.resource_path.as_deref();
    let (action, subject, session) = match event.kind.as_str() {
        "admin.USER-DELETE" => (Action::Erase, keycloak_user_path(path, None), None),
        "access.DELETE_ACCOUNT" => (Action::Erase, actor, None),
        "admin.USER-UPDATE" => {
            let enabled = event
                .representation
                .as_deref()
                .and_then(|text| serde_json::from_str::<Map<String, Value>>(text).ok())
                .and_then(|user| user.get("enabled").and_then(Value::as_bool));
            let action = match enabled {
                Some(false) => Action::Disable,
                Some(true) => Action::Enable,
                None => Action::IdentifierChanged,
            };
            (action, keycloak_user_path(path, None), None)
        }
        "access.USER_DISABLED_BY_PERMANENT_LOCKOUT" => (Action::Disable, actor, None),
        "access.LOGOUT" => (
            Action::EndSessions,
            actor,
            event
                .auth_details
                .as_ref()
                .and_then(|details| details.session_id.as_deref()),
        ),
        "admin.USER-ACTION" if keycloak_user_path(path, Some("logout")).is_some() => (
            Action::EndSessions,
            keycloak_user_path(path, Some("logout")),
            None,
        ),
        _ => (Action::Ignore, None, None),
    };
    finish(
        format!("keycloak:{}", event.uid),
        Format::Keycloak,
        action,
        user_id(subject),
        user_id(session),
        Some(occurred),
        event.kind,
    )
}

// ---- Standard Webhooks ------------------------------------------------------

/// A Standard Webhooks body carrying Tessera's event types.
#[derive(Deserialize)]
struct StandardBody {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Map<String, Value>,
}

/// A Standard Webhooks delivery (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`, per `spec/standard-webhooks.md`) whose body is
/// `{"type", "data": {"sub", "sid"?}}` with the types Tessera relays
/// (`user.deleted`, `user.disabled`, `user.enabled`, `session.revoked`,
/// `user.updated`); other types are ignored. The key is `webhook-id`.
pub fn standard_webhooks(
    secret: &WebhookSecret,
    headers: &http::HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Received, EventError> {
    let delivery = Delivery {
        id: header(headers, "webhook-id")?,
        timestamp: header(headers, "webhook-timestamp")?,
        signature: header(headers, "webhook-signature")?,
    };
    secret
        .verify(delivery, body, now)
        .map_err(|error| match error {
            standard_webhooks::WebhookError::MissingHeader(name) => EventError::MissingHeader(name),
            standard_webhooks::WebhookError::MalformedTimestamp => {
                EventError::MalformedSignature("webhook-timestamp")
            }
            standard_webhooks::WebhookError::TimestampOutOfTolerance => {
                EventError::Stale("`webhook-timestamp`")
            }
            _ => EventError::BadSignature,
        })?;
    let event: StandardBody = serde_json::from_slice(body)
        .map_err(|error| EventError::body(Format::StandardWebhooks, error))?;
    let text = |name: &str| user_id(event.data.get(name).and_then(Value::as_str));
    let action = Action::from_shop_event_type(&event.kind).unwrap_or(Action::Ignore);
    finish(
        format!("standard-webhooks:{}", delivery.id),
        Format::StandardWebhooks,
        action,
        text("sub"),
        text("sid"),
        unix_seconds(delivery.timestamp),
        event.kind,
    )
}

// ---- JWT formats --------------------------------------------------------------

/// The back-channel logout event's member of `events`.
pub const BACK_CHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The key of a verified JWT: its issuer and `jti`.
fn jwt_key(claims: &Map<String, Value>, format: Format) -> Result<String, EventError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    match (
        text("iss"),
        text("jti").filter(|jti| !jti.is_empty() && jti.len() <= 255),
    ) {
        (Some(issuer), Some(jti)) => Ok(format!("jwt:{issuer}:{jti}")),
        _ => Err(EventError::Malformed(format!(
            "a {} token needs `iss` and a `jti` of 1 to 255 characters",
            format.name()
        ))),
    }
}

/// The claims of a logout token that `tessera-verifier` has verified (its
/// signature, `typ: logout+jwt`, issuer, audience and times), checked
/// against the rest of OpenID Connect Back-Channel Logout 1.0 §2.6: `sub`
/// or `sid` or both, `events` an object with the back-channel-logout
/// member, no `nonce`, a `jti` (the key, with the issuer). It ends the
/// session `sid`, or all of `sub`'s.
pub fn logout_token(claims: &Map<String, Value>) -> Result<Received, EventError> {
    let invalid = |why: &str| EventError::Malformed(format!("not a logout token: {why}"));
    let events = claims
        .get("events")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("`events` must be a JSON object"))?;
    if !events.contains_key(BACK_CHANNEL_LOGOUT_EVENT) {
        return Err(invalid("`events` lacks the back-channel-logout member"));
    }
    if claims.contains_key("nonce") {
        return Err(invalid("a logout token must not carry `nonce`"));
    }
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let (subject, session) = (user_id(text("sub")), user_id(text("sid")));
    if subject.is_none() && session.is_none() {
        return Err(invalid("it needs `sub`, `sid` or both"));
    }
    finish(
        jwt_key(claims, Format::BackChannelLogout)?,
        Format::BackChannelLogout,
        Action::EndSessions,
        subject,
        session,
        claims.get("iat").and_then(Value::as_i64),
        "backchannel-logout".to_owned(),
    )
}

/// RISC and CAEP event types, and what each asks.
const SECURITY_EVENTS: [(&str, Action); 6] = [
    (
        "https://schemas.openid.net/secevent/risc/event-type/account-purged",
        Action::Erase,
    ),
    (
        "https://schemas.openid.net/secevent/risc/event-type/account-disabled",
        Action::Disable,
    ),
    (
        "https://schemas.openid.net/secevent/risc/event-type/account-enabled",
        Action::Enable,
    ),
    (
        "https://schemas.openid.net/secevent/caep/event-type/session-revoked",
        Action::EndSessions,
    ),
    (
        "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked",
        Action::EndSessions,
    ),
    (
        "https://schemas.openid.net/secevent/risc/event-type/identifier-changed",
        Action::IdentifierChanged,
    ),
];

/// A subject identifier (RFC 9493) as a user id: `iss_sub` of the token's
/// issuer, or `opaque`. E-mail and phone subjects are refused: Tessera
/// never maps personal data to a subject.
fn subject_id(id: &Map<String, Value>, issuer: Option<&str>) -> Result<Option<String>, EventError> {
    let text = |name: &str| id.get(name).and_then(Value::as_str);
    match text("format").or(text("subject_type")) {
        Some("iss_sub") => {
            if text("iss") != issuer {
                return Err(EventError::Malformed(
                    "the subject's `iss` is not the token's issuer".into(),
                ));
            }
            Ok(user_id(text("sub")))
        }
        Some("opaque") => Ok(user_id(text("id"))),
        Some("email" | "phone_number" | "phone") => Err(EventError::Malformed(
            "the subject is an e-mail address or phone number: configure the transmitter to name \
             users by `iss_sub` or `opaque` (Tessera never maps personal data to a subject)"
                .into(),
        )),
        _ => Err(EventError::Malformed(
            "the subject's format is not one Tessera reads (`iss_sub`, `opaque`, `complex`)".into(),
        )),
    }
}

/// The claims of a Security Event Token that `tessera-verifier` has
/// verified (signature, `typ: secevent+jwt`, issuer, audience), read as the
/// Shared Signals Framework profiles it: no `sub` and no `exp`, the subject
/// in `sub_id` (`iss_sub`, `opaque`, or `complex` with `user` and
/// `session`), one RISC or CAEP event (account purged, disabled or enabled,
/// sessions revoked, identifier changed; the stream's verification event
/// and others are ignored). The key is the issuer and `jti`.
pub fn security_event(claims: &Map<String, Value>) -> Result<Received, EventError> {
    let invalid = |why: &str| EventError::Malformed(format!("not a Shared Signals event: {why}"));
    if claims.contains_key("sub") || claims.contains_key("exp") {
        return Err(invalid("a SET carries neither `sub` nor `exp`"));
    }
    let events = claims
        .get("events")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("`events` must be a JSON object"))?;
    let issuer = claims.get("iss").and_then(Value::as_str);
    let (source_type, action, detail) = match SECURITY_EVENTS
        .iter()
        .find_map(|(uri, action)| events.get(*uri).map(|detail| (*uri, *action, detail)))
    {
        Some(found) => found,
        None => {
            let source_type = events.keys().next().cloned().unwrap_or_default();
            return finish(
                jwt_key(claims, Format::SharedSignals)?,
                Format::SharedSignals,
                Action::Ignore,
                None,
                None,
                claims.get("iat").and_then(Value::as_i64),
                source_type
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    };
    // SSF puts the subject at the top; older RISC and CAEP inside the event.
    let id = claims
        .get("sub_id")
        .or_else(|| detail.get("subject"))
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("it names no subject (`sub_id`)"))?;
    let (subject, session) = if id.get("format").and_then(Value::as_str) == Some("complex") {
        let part = |name: &str| -> Result<Option<String>, EventError> {
            id.get(name)
                .and_then(Value::as_object)
                .map_or(Ok(None), |part| subject_id(part, issuer))
        };
        (part("user")?, part("session")?)
    } else {
        (subject_id(id, issuer)?, None)
    };
    finish(
        jwt_key(claims, Format::SharedSignals)?,
        Format::SharedSignals,
        action,
        subject,
        session,
        detail
            .get("event_timestamp")
            .and_then(Value::as_i64)
            .or_else(|| claims.get("iat").and_then(Value::as_i64)),
        source_type
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned(),
    )
}
