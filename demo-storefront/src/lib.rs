//! The Tessera demo storefront: a zero-knowledge shop.
//!
//! [`Storefront::router`] is an axum `Router` that the `tessera` binary mounts
//! at `/demo`. It serves a catalog page and a "My orders" page with the
//! `<tessera-login>` widget pasted exactly as the builder's snippet endpoint
//! prints it, under exactly the Content-Security-Policy that endpoint prints,
//! and a small JSON API behind the verifier's `PassportLayer`, which takes
//! only JWT access tokens (`typ` `at+jwt`) issued to the shop's client:
//!
//! - `POST /api/orders` and `GET /api/orders`: orders stored under the
//!   passport's pseudonymous `sub` and nothing else;
//! - `GET /api/me/export`: everything the shop holds about the caller (the
//!   right of access);
//! - `POST /webhooks/idp`: the IdP's user-deleted event, signed per Standard
//!   Webhooks, erases that `sub`'s data (the right to erasure).
//!
//! What it is not: a real shop (no payment, no stock, no addresses), and it
//! never asks for, stores or logs a name, an email or a phone number; it
//! cannot, since the passport does not carry them and the schema has no
//! place for them.

pub mod catalog;
pub mod orders;
mod pages;
/// Standard Webhooks verification, shared with the builder's event relay.
pub use tessera_events::standard_webhooks as webhooks;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, middleware};
use serde::Deserialize;
use serde_json::json;
use tessera_verifier::axum::{PassportLayer, TokenVerifier, Unauthorized};
use tessera_verifier::{Passport, PersonalData, Verifier, VerifierBuilder};

pub use crate::orders::{DeliveryOutcome, Order, OrderLine, Orders, ShopAction, Standing};
pub use crate::pages::{MOUNT_PATH, WidgetSnippets};
pub use crate::webhooks::{WebhookError, WebhookSecret};

/// The largest order request accepted, in bytes.
pub const MAX_ORDER_BYTES: usize = 16 * 1024;
/// The most lines one order may have.
pub const MAX_ORDER_LINES: usize = 20;
/// The most of one product one order may have.
pub const MAX_QUANTITY: u32 = 99;

/// The header `typ` of the access tokens the API takes (RFC 9068 section
/// 2.1); the verifier compares it case-blind, with or without
/// `application/`.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The rules a token for the orders API must pass: a JWT access token
/// (`typ` [`ACCESS_TOKEN_TYPE`]) from `issuer` for `audience`, with a `sub`
/// and without personal-data claims. The caller adds the keys (or a remote
/// key location) and, if it likes, the verified-token cache; the token's
/// `client_id` is checked by the storefront itself (see
/// [`Authentication::Passport`]).
pub fn api_verifier_rules(issuer: &str, audience: &str) -> VerifierBuilder {
    Verifier::builder()
        .issuer(issuer)
        .audience(audience)
        .expected_type(ACCESS_TOKEN_TYPE)
        .required_claim("sub")
        .personal_data(PersonalData::Reject)
}

/// How the orders API learns who is calling.
#[derive(Clone)]
pub enum Authentication {
    /// A bearer passport checked by the verifier (the only choice for a
    /// real deployment), built from [`api_verifier_rules`], and issued to
    /// the shop's own client: its `client_id` claim (RFC 9068 section 2.2)
    /// must equal `client_id`, so that another client's access token for
    /// the same audience is refused.
    Passport {
        /// Verifies the bearer token.
        verifier: Arc<dyn TokenVerifier>,
        /// The shop's client id at the issuer.
        client_id: String,
    },
    /// Trust an `x-dangerous-subject` request header without any check.
    /// Only for measuring the verifier's cost in `cargo xtask bench
    /// storefront`: anyone can claim any subject.
    DangerousUnverifiedSubjectHeader,
}

/// Where the storefront keeps its orders.
#[derive(Debug, Clone)]
pub enum Database {
    /// A SQLite file, created when absent.
    File(PathBuf),
    /// A database URL: `postgres://...` (the shop's own database) or
    /// `sqlite://...`.
    Url(String),
}

/// Everything the storefront needs.
pub struct StorefrontConfig {
    /// Where orders are kept.
    pub database: Database,
    /// How API callers are authenticated.
    pub authentication: Authentication,
    /// The secret the IdP signs its webhooks with.
    pub webhook_secret: WebhookSecret,
    /// The widget as the snippet endpoint prints it, or `None` when the
    /// widget is not built yet (the pages then say how to build it).
    pub widget: Option<WidgetSnippets>,
}

