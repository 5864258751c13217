//! A tenant's identity-provider events in the console: its event sources
//! (each with the URL to give the IdP, and what it received, recognised
//! again and refused), its shop endpoints (delivered, waiting, given up;
//! rotating a secret), and the latest deliveries, to redeliver.
//!
//! What it is not: the rules. Validation is `admin::events`', storage
//! `store::events`'; a secret is shown once, on the page that created it.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tessera_events::Format;

use super::session::{Access, ConsoleAdmin, SignedOut};
use super::{Frame, Signed, failure, page_with};
use crate::AppState;
use crate::admin::events::{
    SourceRequest, endpoint_url, fresh_secret, new_id, new_source, source_url,
};
use crate::error::ApiError;
use crate::extract::{Form, Path};
use crate::store::{EventDelivery, EventEndpoint, EventSource, now};

/// How many deliveries the page lists, newest first.
const DELIVERY_ROWS: i64 = 50;

#[derive(Template)]
#[template(path = "console/events.html")]
struct EventsPage {
    frame: Frame,
    slug: String,
    csrf: String,
    can_edit: bool,
    sources: Vec<(EventSource, String)>,
    endpoints: Vec<EventEndpoint>,
    deliveries: Vec<EventDelivery>,
    formats: Vec<&'static str>,
    /// A secret just created (an endpoint's), shown once.
    secret: Option<(String, String)>,
}

async fn render(
    state: &AppState,
    admin: &ConsoleAdmin,
    frame: Frame,
    slug: &str,
    secret: Option<(String, String)>,
) -> Response {
    let store = state.store();
    let loaded = async {
        Ok::<_, ApiError>((
            store.event_sources(slug).await?,
            store.event_endpoints(slug).await?,
            store.event_deliveries(slug, None, DELIVERY_ROWS).await?,
        ))
    }
    .await;
    let (sources, endpoints, deliveries) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure(frame, error),
    };
    let page = EventsPage {
        csrf: admin.session.csrf.clone(),
        can_edit: admin.access(slug) == Access::Edit,
        frame,
        slug: slug.to_owned(),
        sources: sources
            .into_iter()
            .map(|source| {
                let url = source_url(state, &source.id);
                (source, url)
            })
            .collect(),
        endpoints,
        deliveries,
        formats: Format::ALL.map(Format::name).to_vec(),
        secret,
    };
    page_with(StatusCode::OK, None, &page)
}

/// `GET /console/tenants/{slug}/events`.
pub(super) async fn page(
    State(state): State<AppState>,
    Signed { admin, frame }: Signed,
    Path(slug): Path<String>,
) -> Response {
    if let Err(error) = admin.require(&slug, Access::View) {
        return failure(frame, error);
    }
    if let Err(error) = state.tenant(&slug).await {
        return failure(frame, error);
    }
    render(&state, &admin, frame, &slug, None).await
}

#[derive(Debug, Deserialize)]
pub(super) struct SourceForm {
    csrf: String,
    label: String,
    format: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    audience: String,
}

/// Runs a change that needs edit access, then shows the page again.
async fn changed(
    state: &AppState,
    headers: &HeaderMap,
    admin: &ConsoleAdmin,
    slug: &str,
    change: impl Future<Output = Result<Option<(String, String)>, ApiError>>,
) -> Response {
    let frame = Frame::new(state, headers, None, Some(admin), "tenants");
    if let Err(error) = admin.require(slug, Access::Edit) {
        return failure(frame, error);
    }
    match change.await {
        Ok(None) => Redirect::to(&format!("/console/tenants/{slug}/events")).into_response(),
        Ok(Some(secret)) => render(state, admin, frame, slug, Some(secret)).await,
        Err(error) => failure(frame, error),
    }
}

/// `POST /console/tenants/{slug}/events/sources`: a new event source.
pub(super) async fn create_source(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(form): Form<SourceForm>,
) -> Result<Response, SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let optional = |text: String| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
    let change = async {
        let tenant = state.tenant(&slug).await?;
        let id = new_id("src")?;
        let request = SourceRequest {
            label: form.label,
            format: form.format,
            secret: optional(form.secret),
            issuer: optional(form.issuer),
            audience: optional(form.audience),
            subjects: None,
            pairwise_secret: None,
            sector: None,
        };
        let source = new_source(&state, &tenant, &id, request)?;
        state
            .store()
            .create_event_source(&admin.actor(), &slug, &id, source)
            .await?;
        Ok(None)
    };
    Ok(changed(&state, &headers, &admin, &slug, change).await)
}

#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

/// `POST /console/tenants/{slug}/events/sources/{id}/delete`.
pub(super) async fn delete_source(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path((slug, id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let change = async {
        state
            .store()
            .delete_event_source(&admin.actor(), &slug, &id)
            .await?;
        Ok(None)
    };
    Ok(changed(&state, &headers, &admin, &slug, change).await)
}

#[derive(Debug, Deserialize)]
pub(super) struct EndpointForm {
    csrf: String,
    url: String,
}

/// `POST /console/tenants/{slug}/events/endpoints`: a new shop endpoint;
/// the page shows its secret once.
pub(super) async fn create_endpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path(slug): Path<String>,
    Form(form): Form<EndpointForm>,
) -> Result<Response, SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let change = async {
        let url = endpoint_url(form.url.trim())?;
        let secret = fresh_secret()?;
        let endpoint = state
            .store()
            .create_event_endpoint(&admin.actor(), &slug, &new_id("ep")?, &url, &secret)
            .await?;
        Ok(Some((endpoint.id, secret)))
    };
    Ok(changed(&state, &headers, &admin, &slug, change).await)
}

/// `POST /console/tenants/{slug}/events/endpoints/{id}/rotate`: a new
/// secret, the old one signing beside it for 24 hours; shown once.
pub(super) async fn rotate_endpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path((slug, id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let change = async {
        let secret = fresh_secret()?;
        let until =
            now().saturating_add(i64::from(crate::admin::events::DEFAULT_OVERLAP_HOURS) * 3600);
        state
            .store()
            .rotate_event_endpoint_secret(&admin.actor(), &slug, &id, &secret, until)
            .await?;
        Ok(Some((id.clone(), secret)))
    };
    Ok(changed(&state, &headers, &admin, &slug, change).await)
}

/// `POST /console/tenants/{slug}/events/endpoints/{id}/delete`.
pub(super) async fn delete_endpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path((slug, id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let change = async {
        state
            .store()
            .delete_event_endpoint(&admin.actor(), &slug, &id)
            .await?;
        Ok(None)
    };
    Ok(changed(&state, &headers, &admin, &slug, change).await)
}

/// `POST /console/tenants/{slug}/events/deliveries/{id}/redeliver`.
pub(super) async fn redeliver(
    State(state): State<AppState>,
    headers: HeaderMap,
    admin: ConsoleAdmin,
    Path((slug, id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, SignedOut> {
    admin.check_csrf(&form.csrf)?;
    let change = async {
        state.store().redeliver(&admin.actor(), &slug, &id).await?;
        state.relay().wake();
        Ok(None)
    };
    Ok(changed(&state, &headers, &admin, &slug, change).await)
}
