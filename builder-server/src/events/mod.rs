//! Identity-provider events in, Standard Webhooks out.
//!
//! `POST /events/{source}` receives what a tenant's IdP sends, in the
//! format configured for that source (`tessera-events` verifies and reads
//! it; logout tokens and security events are verified with
//! `tessera-verifier` against the issuer's keys first). A verified event
//! becomes the shop's event type for the shop's `sub` (mapped when the
//! source's subjects are pairwise), is recorded with its replay key and
//! queued for each of the tenant's shop endpoints in one transaction, and
//! only then answered: 2xx, also for a redelivery (recognised by its key,
//! acted on once). A forged, stale or malformed request is answered 4xx
//! and changes nothing but the source's refusal count.
//!
//! [`relay`] sends the queue, retrying with backoff.
//!
//! What it is not: storage (`store/events.rs`) or the formats
//! (`tessera-events`). Nothing from a request's body but ids, flags and
//! times is kept or logged.

pub mod relay;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use tessera_events::standard_webhooks::WebhookSecret;
use tessera_events::{Action, Event, EventError, Format, formats};
use tessera_verifier::Verifier;
use tessera_verifier::remote::{KeyLocation, RemoteVerifier};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Path;
use crate::store::{Receipt, ReceivingSource, SubjectMapping, now};

/// How old a Shared Signals event may be (it carries no `exp`).
pub const MAX_SECURITY_EVENT_AGE_SECONDS: u64 = 24 * 60 * 60;

/// The receiving route.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/events/{source}", post(receive))
}

/// The verifiers of the JWT sources, by source id and its issuer and
/// audience (a changed source gets a new one), each caching its keys.
#[derive(Default)]
pub(crate) struct EventVerifiers {
    by_source: RwLock<HashMap<String, (String, Arc<RemoteVerifier>)>>,
}

impl EventVerifiers {
    fn get(&self, source: &ReceivingSource) -> Result<Arc<RemoteVerifier>, String> {
        let (issuer, audience) = match (&source.source.issuer, &source.source.audience) {
            (Some(issuer), Some(audience)) => (issuer.as_str(), audience.as_str()),
            _ => return Err("the source has no issuer or audience".into()),
        };
        let fingerprint = format!("{issuer}\n{audience}");
        if let Some((seen, verifier)) = self
            .by_source
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&source.source.id)
            && *seen == fingerprint
        {
            return Ok(verifier.clone());
        }
        let rules = Verifier::builder()
            .issuer(issuer)
            .audience(audience)
            .clock_tolerance_seconds(30);
        let rules = match source.format {
            Format::SharedSignals => rules
                .expected_type("secevent+jwt")
                .without_expiry()
                .max_token_age_seconds(MAX_SECURITY_EVENT_AGE_SECONDS)
                .required_claim("jti"),
            _ => rules
                .expected_type("logout+jwt")
                .required_claim("jti")
                .required_claim("iat"),
        };
        let verifier = Arc::new(
            RemoteVerifier::builder(
                rules,
                KeyLocation::Discovery {
                    issuer: issuer.to_owned(),
                },
            )
            .build()
            .map_err(|error| error.to_string())?,
        );
        self.by_source
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(source.source.id.clone(), (fingerprint, verifier.clone()));
        Ok(verifier)
    }
}

