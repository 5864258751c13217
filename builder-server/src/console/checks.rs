//! Live checks of an identity provider before a tenant is created on it,
//! each failure saying how to fix it: discovery reachable and naming
//! exactly the issuer entered, the code flow and PKCE S256 offered, keys
//! the verifier can use, an `end_session_endpoint`, and a token endpoint
//! that answers CORS for the shop's origin (the widget calls it from the
//! shop's page).
//!
//! What it is not: a sign-in. Nothing here authenticates; it reads public
//! documents and sends one CORS preflight.

use std::time::Duration;

use serde_json::Value;

use super::health;

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The message id of what was checked.
    pub what: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, or how to fix it.
    pub detail: String,
}

impl Check {
    fn pass(what: &'static str, detail: impl Into<String>) -> Check {
        Check {
            what,
            ok: true,
            detail: detail.into(),
        }
    }

    fn fail(what: &'static str, detail: impl Into<String>) -> Check {
        Check {
            what,
            ok: false,
            detail: detail.into(),
        }
    }
}

fn strings<'a>(document: &'a Value, member: &str) -> Vec<&'a str> {
    document
        .get(member)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Where, at the IdP of `preset`, the shop's origin is allowed to call the
/// token endpoint (see the guides in `docs/idp/`).
fn cors_fix(preset: &str) -> &'static str {
    match preset {
        "logto" => {
            "in Logto, add the shop's page as a redirect URI of the Single Page App (its origin is \
             then allowed) or list the origin under CORS allowed origins"
        }
        "zitadel" => {
            "in ZITADEL, add the shop's page as a redirect URI of the User Agent application (its \
             origin is then allowed) or list the origin under additional origins"
        }
        "keycloak" => {
            "in Keycloak, add the shop's origin to the client's Web origins (or `+` for the origins \
             of its valid redirect URIs)"
        }
        "auth0" => "in Auth0, add the shop's origin to the application's Allowed Web Origins",
        "entra-id" => {
            "in Microsoft Entra ID, register the shop's page under the Single-page application \
             platform, which is what allows its origin"
        }
        "google" => {
            "Google's token endpoint expects a client secret, which a page cannot keep: see \
             docs/idp/google.md"
        }
        _ => "add the shop's origin to the application's allowed web origins (CORS) at the IdP",
    }
}

/// Checks the IdP at `issuer` (set up as `preset` says) for the widget's
/// client `client_id` on a shop at `shop_origin`.
pub async fn check(
    preset: &str,
    issuer: &str,
    shop_origin: &str,
    audience: &str,
    client_id: &str,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(client) => client,
        Err(error) => return vec![Check::fail("check-discovery", error.to_string())],
    };
    let discovery_url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let document: Option<Value> = match client.get(&discovery_url).send().await {
        Ok(response) if response.status().is_success() => response
            .bytes()
            .await
            .ok()
            .filter(|body| body.len() <= 256 * 1024)
            .and_then(|body| serde_json::from_slice(&body).ok()),
        Ok(response) => {
            checks.push(Check::fail(
                "check-discovery",
                format!(
                    "{discovery_url} answered {}: check the issuer URL (its exact path, and whether it ends with a slash)",
                    response.status()
                ),
            ));
            return checks;
        }
        Err(error) => {
            checks.push(Check::fail(
                "check-discovery",
                format!("{discovery_url} cannot be reached from this server: {error}"),
            ));
            return checks;
        }
    };
    let Some(document) = document else {
        checks.push(Check::fail(
            "check-discovery",
            format!("{discovery_url} is not a JSON discovery document"),
        ));
        return checks;
    };
    match document.get("issuer").and_then(Value::as_str) {
        Some(named) if named == issuer => {
            checks.push(Check::pass("check-discovery", discovery_url.clone()));
        }
        Some(named) => {
            checks.push(Check::fail(
                "check-discovery",
                format!("the discovery document names the issuer `{named}`: enter exactly that"),
            ));
            return checks;
        }
        None => {
            checks.push(Check::fail(
                "check-discovery",
                "the discovery document names no issuer",
            ));
            return checks;
        }
    }
    if strings(&document, "response_types_supported").contains(&"code") {
        checks.push(Check::pass("check-code-flow", "response_type code"));
    } else {
        checks.push(Check::fail(
            "check-code-flow",
            "the IdP does not offer the authorization code flow (response_type code)",
        ));
    }
    if strings(&document, "code_challenge_methods_supported").contains(&"S256") {
        checks.push(Check::pass("check-pkce", "S256"));
    } else {
        checks.push(Check::fail(
            "check-pkce",
            "the IdP does not say it supports PKCE with S256 (code_challenge_methods_supported): \
             make the application a public client (single-page application) with PKCE",
        ));
    }
    // Keys: the verifier's own judgement, as for a tenant's health.
    let keys = health::check(issuer, audience).await;
    checks.push(if keys.ok {
        Check::pass(
            "check-keys",
            format!("{} usable: {}", keys.keys, keys.algorithms.join(", ")),
        )
    } else {
        Check::fail("check-keys", keys.problem)
    });
    match document.get("end_session_endpoint").and_then(Value::as_str) {
        Some(endpoint) => checks.push(Check::pass("check-end-session", endpoint)),
        None => checks.push(Check::fail(
            "check-end-session",
            "no end_session_endpoint: signing out will end the session in the shop only, not at the IdP",
        )),
    }
    let Some(token_endpoint) = document.get("token_endpoint").and_then(Value::as_str) else {
        checks.push(Check::fail(
            "check-cors",
            "the discovery document names no token_endpoint",
        ));
        return checks;
    };
    // The preflight, then a real token request as the widget sends it (with
    // a code that is not one): IdPs that decide CORS per client (Keycloak's
    // web origins, oidc-provider's client-based CORS) answer the preflight
    // for anyone and decide on the request itself.
    let allows = |response: Option<reqwest::Response>| {
        response
            .and_then(|response| {
                response
                    .headers()
                    .get("access-control-allow-origin")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned)
            })
            .is_some_and(|origin| origin == shop_origin || origin == "*")
    };
    let preflight = client
        .request(reqwest::Method::OPTIONS, token_endpoint)
        .header("origin", shop_origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .ok();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", "tessera-console-cors-check")
        .append_pair("redirect_uri", &format!("{shop_origin}/"))
        .append_pair("client_id", client_id)
        .append_pair("code_verifier", &"v".repeat(43))
        .finish();
    let request = client
        .post(token_endpoint)
        .header("origin", shop_origin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .ok();
    checks.push(if allows(preflight) && allows(request) {
        Check::pass(
            "check-cors",
            format!("{token_endpoint} allows {shop_origin} for {client_id}"),
        )
    } else {
        Check::fail(
            "check-cors",
            format!(
                "{token_endpoint} does not answer CORS for {shop_origin} and client {client_id}: {}",
                cors_fix(preset)
            ),
        )
    });
    checks
}
