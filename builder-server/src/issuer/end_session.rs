//! The end-session endpoint, `/dev/oidc/end_session` (RP-Initiated Logout
//! 1.0): `id_token_hint` or `client_id`, back to a registered URI with
//! `state`.

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::{DevIssuer, IssuerError, pages, redirect_with};
use crate::AppState;
use crate::extract::Query;

#[derive(Debug, Deserialize)]
pub(super) struct EndSession {
    post_logout_redirect_uri: Option<String>,
    client_id: Option<String>,
    state: Option<String>,
    id_token_hint: Option<String>,
}

/// RP-Initiated Logout 1.0: ends the hinted session (its refresh tokens are
/// revoked) and returns to a `post_logout_redirect_uri` registered for the
/// client, named by `client_id` or by the hint's `aud`.
pub(super) async fn end_session(
    State(state): State<AppState>,
    State(issuer): State<DevIssuer>,
    Query(request): Query<EndSession>,
) -> Result<Response, IssuerError> {
    let hint = match request.id_token_hint.as_deref() {
        None => None,
        Some(hint) => Some(
            issuer
                .keys()
                .read_id_token_hint(issuer.issuer(), hint)
                .map_err(|refused| IssuerError::ShownToUser(refused.to_string()))?,
        ),
    };
    // Section 2: with both, client_id must be the hint's audience.
    let client_id = match (request.client_id.as_deref(), &hint) {
        (Some(client_id), Some(hint)) if client_id != hint.aud => {
            return Err(IssuerError::ShownToUser(
                "client_id is not the client id_token_hint was issued to".into(),
            ));
        }
        (Some(client_id), _) => Some(client_id),
        (None, Some(hint)) => Some(hint.aud.as_str()),
        (None, None) => None,
    };
    if let Some(sid) = hint.as_ref().and_then(|hint| hint.sid.as_deref()) {
        state.store().dev_end_session(sid).await?;
    }
    // Only a URI registered for the client is followed.
    if let (Some(uri), Some(client_id)) = (&request.post_logout_redirect_uri, client_id)
        && let Ok(tenant) = issuer.client(&state, client_id).await
        && tenant
            .config
            .value
            .redirect_uris
            .iter()
            .any(|registered| registered == uri)
    {
        let parameters: Vec<(&str, &str)> = request
            .state
            .as_deref()
            .map(|s| vec![("state", s)])
            .unwrap_or_default();
        return Ok(redirect_with(uri, &parameters));
    }
    Ok(Html(pages::SIGNED_OUT).into_response())
}