/// A refusal, answered in the way the source's format expects.
struct Refusal {
    format: Format,
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn of(format: Format, error: &EventError) -> Refusal {
        let status = match error {
            EventError::BadSignature | EventError::MissingHeader(_) => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        };
        Refusal {
            format,
            status,
            code: error.code(),
            message: error.to_string(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = match self.format {
            // RFC 8935 §2.3: 400 with `err` and `description`.
            Format::SharedSignals => {
                let err = match self.code {
                    "event_signature_invalid" => "authentication_failed",
                    _ => "invalid_request",
                };
                let mut response = (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"err": err, "description": self.message})),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static("en"));
                response
            }
            // Back-Channel Logout §2.8: 400 for an invalid request.
            Format::BackChannelLogout => (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": "invalid_request", "error_description": self.message})),
            )
                .into_response(),
            _ => (
                self.status,
                axum::Json(json!({"error": {"code": self.code, "message": self.message}})),
            )
                .into_response(),
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// Verifies and reads a request of `source`.
async fn verified(
    state: &AppState,
    source: &ReceivingSource,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<formats::Received, EventError> {
    let at = now();
    let secret = || {
        source
            .secret
            .as_deref()
            .map(str::as_bytes)
            .ok_or_else(|| EventError::Malformed("the source has no secret".into()))
    };
    match source.format {
        Format::Logto => formats::logto(secret()?, headers, body, at),
        Format::Zitadel => formats::zitadel(secret()?, headers, body, at),
        Format::Keycloak => formats::keycloak(secret()?, headers, body, at),
        Format::StandardWebhooks => {
            let secret = WebhookSecret::parse(source.secret.as_deref().unwrap_or_default())
                .map_err(EventError::Malformed)?;
            formats::standard_webhooks(&secret, headers, body, at)
        }
        Format::BackChannelLogout => {
            let token = url::form_urlencoded::parse(body)
                .find(|(name, _)| name == "logout_token")
                .map(|(_, token)| token.into_owned())
                .ok_or_else(|| {
                    EventError::Malformed("the form has no `logout_token` field".into())
                })?;
            let claims = verify_jwt(state, source, &token).await?;
            formats::logout_token(&claims)
        }
        Format::SharedSignals => {
            let typed = headers
                .get(header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| value.trim() == "application/secevent+jwt");
            if !typed {
                return Err(EventError::Malformed(
                    "a security event is sent as Content-Type: application/secevent+jwt".into(),
                ));
            }
            let token = std::str::from_utf8(body)
                .map_err(|_| EventError::Malformed("the body is not a compact JWT".into()))?;
            let claims = verify_jwt(state, source, token.trim()).await?;
            formats::security_event(&claims)
        }
    }
}

async fn verify_jwt(
    state: &AppState,
    source: &ReceivingSource,
    token: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, EventError> {
    let verifier = state
        .event_verifiers()
        .get(source)
        .map_err(EventError::Malformed)?;
    let passport = verifier.verify(token).await.map_err(|error| match error {
        tessera_verifier::VerifyError::SignatureInvalid => EventError::BadSignature,
        other => EventError::Malformed(format!("the token was refused: {other}")),
    })?;
    Ok(passport.claims().clone())
}

/// The shop's `sub` for the IdP's user id `id` at `source`: JWT formats
/// name the user as the client sees it already; webhook formats by the
/// IdP's own id, mapped when the source's subjects are pairwise.
fn shop_subject(state: &AppState, source: &ReceivingSource, id: &str) -> Option<String> {
    if source.format.uses_issuer_keys() || source.source.subjects == SubjectMapping::Public {
        return Some(id.to_owned());
    }
    match (&source.pairwise_secret, &source.source.sector) {
        (Some(secret), Some(sector)) => {
            use base64::Engine as _;
            let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(secret)
                .ok()?;
            Some(crate::issuer::pairwise_subject(&secret, sector, id))
        }
        // A tenant of the development issuer: its own mapping.
        _ => state
            .dev_issuer()
            .map(|issuer| issuer.pairwise_subject(&source.tenant.1, id)),
    }
}

/// The shop event for `event`: its type, the subject it is ordered by,
/// and its body.
fn shop_event(
    state: &AppState,
    source: &ReceivingSource,
    event: &Event,
) -> Option<(&'static str, String, String)> {
    let kind = event.action.shop_event_type()?;
    let subject = match &event.subject {
        Some(id) => Some(shop_subject(state, source, id)?),
        None => None,
    };
    let mut data = serde_json::Map::new();
    if let Some(subject) = &subject {
        data.insert("sub".into(), json!(subject));
    }
    if let Some(session) = &event.session {
        data.insert("sid".into(), json!(session));
    }
    if let Some(at) = event.occurred_at {
        data.insert("occurred_at".into(), json!(at));
    }
    data.insert("source".into(), json!(source.format.name()));
    data.insert("source_type".into(), json!(event.source_type));
    let body = json!({
        "type": kind,
        "timestamp": crate::http::rfc3339(now()),
        "data": data,
    });
    // Ordered per subject; a session-only sign-out per session.
    let order =
        subject.unwrap_or_else(|| format!("sid:{}", event.session.as_deref().unwrap_or_default()));
    Some((kind, order, body.to_string()))
}

/// Records a verified event of `source` and queues its deliveries (the
/// one path every event takes, reconciliations included), waking the
/// relay when something was queued.
pub(crate) async fn record(
    state: &AppState,
    source: &ReceivingSource,
    received: &formats::Received,
) -> Result<Receipt, ApiError> {
    let delivery = shop_event(state, source, &received.event);
    if received.event.action != Action::Ignore && delivery.is_none() {
        return Err(ApiError::invalid(
            "subject",
            "the user cannot be mapped to the shop's pairwise subject: set the source's pairwise secret and sector",
        ));
    }
    let receipt = state
        .store()
        .receive_event(
            source,
            &received.key,
            &received.event,
            delivery
                .as_ref()
                .map(|(kind, subject, body)| (*kind, subject.as_str(), body.clone())),
        )
        .await?;
    if matches!(receipt, Receipt::Accepted { deliveries } if deliveries > 0) {
        state.relay().wake();
    }
    Ok(receipt)
}

/// The erasure of `user`, found missing by asking the IdP's admin API;
/// `None` when it is not a user id. Its key makes a second
/// reconciliation of the same user a duplicate.
pub(crate) fn reconciled_erasure(user: &str) -> Option<formats::Received> {
    let valid = !user.is_empty() && user.len() <= 255 && user.bytes().all(|b| b.is_ascii_graphic());
    valid.then(|| formats::Received {
        key: format!("reconcile:{user}"),
        event: Event {
            action: Action::Erase,
            subject: Some(user.to_owned()),
            session: None,
            occurred_at: Some(now()),
            source_type: "reconciliation".to_owned(),
        },
    })
}

async fn receive(
    State(state): State<AppState>,
    Path(source_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let source = match state.store().receiving_source(&source_id).await {
        Ok(Some(source)) => source,
        Ok(None) => {
            return ApiError::NotFound(format!("no event source `{source_id}`")).into_response();
        }
        Err(error) => return ApiError::from(error).into_response(),
    };
    let received = match verified(&state, &source, &headers, &body).await {
        Ok(received) => received,
        Err(error) => {
            state.metrics().record_event("refused");
            tracing::info!(source = %source.source.id, code = error.code(), "IdP event refused");
            // Counting is best effort: the refusal stands either way.
            let _ = state
                .store()
                .note_event_refusal(&source.source.id, error.code())
                .await;
            return Refusal::of(source.format, &error).into_response();
        }
    };
    let receipt = match record(&state, &source, &received).await {
        Ok(receipt) => receipt,
        Err(error @ ApiError::Invalid { .. }) => {
            let error = EventError::Malformed(error.to_string());
            let _ = state
                .store()
                .note_event_refusal(&source.source.id, error.code())
                .await;
            return Refusal::of(source.format, &error).into_response();
        }
        // Not recorded: the IdP should send it again (5xx, or 503 busy).
        Err(error) => return error.into_response(),
    };
    let status = match receipt {
        Receipt::Accepted { deliveries } => {
            state.metrics().record_event("accepted");
            tracing::info!(
                source = %source.source.id,
                action = ?received.event.action,
                deliveries,
                "IdP event accepted"
            );
            "accepted"
        }
        Receipt::Duplicate => {
            state.metrics().record_event("duplicate");
            "duplicate"
        }
    };
    let mut response = match source.format {
        // RFC 8935 §2.2: 202 with an empty body, also for a duplicate.
        Format::SharedSignals => StatusCode::ACCEPTED.into_response(),
        _ => (StatusCode::OK, axum::Json(json!({ "status": status }))).into_response(),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
