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

/// How to fix the failed check `what` at the IdP of `preset`, in that
/// IdP's own terms (the guides in `docs/idp/` say more).
fn fix(preset: &str, what: &str) -> &'static str {
    match (what, preset) {
        ("check-discovery", "logto") => {
            "Logto's issuer is https://<tenant-id>.logto.app/oidc (or your custom domain followed \
             by /oidc), with no trailing slash"
        }
        ("check-discovery", "zitadel") => {
            "ZITADEL's issuer is the instance's domain, https://<instance-domain>, with no \
             trailing slash"
        }
        ("check-discovery", "keycloak") => {
            "Keycloak's issuer is https://<host>/realms/<realm> (with /auth before /realms on \
             Keycloak 16 and older), with no trailing slash"
        }
        ("check-discovery", "auth0") => {
            "Auth0's issuer is https://<tenant>.<region>.auth0.com/ (or your custom domain), \
             with the trailing slash"
        }
        ("check-discovery", "entra-id") => {
            "Entra ID's issuer is https://login.microsoftonline.com/<tenant-id>/v2.0: the \
             common and organizations endpoints name no single issuer"
        }
        ("check-discovery", "google") => "Google's issuer is https://accounts.google.com",
        ("check-discovery", _) => {
            "enter the issuer exactly as the IdP's discovery document names it, without \
             /.well-known/openid-configuration"
        }
        ("check-code-flow" | "check-pkce", "logto") => {
            "in Logto, create the application as a Single Page App"
        }
        ("check-code-flow" | "check-pkce", "zitadel") => {
            "in ZITADEL, create a User Agent application with the PKCE authentication method"
        }
        ("check-code-flow" | "check-pkce", "keycloak") => {
            "in Keycloak, turn Client authentication off, keep Standard flow on and set the PKCE \
             method to S256"
        }
        ("check-code-flow" | "check-pkce", "auth0") => {
            "in Auth0, create a Single Page Application (Authorization Code with PKCE)"
        }
        ("check-code-flow" | "check-pkce", "entra-id") => {
            "in Entra ID, register the shop's pages under the Single-page application platform"
        }
        ("check-code-flow" | "check-pkce", "google") => {
            "Google expects a client secret at its token endpoint, which a page cannot keep: see \
             docs/idp/google.md"
        }
        ("check-code-flow" | "check-pkce", _) => {
            "make the application a public client (single-page application) with the \
             authorization code flow and PKCE S256"
        }
        ("check-keys", "auth0") => {
            "in Auth0, set the API's JSON Web Token signing algorithm to RS256 (or PS256), never \
             HS256"
        }
        ("check-keys", "keycloak") => {
            "in Keycloak, keep an active RS256 or ES256 key under Realm settings, Keys, and no \
             HS* algorithm for access tokens"
        }
        ("check-keys", "zitadel") => {
            "ZITADEL signs with RS256 keys it rotates itself: check that the instance's key \
             endpoint (jwks_uri) is reachable from this server"
        }
        ("check-keys", "logto") => {
            "in Logto, rotate the OIDC signing keys (Tenant settings, Signing keys) to an RSA or \
             EC key"
        }
        ("check-keys", _) => {
            "sign tokens with RS256/384/512, PS256/384/512, ES256, ES384 or EdDSA and publish the \
             keys at jwks_uri; the verifier never accepts HS* or unsigned tokens"
        }
        ("check-end-session", "auth0") => {
            "in Auth0, turn on RP-Initiated Logout End Session Endpoint Discovery (tenant \
             Settings, Advanced)"
        }
        ("check-end-session", "google") => {
            "Google has none: signing out ends the shop's session only"
        }
        ("check-end-session", _) => {
            "enable RP-Initiated Logout at the IdP, or accept that signing out ends the shop's \
             session only"
        }
        (_, "logto") => {
            "in Logto, add the shop's page as a redirect URI of the Single Page App (its origin is \
             then allowed) or list the origin under CORS allowed origins"
        }
        (_, "zitadel") => {
            "in ZITADEL, add the shop's page as a redirect URI of the User Agent application (its \
             origin is then allowed) or list the origin under additional origins"
        }
        (_, "keycloak") => {
            "in Keycloak, add the shop's origin to the client's Web origins (or `+` for the origins \
             of its valid redirect URIs)"
        }
        (_, "auth0") => "in Auth0, add the shop's origin to the application's Allowed Web Origins",
        (_, "entra-id") => {
            "in Microsoft Entra ID, register the shop's page under the Single-page application \
             platform, which is what allows its origin"
        }
        (_, "google") => {
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
                    "{discovery_url} answered {}: {}",
                    response.status(),
                    fix(preset, "check-discovery")
                ),
            ));
            return checks;
        }
        Err(error) => {
            checks.push(Check::fail(
                "check-discovery",
                format!(
                    "{discovery_url} cannot be reached from this server: {error}; {}",
                    fix(preset, "check-discovery")
                ),
            ));
            return checks;
        }
    };
    let Some(document) = document else {
        checks.push(Check::fail(
            "check-discovery",
            format!(
                "{discovery_url} is not a JSON discovery document: {}",
                fix(preset, "check-discovery")
            ),
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
                format!(
                    "the discovery document names the issuer `{named}`: enter exactly that ({})",
                    fix(preset, "check-discovery")
                ),
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
            format!(
                "the IdP does not offer the authorization code flow (response_type code): {}",
                fix(preset, "check-code-flow")
            ),
        ));
    }
    if strings(&document, "code_challenge_methods_supported").contains(&"S256") {
        checks.push(Check::pass("check-pkce", "S256"));
    } else {
        checks.push(Check::fail(
            "check-pkce",
            format!(
                "the IdP does not say it supports PKCE with S256 (code_challenge_methods_supported): {}",
                fix(preset, "check-pkce")
            ),
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
        Check::fail(
            "check-keys",
            format!("{}: {}", keys.problem, fix(preset, "check-keys")),
        )
    });
    match document.get("end_session_endpoint").and_then(Value::as_str) {
        Some(endpoint) => checks.push(Check::pass("check-end-session", endpoint)),
        None => checks.push(Check::fail(
            "check-end-session",
            format!(
                "no end_session_endpoint: signing out will end the session in the shop only, not at the IdP; {}",
                fix(preset, "check-end-session")
            ),
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
                fix(preset, "check-cors")
            ),
        )
    });
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An issuer on a loopback port nothing listens on.
    async fn unreachable_issuer() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        format!("http://127.0.0.1:{port}")
    }

    #[tokio::test]
    async fn a_failed_check_says_how_to_fix_it_in_the_idp_s_terms() {
        let issuer = unreachable_issuer().await;
        for (preset, words) in [
            ("keycloak", "/realms/<realm>"),
            ("auth0", "with the trailing slash"),
            ("entra-id", "/v2.0"),
            ("generic", "/.well-known/openid-configuration"),
        ] {
            let checks = check(preset, &issuer, "https://shop.example", "api", "shop").await;
            let discovery = checks
                .iter()
                .find(|check| check.what == "check-discovery")
                .unwrap();
            assert!(!discovery.ok);
            assert!(
                discovery.detail.contains(words),
                "{preset}: {}",
                discovery.detail
            );
        }
    }

    #[test]
    fn each_named_idp_has_its_own_words_for_what_it_can_fix() {
        for what in ["check-discovery", "check-pkce", "check-cors"] {
            let generic = fix("generic", what);
            for preset in [
                "logto", "zitadel", "keycloak", "auth0", "entra-id", "google",
            ] {
                assert_ne!(fix(preset, what), generic, "{preset} {what}");
            }
        }
    }
}
