//! IdP events in the admin API: a tenant's event sources (where its IdP
//! sends, in which format, with which secret or keys), its shop endpoints
//! (where Standard Webhooks go, with rotating secrets), and the outbox's
//! deliveries, which an admin can redeliver (`store/events.rs` keeps them,
//! `events/` receives and relays).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tessera_events::Format;
use tessera_events::standard_webhooks::WebhookSecret;
use utoipa::ToSchema;

use super::{Admin, Body, parse_json};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::store::{
    EventDelivery, EventEndpoint, EventSource, NewEventSource, SubjectMapping, now,
};
use crate::urls::{IssuerUrl, parse_web_url};

/// The longest secret an IdP's webhook is configured with, in bytes.
const MAX_SECRET_BYTES: usize = 512;

/// How long deliveries are also signed with the previous secret after a
/// rotation, unless the request says otherwise.
pub const DEFAULT_OVERLAP_HOURS: u32 = 24;

/// An event source to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceRequest {
    /// A name for admins (1 to 100 characters).
    pub label: String,
    /// `logto`, `zitadel`, `keycloak`, `back-channel-logout`,
    /// `shared-signals` or `standard-webhooks`.
    pub format: String,
    /// The signing key the IdP's webhook is configured with (Logto,
    /// ZITADEL, Keycloak: as the IdP shows it; Standard Webhooks: `whsec_`
    /// and base64).
    #[serde(default)]
    pub secret: Option<String>,
    /// The issuer whose keys sign the tokens (JWT formats; default: the
    /// tenant's issuer).
    #[serde(default)]
    pub issuer: Option<String>,
    /// The audience the tokens name (default: the tenant's `client_id` for
    /// logout tokens; this source's receiving URL for security events).
    #[serde(default)]
    pub audience: Option<String>,
    /// `public` (default) or `pairwise`.
    #[serde(default)]
    pub subjects: Option<SubjectMapping>,
    /// With `pairwise` subjects from another IdP than the development
    /// issuer: the pairwise secret (base64url, at least 32 bytes) and the
    /// sector.
    #[serde(default)]
    pub pairwise_secret: Option<String>,
    /// The sector.
    #[serde(default)]
    pub sector: Option<String>,
}

/// A created source: where the IdP sends.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    /// The source.
    #[serde(flatten)]
    pub source: EventSource,
    /// The URL to give the IdP.
    pub url: String,
}

/// A shop endpoint to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointRequest {
    /// Where to POST (https, or http on loopback).
    pub url: String,
}

/// A created endpoint, or a rotated secret: shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointSecret {
    /// The endpoint.
    pub endpoint: EventEndpoint,
    /// The `whsec_` secret the shop verifies deliveries with.
    pub secret: String,
}

/// A rotation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// Hours the previous secret keeps signing too (0 to 168, default 24).
    #[serde(default)]
    pub overlap_hours: Option<u32>,
}

/// Which deliveries to list.
#[derive(Debug, Deserialize)]
pub struct DeliveriesQuery {
    /// `pending`, `delivered` or `dead`.
    #[serde(default)]
    pub state: Option<String>,
}

/// The receiving URL of source `id`.
pub fn source_url(state: &AppState, id: &str) -> String {
    format!("{}/events/{id}", state.public_url())
}

pub(crate) fn new_id(prefix: &str) -> Result<String, ApiError> {
    Ok(format!(
        "{prefix}_{}",
        crate::http::hex(&super::random_bytes::<6>()?)
    ))
}

