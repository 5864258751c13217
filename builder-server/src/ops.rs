//! Operations: health, readiness, Prometheus metrics, and the layers every
//! request passes (body limit, timeout, security headers, tracing, counting).
//!
//! Logs name the method, the path and the status, never a query string, a
//! header or a body: tokens, codes and verifiers travel there.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::config::Limits;
use crate::error::ApiError;

/// Request counters by status class, and latency totals.
#[derive(Debug, Default)]
pub struct Metrics {
    by_class: [AtomicU64; 5],
    latency_microseconds: AtomicU64,
    rate_limited: AtomicU64,
    /// IdP events: accepted, duplicate, refused.
    events: [AtomicU64; 3],
    /// Deliveries to shops: delivered, retrying, dead.
    deliveries: [AtomicU64; 3],
}

/// The labels of [`Metrics`]' event and delivery counters.
const EVENT_OUTCOMES: [&str; 3] = ["accepted", "duplicate", "refused"];
const DELIVERY_OUTCOMES: [&str; 3] = ["delivered", "retrying", "dead"];

impl Metrics {
    fn record(&self, status: StatusCode, elapsed: Duration) {
        let class = (status.as_u16() / 100).clamp(1, 5) as usize - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        self.latency_microseconds
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// Counts a received IdP event by `outcome` (`accepted`, `duplicate`,
    /// `refused`).
    pub fn record_event(&self, outcome: &str) {
        if let Some(index) = EVENT_OUTCOMES.iter().position(|known| *known == outcome) {
            self.events[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a delivery attempt by `outcome` (`delivered`, `retrying`,
    /// `dead`).
    pub fn record_delivery(&self, outcome: &str) {
        if let Some(index) = DELIVERY_OUTCOMES.iter().position(|known| *known == outcome) {
            self.deliveries[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a request refused by a rate limit.
    pub fn record_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self) -> String {
        let mut text = String::from(
            "# HELP tessera_http_requests_total HTTP requests answered, by status class.\n\
             # TYPE tessera_http_requests_total counter\n",
        );
        for (index, counter) in self.by_class.iter().enumerate() {
            text.push_str(&format!(
                "tessera_http_requests_total{{class=\"{}xx\"}} {}\n",
                index + 1,
                counter.load(Ordering::Relaxed)
            ));
        }
        text.push_str(&format!(
            "# HELP tessera_http_request_duration_seconds_sum Time spent answering requests.\n\
             # TYPE tessera_http_request_duration_seconds_sum counter\n\
             tessera_http_request_duration_seconds_sum {:.6}\n\
             # HELP tessera_rate_limited_total Requests refused by a rate limit.\n\
             # TYPE tessera_rate_limited_total counter\n\
             tessera_rate_limited_total {}\n",
            self.latency_microseconds.load(Ordering::Relaxed) as f64 / 1e6,
            self.rate_limited.load(Ordering::Relaxed),
        ));
        text.push_str(
            "# HELP tessera_idp_events_total IdP events received, by outcome.\n\
             # TYPE tessera_idp_events_total counter\n",
        );
        for (outcome, counter) in EVENT_OUTCOMES.iter().zip(&self.events) {
            text.push_str(&format!(
                "tessera_idp_events_total{{outcome=\"{outcome}\"}} {}\n",
                counter.load(Ordering::Relaxed)
            ));
        }
        text.push_str(
            "# HELP tessera_event_deliveries_total Attempts to deliver events to shops, by outcome.\n\
             # TYPE tessera_event_deliveries_total counter\n",
        );
        for (outcome, counter) in DELIVERY_OUTCOMES.iter().zip(&self.deliveries) {
            text.push_str(&format!(
                "tessera_event_deliveries_total{{outcome=\"{outcome}\"}} {}\n",
                counter.load(Ordering::Relaxed)
            ));
        }
        text
    }
}

/// `/healthz`, `/readyz` and `/metrics`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
}

async fn ready(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    if state.store().ping().await {
        Ok("ready\n")
    } else {
        Err(ApiError::Internal(anyhow::anyhow!(
            "the database does not answer"
        )))
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut response = state.metrics().render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Font uploads (the admin API's and the studio's) carry a file.
    let path = request.uri().path();
    let upload = request.method() == axum::http::Method::POST
        && ((path.starts_with("/api/tenants/") && path.ends_with("/fonts"))
            || (path.starts_with("/console/tenants/") && path.ends_with("/studio/font")));
    let limit = if upload {
        state.body_limit().max(crate::admin::UPLOAD_BODY_BYTES)
    } else {
        state.body_limit()
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return ApiError::PayloadTooLarge(limit).into_response();
    }
    // Copied only when the request log is on: this runs on every request.
    let logged = tracing::enabled!(target: "tessera::http", tracing::Level::INFO)
        .then(|| (request.method().clone(), request.uri().path().to_owned()));
    let mut response = next.run(request).await;
    let elapsed = started.elapsed();
    state.metrics().record(response.status(), elapsed);
    if let Some((method, path)) = logged {
        tracing::info!(
            target: "tessera::http",
            %method,
            path = %path,
            status = response.status().as_u16(),
            micros = elapsed.as_micros() as u64,
        );
    }
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The floor; the console sets `same-origin` (see `console::page`).
    headers
        .entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
    if is_html {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        // HTML pages set their own nonce-based CSP; this is the floor.
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(
                "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ));
    }
    response
}

/// Wraps the router in the layers every request passes.
pub fn layers(router: Router, state: AppState, limits: Limits) -> Router {
    router
        // Bodies without a Content-Length are cut off at the same limit.
        .layer(axum::extract::DefaultBodyLimit::max(limits.body_bytes))
        .layer(middleware::from_fn_with_state(state, observe))
}

/// Gives routes that wait on the database or compute a deadline; past it
/// the request answers 408 with the JSON error.
pub fn with_timeout(router: Router<AppState>, limits: Limits) -> Router<AppState> {
    let deadline = Duration::from_secs(limits.request_timeout_seconds);
    router.layer(middleware::from_fn(
        move |request: Request, next: Next| async move {
            tokio::time::timeout(deadline, next.run(request))
                .await
                .unwrap_or_else(|_| ApiError::Timeout.into_response())
        },
    ))
}