/// Why a storefront request failed; every variant becomes a JSON response
/// `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorefrontError {
    /// The request is invalid; `field` names the input when known.
    #[error("{message}")]
    Invalid {
        /// The offending input, e.g. `items[0].sku`.
        field: Option<String>,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A webhook delivery was refused.
    #[error("{0}")]
    Webhook(#[from] WebhookError),
    /// Something broke inside; the detail is logged, not answered.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl StorefrontError {
    fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        StorefrontError::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// The stable code in the response.
    pub fn code(&self) -> &'static str {
        match self {
            StorefrontError::Invalid { .. } => "invalid_request",
            StorefrontError::Webhook(error) => error.code(),
            StorefrontError::Internal(_) => "internal",
        }
    }
}

impl From<sqlx::Error> for StorefrontError {
    fn from(error: sqlx::Error) -> Self {
        StorefrontError::Internal(error.into())
    }
}

impl IntoResponse for StorefrontError {
    fn into_response(self) -> Response {
        let status = match &self {
            StorefrontError::Invalid { .. } => StatusCode::BAD_REQUEST,
            StorefrontError::Webhook(_) => StatusCode::UNAUTHORIZED,
            StorefrontError::Internal(error) => {
                tracing::error!(error = %format!("{error:#}"), "storefront internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut body = json!({"code": self.code(), "message": self.to_string()});
        if let StorefrontError::Invalid {
            field: Some(field), ..
        } = &self
        {
            body["field"] = json!(field);
        }
        let mut response = (status, Json(json!({ "error": body }))).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// The demo storefront.
#[derive(Clone)]
pub struct Storefront {
    inner: Arc<Inner>,
}

struct Inner {
    orders: Orders,
    authentication: Authentication,
    webhook_secret: WebhookSecret,
    pages: pages::Pages,
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

impl Storefront {
    /// Opens the database and prepares the pages.
    pub async fn open(config: StorefrontConfig) -> anyhow::Result<Storefront> {
        let orders = match &config.database {
            Database::File(path) => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                Orders::open(path).await.map_err(|error| {
                    anyhow::anyhow!(
                        "cannot open the storefront database {}: {error}",
                        path.display()
                    )
                })?
            }
            Database::Url(url) => Orders::connect(url).await.map_err(|error| {
                anyhow::anyhow!("cannot open the storefront's database: {error}")
            })?,
        };
        Ok(Storefront {
            inner: Arc::new(Inner {
                orders,
                authentication: config.authentication,
                webhook_secret: config.webhook_secret,
                pages: pages::Pages::new(config.widget),
            }),
        })
    }

    /// The database (for tests and shutdown).
    pub fn orders(&self) -> &Orders {
        &self.inner.orders
    }

    /// The storefront's routes, to be mounted at `/demo`.
    pub fn router(&self) -> Router {
        let api = Router::new()
            .route("/api/orders", get(list_orders).post(place_order))
            .route("/api/me/export", get(export))
            .layer(DefaultBodyLimit::max(MAX_ORDER_BYTES));
        let api = match &self.inner.authentication {
            Authentication::Passport { verifier, .. } => {
                api.layer(PassportLayer::new(Arc::clone(verifier)))
            }
            Authentication::DangerousUnverifiedSubjectHeader => {
                api.layer(middleware::map_request(trust_subject_header))
            }
        };
        Router::new()
            .merge(pages::routes())
            .merge(api)
            .route(
                "/webhooks/idp",
                post(idp_webhook).layer(DefaultBodyLimit::max(webhooks::MAX_BODY_BYTES)),
            )
            .with_state(self.clone())
    }
}

/// The pseudonymous subject of a verified caller.
struct Customer(String);

#[derive(Clone)]
struct UnverifiedSubject(String);

async fn trust_subject_header(mut request: axum::extract::Request) -> axum::extract::Request {
    if let Some(subject) = request
        .headers()
        .get("x-dangerous-subject")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
    {
        request.extensions_mut().insert(UnverifiedSubject(subject));
    }
    request
}

impl FromRequestParts<Storefront> for Customer {
    type Rejection = Refused;

    async fn from_request_parts(
        parts: &mut Parts,
        storefront: &Storefront,
    ) -> Result<Self, Self::Rejection> {
        let client_id = match &storefront.inner.authentication {
            Authentication::Passport { client_id, .. } => client_id,
            Authentication::DangerousUnverifiedSubjectHeader => {
                return match parts.extensions.get::<UnverifiedSubject>() {
                    Some(UnverifiedSubject(subject)) => Ok(Customer(subject.clone())),
                    None => Err(Unauthorized::MissingToken.into()),
                };
            }
        };
        let passport = Passport::from_request_parts(parts, storefront).await?;
        // RFC 9068 section 2.2: `client_id` names the client the access
        // token was issued to; another client's token for our audience
        // (another tenant's, say) is not the shop's customer.
        if passport
            .claim("client_id")
            .and_then(serde_json::Value::as_str)
            != Some(client_id.as_str())
        {
            return Err(Unauthorized::InvalidToken.into());
        }
        let subject = match passport.subject() {
            Some(subject) if !subject.is_empty() => subject.to_owned(),
            // A passport without a subject cannot own orders.
            _ => return Err(Unauthorized::InvalidToken.into()),
        };
        // What the identity provider has said since the token was issued:
        // an erased subject or an ended session is refused as an invalid
        // token (the widget then ends its session), a disabled one as
        // forbidden.
        let standing = storefront
            .inner
            .orders
            .standing(
                &subject,
                passport.claim("sid").and_then(serde_json::Value::as_str),
                passport.claim("iat").and_then(serde_json::Value::as_i64),
            )
            .await
            .map_err(|error| Refused::Failed(StorefrontError::from(error)))?;
        match standing {
            Standing::Good => Ok(Customer(subject)),
            Standing::Erased | Standing::SessionEnded => Err(Unauthorized::InvalidToken.into()),
            Standing::Disabled => Err(Refused::Disabled),
        }
    }
}

/// Why a caller is not served.
enum Refused {
    /// No valid passport (RFC 6750).
    Unauthorized(Unauthorized),
    /// The identity provider disabled the account.
    Disabled,
    /// The check could not be made.
    Failed(StorefrontError),
}

impl From<Unauthorized> for Refused {
    fn from(unauthorized: Unauthorized) -> Self {
        Refused::Unauthorized(unauthorized)
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Unauthorized(unauthorized) => unauthorized.into_response(),
            Refused::Disabled => private_json(
                json!({"error": {"code": "account_disabled",
                    "message": "the identity provider disabled this account"}}),
                StatusCode::FORBIDDEN,
            ),
            Refused::Failed(error) => error.into_response(),
        }
    }
}

fn private_json(value: serde_json::Value, status: StatusCode) -> Response {
    let mut response = (status, Json(value)).into_response();
    // Orders are one customer's: no shared cache may keep them.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn list_orders(
    State(storefront): State<Storefront>,
    Customer(subject): Customer,
) -> Result<Response, StorefrontError> {
    let orders = storefront.inner.orders.of(&subject).await?;
    Ok(private_json(json!({ "orders": orders }), StatusCode::OK))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOrder {
    items: Vec<NewOrderLine>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOrderLine {
    sku: String,
    quantity: u32,
}

/// Checks an order against the catalog and prices it.
fn priced_lines(order: NewOrder) -> Result<Vec<OrderLine>, StorefrontError> {
    if order.items.is_empty() {
        return Err(StorefrontError::invalid(
            "items",
            "an order needs at least one item",
        ));
    }
    if order.items.len() > MAX_ORDER_LINES {
        return Err(StorefrontError::invalid(
            "items",
            format!("an order has at most {MAX_ORDER_LINES} lines"),
        ));
    }
    order
        .items
        .into_iter()
        .enumerate()
        .map(|(index, line)| {
            let product = catalog::product(&line.sku).ok_or_else(|| {
                StorefrontError::invalid(
                    format!("items[{index}].sku"),
                    "no such product in the catalog",
                )
            })?;
            if !(1..=MAX_QUANTITY).contains(&line.quantity) {
                return Err(StorefrontError::invalid(
                    format!("items[{index}].quantity"),
                    format!("a quantity is 1 to {MAX_QUANTITY}"),
                ));
            }
            Ok(OrderLine {
                sku: product.sku.to_owned(),
                name: product.name.to_owned(),
                quantity: line.quantity,
                unit_price_cents: product.price_cents,
            })
        })
        .collect()
}

async fn place_order(
    State(storefront): State<Storefront>,
    Customer(subject): Customer,
    body: Result<Json<NewOrder>, JsonRejection>,
) -> Result<Response, StorefrontError> {
    let Json(order) = body.map_err(|rejection| StorefrontError::Invalid {
        field: None,
        message: format!(
            "send JSON {{\"items\": [{{\"sku\", \"quantity\"}}]}} and nothing else: {}",
            rejection.body_text()
        ),
    })?;
    let lines = priced_lines(order)?;
    let Some(order) = storefront
        .inner
        .orders
        .place(&subject, lines, now_seconds())
        .await?
    else {
        // Erased since the token was checked: nothing new is kept.
        return Ok(Unauthorized::InvalidToken.into_response());
    };
    // The order number only: not the subject, and never anything personal.
    tracing::info!(order = order.id, "order placed");
    Ok(private_json(json!(order), StatusCode::CREATED))
}

async fn export(
    State(storefront): State<Storefront>,
    Customer(subject): Customer,
) -> Result<Response, StorefrontError> {
    let orders = storefront.inner.orders.of(&subject).await?;
    Ok(private_json(
        json!({
            "subject": subject,
            "exported_at": now_seconds(),
            "held": "orders under this pseudonymous subject; no name, email, phone or address",
            "orders": orders,
        }),
        StatusCode::OK,
    ))
}

/// An event from the identity provider.
#[derive(Debug, Deserialize)]
struct IdpEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: serde_json::Value,
}

/// The event type that erases a customer.
pub const USER_DELETED: &str = "user.deleted";

/// What `event` asks of the shop: `user.deleted`, `user.disabled` and
/// `user.enabled` name `data.sub`; `session.revoked` names `data.sub`,
/// `data.sid` or both, and `data.occurred_at` (else now, and never later
/// than now) bounds which of the subject's tokens it ends. Other types are
/// ignored.
fn shop_action(event: &IdpEvent, now: i64) -> Result<ShopAction, StorefrontError> {
    let text = |name: &str| {
        event
            .data
            .get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let subject = || {
        text("sub").ok_or_else(|| {
            StorefrontError::invalid(
                "data.sub",
                format!("a {} event names the user's sub", event.kind),
            )
        })
    };
    Ok(match event.kind.as_str() {
        USER_DELETED => ShopAction::Erase {
            subject: subject()?,
        },
        "user.disabled" => ShopAction::Disable {
            subject: subject()?,
        },
        "user.enabled" => ShopAction::Enable {
            subject: subject()?,
        },
        "session.revoked" => {
            let (subject, session) = (text("sub"), text("sid"));
            if subject.is_none() && session.is_none() {
                return Err(StorefrontError::invalid(
                    "data",
                    "a session.revoked event names `sub`, `sid` or both",
                ));
            }
            let at = event
                .data
                .get("occurred_at")
                .and_then(serde_json::Value::as_i64)
                .map_or(now, |at| at.min(now));
            ShopAction::EndSessions {
                subject,
                session,
                at,
            }
        }
        _ => ShopAction::Ignore,
    })
}

fn header_text<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, WebhookError> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .ok_or(WebhookError::MissingHeader(name))
}

async fn idp_webhook(
    State(storefront): State<Storefront>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, StorefrontError> {
    let delivery = webhooks::Delivery {
        id: header_text(&headers, "webhook-id")?,
        timestamp: header_text(&headers, "webhook-timestamp")?,
        signature: header_text(&headers, "webhook-signature")?,
    };
    let now = now_seconds();
    storefront
        .inner
        .webhook_secret
        .verify(delivery, &body, now)?;
    let event: IdpEvent = serde_json::from_slice(&body).map_err(|error| {
        StorefrontError::invalid("body", format!("the event is not valid JSON: {error}"))
    })?;
    let action = shop_action(&event, now)?;
    let outcome = storefront
        .inner
        .orders
        .apply_delivery(delivery.id, &action, now, 2 * webhooks::TOLERANCE_SECONDS)
        .await?;
    let status = match (&outcome, &action) {
        // Seen before: nothing is done again, and the sender is told it
        // arrived (a sender retrying after a lost answer must not keep
        // retrying).
        (DeliveryOutcome::Replayed, _) => "duplicate",
        (_, ShopAction::Erase { .. }) => "erased",
        (_, ShopAction::Disable { .. }) => "disabled",
        (_, ShopAction::Enable { .. }) => "enabled",
        (_, ShopAction::EndSessions { .. }) => "sessions_ended",
        (_, ShopAction::Ignore) => "ignored",
    };
    let erased_orders = match outcome {
        DeliveryOutcome::Applied { erased_orders } => erased_orders,
        DeliveryOutcome::Replayed => 0,
    };
    // The event type is the sender's text: log only which kind we acted on.
    tracing::info!(
        event = status,
        erased_orders,
        "identity provider webhook applied"
    );
    Ok(private_json(
        json!({"status": status, "erased_orders": erased_orders}),
        StatusCode::OK,
    ))
}