/// Checks a source request against the tenant and makes it a new source.
pub(crate) fn new_source(
    state: &AppState,
    tenant: &crate::store::TenantRecord,
    id: &str,
    request: SourceRequest,
) -> Result<NewEventSource, ApiError> {
    let label = request.label.trim().to_owned();
    if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
        return Err(ApiError::invalid("label", "1 to 100 printable characters"));
    }
    let format = Format::from_name(&request.format).ok_or_else(|| {
        ApiError::invalid(
            "format",
            format!("one of {}", Format::ALL.map(Format::name).join(", ")),
        )
    })?;
    let config = &tenant.config.value;
    let (secret, issuer, audience) = if format.uses_issuer_keys() {
        if request.secret.is_some() {
            return Err(ApiError::invalid(
                "secret",
                "this format is signed with the issuer's keys: give `issuer` (and `audience`), not a secret",
            ));
        }
        let issuer = request.issuer.unwrap_or_else(|| config.issuer.clone());
        IssuerUrl::parse(&issuer)
            .map_err(|error| ApiError::invalid("issuer", format!("not an issuer URL: {error}")))?;
        let audience = request.audience.unwrap_or_else(|| match format {
            Format::BackChannelLogout => config.client_id.clone(),
            _ => source_url(state, id),
        });
        if audience.is_empty() || audience.len() > 512 {
            return Err(ApiError::invalid("audience", "1 to 512 characters"));
        }
        (None, Some(issuer), Some(audience))
    } else {
        let secret = request
            .secret
            .filter(|secret| !secret.trim().is_empty())
            .ok_or_else(|| {
                ApiError::invalid(
                    "secret",
                    "the signing key the IdP's webhook is configured with",
                )
            })?;
        if secret.len() > MAX_SECRET_BYTES || secret.chars().any(char::is_control) {
            return Err(ApiError::invalid(
                "secret",
                "at most 512 printable characters",
            ));
        }
        if format == Format::StandardWebhooks {
            WebhookSecret::parse(&secret).map_err(|why| ApiError::invalid("secret", why))?;
        }
        if request.issuer.is_some() || request.audience.is_some() {
            return Err(ApiError::invalid(
                "issuer",
                "this format is signed with a secret: `issuer` and `audience` do not apply",
            ));
        }
        (Some(secret), None, None)
    };
    let subjects = request.subjects.unwrap_or(SubjectMapping::Public);
    let built_in = state
        .dev_issuer()
        .is_some_and(|dev| dev.issuer() == config.issuer);
    let (pairwise_secret, sector) = match subjects {
        SubjectMapping::Public => (None, None),
        // Logout tokens and security events name the user as the client
        // sees it already.
        SubjectMapping::Pairwise if format.uses_issuer_keys() => {
            return Err(ApiError::invalid(
                "subjects",
                "tokens of this format carry the client's own `sub`: use `public`",
            ));
        }
        SubjectMapping::Pairwise if built_in && request.pairwise_secret.is_none() => (None, None),
        SubjectMapping::Pairwise => {
            use base64::Engine as _;
            let secret = request.pairwise_secret.ok_or_else(|| {
                ApiError::invalid(
                    "pairwise_secret",
                    "pairwise subjects need the IdP's pairwise secret",
                )
            })?;
            let long_enough = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&secret)
                .is_ok_and(|bytes| bytes.len() >= 32);
            if !long_enough {
                return Err(ApiError::invalid(
                    "pairwise_secret",
                    "base64url without padding, at least 32 bytes",
                ));
            }
            let sector = request
                .sector
                .filter(|sector| !sector.is_empty() && sector.len() <= 255)
                .ok_or_else(|| {
                    ApiError::invalid("sector", "the pairwise sector, 1 to 255 characters")
                })?;
            (Some(secret), Some(sector))
        }
    };
    Ok(NewEventSource {
        label,
        format,
        secret,
        issuer,
        audience,
        subjects,
        pairwise_secret,
        sector,
    })
}

#[utoipa::path(get, path = "/api/tenants/{tenant}/event-sources",
    responses((status = 200, body = Vec<SourceView>), (status = 404)))]
