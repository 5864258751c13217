//! The sessions `window.Tessera.fetch` may use, one [`Grant`] per tenant,
//! and `bearerFor`, which the loader asks which token, if any, a request
//! may carry. A session whose element left the page is parked here until
//! an element of its tenant comes back.
//!
//! What it is not: fetching, or renewing. The loader's `Tessera.fetch`
//! sends and retries the request; `renewal` sets a grant's renewal timer
//! and answers a 401 (`renewRejected`, `endRejected`).

use wasm_bindgen::prelude::*;

use crate::oidc::{self, Session};

/// The sessions of this page's widgets, one per tenant: where their access
/// tokens may go (for `window.Tessera.fetch`) and their renewal timer. A
/// session whose element left the page is *parked*: it attaches to no
/// request and is not renewed until an element of its tenant is added
/// again and picks it up.
pub(crate) struct Grant {
    pub(crate) tenant: String,
    pub(crate) origins: Vec<String>,
    pub(crate) session: Session,
    /// The pending renewal timer.
    pub(crate) timer: Option<i32>,
    pub(crate) parked: bool,
}

impl Grant {
    pub(crate) fn cancel_renewal(&mut self) {
        if let (Some(timer), Some(window)) = (self.timer.take(), web_sys::window()) {
            window.clear_timeout_with_handle(timer);
        }
    }
}

thread_local! {
    pub(crate) static GRANTS: std::cell::RefCell<Vec<Grant>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The tenant whose live (not parked) session holds `token`.
pub(crate) fn tenant_holding(token: &str) -> Option<String> {
    GRANTS.with_borrow(|grants| {
        grants
            .iter()
            .find(|grant| !grant.parked && grant.session.access_token == token)
            .map(|grant| grant.tenant.clone())
    })
}

/// Takes `tenant`'s session away (live or parked), with its pending renewal.
pub(crate) fn take_grant(tenant: &str) -> Option<Grant> {
    GRANTS.with_borrow_mut(|grants| {
        let index = grants.iter().position(|grant| grant.tenant == tenant)?;
        let mut grant = grants.swap_remove(index);
        grant.cancel_renewal();
        Some(grant)
    })
}

/// Gives `tenant`'s session (or, with `parked`, keeps it for later), in
/// place of the one before.
pub(crate) fn grant(tenant: &str, origins: &[String], session: Option<&Session>, parked: bool) {
    let _ = take_grant(tenant);
    if let Some(session) = session {
        GRANTS.with_borrow_mut(|grants| {
            grants.push(Grant {
                tenant: tenant.to_owned(),
                origins: origins.to_vec(),
                session: session.clone(),
                timer: None,
                parked,
            });
        });
    }
}

/// The bearer token `window.Tessera.fetch` may attach to a request for
/// `url`: only for the page's own origin or an origin the tenant allowlists,
/// and only while the token is valid.
#[wasm_bindgen(js_name = bearerFor)]
pub fn bearer_for(url: &str) -> Option<String> {
    let window = web_sys::window()?;
    let page_origin = window.location().origin().ok()?;
    let target = web_sys::Url::new_with_base(url, &window.location().href().ok()?).ok()?;
    let target_origin = target.origin();
    let now = oidc::now_seconds() as f64;
    GRANTS.with_borrow(|grants| {
        grants
            .iter()
            .find(|grant| {
                !grant.parked
                    && grant.session.expires_at > now
                    && (target_origin == page_origin || grant.origins.contains(&target_origin))
            })
            .map(|grant| grant.session.access_token.clone())
    })
}

/// The parked session of `tenant`, when it can still be used (its access
/// token is valid, or it can be renewed).
pub(crate) fn take_parked(tenant: &str) -> Option<Session> {
    let grant = take_grant(tenant)?;
    (grant.parked
        && (grant.session.expires_at > oidc::now_seconds() as f64
            || grant.session.refresh_token.is_some()))
    .then_some(grant.session)
}

/// Keeps `session` for the element of `tenant` that will be added again.
pub(crate) fn park(tenant: &str, session: Session) {
    grant(tenant, &[], Some(&session), true);
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::{bearer_for, grant};
    use crate::test_support::{session, tenant_config, window};

    const TENANT: &str = "unit-bearer";

    /// `Tessera.fetch` asks `bearer_for` whether a URL may carry the token.
    fn check(url: &str, expected: Option<&str>) {
        assert_eq!(bearer_for(url).as_deref(), expected, "bearer for {url}");
    }

    #[wasm_bindgen_test]
    fn bearer_token_goes_only_to_the_page_and_allowlisted_origins() {
        let config = tenant_config("memory", &["https://api.shop.example"]);
        grant(
            TENANT,
            &config.allowed_origins,
            Some(&session("token-1", None, 600.0)),
            false,
        );
        let page = window().location().origin().expect("an origin");
        check("/api/orders", Some("token-1"));
        check("api/orders?x=1", Some("token-1"));
        check(&format!("{page}/api/orders"), Some("token-1"));
        check("https://api.shop.example/orders", Some("token-1"));
        // Look-alike and downgraded origins, and URLs that merely mention an
        // allowed origin, get nothing.
        check("http://api.shop.example/orders", None);
        check("https://api.shop.example.evil.test/orders", None);
        check("https://api.shop.example:8443/orders", None);
        check("https://evil.test/?next=https://api.shop.example", None);
        check("//evil.test/orders", None);
        check("https://shop.example@evil.test/", None);
        grant(TENANT, &[], None, false);
        check("/api/orders", None);
    }

    #[wasm_bindgen_test]
    fn expired_token_is_never_attached() {
        let config = tenant_config("memory", &[]);
        grant(
            TENANT,
            &config.allowed_origins,
            Some(&session("token-old", None, -1.0)),
            false,
        );
        check("/api/orders", None);
        grant(TENANT, &[], None, false);
    }
}