pub(super) async fn sources(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
) -> Result<Json<Vec<SourceView>>, ApiError> {
    admin.manages(&slug)?;
    Ok(Json(
        state
            .store()
            .event_sources(&slug)
            .await?
            .into_iter()
            .map(|source| SourceView {
                url: source_url(&state, &source.id),
                source,
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/tenants/{tenant}/event-sources", request_body = SourceRequest,
    responses((status = 201, body = SourceView), (status = 400), (status = 404)))]
pub(super) async fn create_source(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    body: Body,
) -> Result<(StatusCode, Json<SourceView>), ApiError> {
    admin.manages(&slug)?;
    let request: SourceRequest = parse_json(&body, "event source")?;
    let tenant = state.tenant(&slug).await?;
    let id = new_id("src")?;
    let new = new_source(&state, &tenant, &id, request)?;
    let source = state
        .store()
        .create_event_source(admin.actor(), &slug, &id, new)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SourceView {
            url: source_url(&state, &source.id),
            source,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/tenants/{tenant}/event-sources/{id}",
    responses((status = 204), (status = 404)))]
pub(super) async fn delete_source(
    State(state): State<AppState>,
    admin: Admin,
    Path((slug, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    admin.manages(&slug)?;
    state
        .store()
        .delete_event_source(admin.actor(), &slug, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/tenants/{tenant}/event-endpoints",
    responses((status = 200, body = Vec<EventEndpoint>), (status = 404)))]
pub(super) async fn endpoints(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
) -> Result<Json<Vec<EventEndpoint>>, ApiError> {
    admin.manages(&slug)?;
    Ok(Json(state.store().event_endpoints(&slug).await?))
}

/// Checks a shop endpoint's URL: https, or http on loopback.
pub fn endpoint_url(text: &str) -> Result<String, ApiError> {
    parse_web_url(text)
        .map(String::from)
        .map_err(|error| ApiError::invalid("url", format!("not a usable endpoint: {error}")))
}

pub(crate) fn fresh_secret() -> Result<String, ApiError> {
    WebhookSecret::generate()
        .map(|(_, text)| text)
        .map_err(|why| ApiError::Internal(anyhow::anyhow!(why)))
}

#[utoipa::path(post, path = "/api/tenants/{tenant}/event-endpoints", request_body = EndpointRequest,
    responses((status = 201, body = EndpointSecret), (status = 400), (status = 404)))]
pub(super) async fn create_endpoint(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    body: Body,
) -> Result<(StatusCode, Json<EndpointSecret>), ApiError> {
    admin.manages(&slug)?;
    let request: EndpointRequest = parse_json(&body, "event endpoint")?;
    let url = endpoint_url(&request.url)?;
    let secret = fresh_secret()?;
    let endpoint = state
        .store()
        .create_event_endpoint(admin.actor(), &slug, &new_id("ep")?, &url, &secret)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(EndpointSecret { endpoint, secret }),
    ))
}

#[utoipa::path(post, path = "/api/tenants/{tenant}/event-endpoints/{id}/rotate", request_body = RotateRequest,
    responses((status = 200, body = EndpointSecret), (status = 400), (status = 404)))]
pub(super) async fn rotate_endpoint(
    State(state): State<AppState>,
    admin: Admin,
    Path((slug, id)): Path<(String, String)>,
    body: Body,
) -> Result<Json<EndpointSecret>, ApiError> {
    admin.manages(&slug)?;
    let request: RotateRequest = if body.0.is_empty() {
        RotateRequest::default()
    } else {
        parse_json(&body, "rotation")?
    };
    let hours = request.overlap_hours.unwrap_or(DEFAULT_OVERLAP_HOURS);
    if hours > 168 {
        return Err(ApiError::invalid("overlap_hours", "0 to 168"));
    }
    let secret = fresh_secret()?;
    let until = now().saturating_add(i64::from(hours) * 3600);
    state
        .store()
        .rotate_event_endpoint_secret(admin.actor(), &slug, &id, &secret, until)
        .await?;
    let endpoint = state
        .store()
        .event_endpoints(&slug)
        .await?
        .into_iter()
        .find(|endpoint| endpoint.id == id)
        .ok_or_else(|| ApiError::NotFound(format!("no event endpoint `{id}`")))?;
    Ok(Json(EndpointSecret { endpoint, secret }))
}

#[utoipa::path(delete, path = "/api/tenants/{tenant}/event-endpoints/{id}",
    responses((status = 204), (status = 404)))]
pub(super) async fn delete_endpoint(
    State(state): State<AppState>,
    admin: Admin,
    Path((slug, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    admin.manages(&slug)?;
    state
        .store()
        .delete_event_endpoint(admin.actor(), &slug, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/tenants/{tenant}/event-deliveries",
    params(("state" = Option<String>, Query, description = "pending, delivered or dead")),
    responses((status = 200, body = Vec<EventDelivery>), (status = 400), (status = 404)))]
pub(super) async fn deliveries(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
    Query(query): Query<DeliveriesQuery>,
) -> Result<Json<Vec<EventDelivery>>, ApiError> {
    admin.manages(&slug)?;
    if let Some(wanted) = &query.state
        && !["pending", "delivered", "dead"].contains(&wanted.as_str())
    {
        return Err(ApiError::invalid("state", "pending, delivered or dead"));
    }
    Ok(Json(
        state
            .store()
            .event_deliveries(&slug, query.state.as_deref(), 500)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/tenants/{tenant}/event-deliveries/{id}/redeliver",
    responses((status = 202), (status = 404)))]
pub(super) async fn redeliver(
    State(state): State<AppState>,
    admin: Admin,
    Path((slug, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    admin.manages(&slug)?;
    state.store().redeliver(admin.actor(), &slug, &id).await?;
    state.relay().wake();
    Ok(StatusCode::ACCEPTED)
}

/// The most user ids one reconciliation may name.
pub const MAX_RECONCILED: usize = 1000;

/// Users the IdP no longer has, found by asking its admin API.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReconcileRequest {
    /// The IdP's user ids (as its events name them) that it no longer has:
    /// each is erased at the shops, like a deletion event.
    pub missing: Vec<String>,
}

/// What a reconciliation queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reconciled {
    /// Users newly erased (their deletion relayed to the shops).
    pub erased: usize,
    /// Users a reconciliation already erased before.
    pub already: usize,
}

#[utoipa::path(post, path = "/api/tenants/{tenant}/event-sources/{id}/reconcile", request_body = ReconcileRequest,
    responses((status = 200, body = Reconciled), (status = 400), (status = 404)))]
pub(super) async fn reconcile(
    State(state): State<AppState>,
    admin: Admin,
    Path((slug, id)): Path<(String, String)>,
    body: Body,
) -> Result<Json<Reconciled>, ApiError> {
    admin.manages(&slug)?;
    let request: ReconcileRequest = parse_json(&body, "reconciliation")?;
    if request.missing.len() > MAX_RECONCILED {
        return Err(ApiError::invalid(
            "missing",
            format!("at most {MAX_RECONCILED} user ids at a time"),
        ));
    }
    let source = state
        .store()
        .receiving_source(&id)
        .await?
        .filter(|source| source.tenant.1 == slug)
        .ok_or_else(|| ApiError::NotFound(format!("tenant `{slug}` has no event source `{id}`")))?;
    let (mut erased, mut already) = (0, 0);
    for (index, user) in request.missing.iter().enumerate() {
        let event = crate::events::reconciled_erasure(user).ok_or_else(|| {
            ApiError::invalid(
                format!("missing[{index}]"),
                "a user id: 1 to 255 printable ASCII characters",
            )
        })?;
        match crate::events::record(&state, &source, &event).await? {
            crate::store::Receipt::Accepted { .. } => erased += 1,
            crate::store::Receipt::Duplicate => already += 1,
        }
    }
    Ok(Json(Reconciled { erased, already }))
}
