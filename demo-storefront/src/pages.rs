//! The storefront's HTML pages and their two assets.
//!
//! Pages are rendered once at start-up: the catalog is fixed and everything
//! per customer happens in the browser through `window.Tessera.fetch`, so no
//! page ever contains customer data. Each page carries the widget exactly as
//! the snippet endpoint prints it and answers with exactly the
//! Content-Security-Policy that endpoint prints (plus `default-src 'none'`
//! and the navigation directives, which only tighten it).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::Storefront;
use crate::catalog::{CATALOG, Product, format_price};

/// Where the `tessera` binary mounts the storefront; pages link to their
/// assets under it.
pub const MOUNT_PATH: &str = "/demo";

/// The widget as the builder's snippet endpoint prints it for this tenant.
#[derive(Debug, Clone)]
pub struct WidgetSnippets {
    /// The snippet's HTML in the default (redirect) mode.
    pub redirect_html: String,
    /// The snippet's HTML in popup mode (`mode=popup`).
    pub popup_html: String,
    /// The snippet's Content-Security-Policy header value.
    pub content_security_policy: String,
}

pub(crate) struct Pages {
    catalog: axum::body::Bytes,
    orders: axum::body::Bytes,
    policy: HeaderValue,
}

const NOT_BUILT: &str = "<p class=\"notice\">The sign-in widget is not built yet: run <code>cargo xtask dist</code> and restart.</p>";

/// The one escaper for text placed in the pages, in element content and in
/// quoted attribute values alike: `&`, `<`, `>`, `"` and `'` become
/// references, so no text can end an element or an attribute of either
/// quote.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn layout(title: &str, current: &str, widget: &str, main: &str) -> String {
    let link = |href: &str, label: &str| {
        let aria = if href == current {
            " aria-current=\"page\""
        } else {
            ""
        };
        format!(
            "<a href=\"{MOUNT_PATH}{href}\"{aria}>{label}</a>",
            href = escape(href),
            label = escape(label)
        )
    };
    format!(
        "<!doctype html>
<html lang=\"en\">
<head>
<meta charset=\"utf-8\">
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">
<title>{title} · Tessera tiles (demo shop)</title>
<link rel=\"stylesheet\" href=\"{MOUNT_PATH}/assets/shop.css\">
</head>
<body>
<header class=\"masthead\">
<p class=\"brand\">Tessera tiles <span class=\"tag\">demo shop</span></p>
<nav aria-label=\"Shop\">{catalog} {orders}</nav>
</header>
<main>
<section class=\"account\" aria-label=\"Your account\">
{widget}
</section>
{main}
<p id=\"status\" class=\"status\" role=\"status\" aria-live=\"polite\"></p>
</main>
<footer><p>This shop keeps your orders under a pseudonym from your identity provider. It never receives your name, email or phone number, and forgets you when your provider tells it to.</p></footer>
<script type=\"module\" src=\"{MOUNT_PATH}/assets/shop.js\"></script>
</body>
</html>
",
        title = escape(title),
        catalog = link("/", "Catalog"),
        orders = link("/orders", "My orders"),
    )
}

fn catalog_main(catalog: &[Product]) -> String {
    let products: String = catalog
        .iter()
        .map(|product| {
            format!(
                "<li class=\"product\">
<h3>{name}</h3>
<p>{description}</p>
<p class=\"price\">{price}</p>
<button type=\"button\" class=\"add\" data-sku=\"{sku}\" data-name=\"{name}\" data-price-cents=\"{cents}\">Add <span class=\"visually-hidden\">{name} </span>to basket</button>
</li>
",
                name = escape(product.name),
                description = escape(product.description),
                price = escape(&format_price(product.price_cents)),
                sku = escape(product.sku),
                cents = product.price_cents,
            )
        })
        .collect();
    format!(
        "<h1>Catalog</h1>
<ul class=\"products\" aria-label=\"Products\">
{products}</ul>
<section class=\"basket\" aria-labelledby=\"basket-title\">
<h2 id=\"basket-title\">Basket</h2>
<p id=\"basket-empty\">Your basket is empty.</p>
<ul id=\"basket-lines\"></ul>
<p id=\"basket-total\"></p>
<button type=\"button\" id=\"place-order\" disabled>Place order</button>
<p id=\"basket-hint\" class=\"hint\">Sign in to place an order.</p>
</section>"
    )
}

fn orders_main() -> String {
    "<h1>My orders</h1>
<p id=\"orders-signed-out\" class=\"hint\">Sign in to see your orders.</p>
<p id=\"orders-empty\" hidden>You have no orders yet.</p>
<ol id=\"order-list\" class=\"orders\" aria-label=\"Orders\"></ol>
<section class=\"privacy\" aria-labelledby=\"privacy-title\">
<h2 id=\"privacy-title\">Your data</h2>
<p>Download everything this shop holds about you.</p>
<button type=\"button\" id=\"export\" disabled>Download my data</button>
<pre id=\"export-output\" tabindex=\"0\" aria-label=\"Your data\" hidden></pre>
</section>"
        .to_owned()
}

impl Pages {
    pub(crate) fn new(widget: Option<crate::WidgetSnippets>) -> Pages {
        let (redirect, popup, snippet_policy) = match &widget {
            Some(snippets) => (
                snippets.redirect_html.as_str(),
                snippets.popup_html.as_str(),
                snippets.content_security_policy.clone(),
            ),
            // Without the widget the pages load only their own files.
            None => (
                NOT_BUILT,
                NOT_BUILT,
                "script-src 'self'; style-src 'self'".to_owned(),
            ),
        };
        let policy = format!(
            "default-src 'none'; {snippet_policy}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        );
        Pages {
            catalog: layout("Catalog", "/", redirect, &catalog_main(&CATALOG)).into(),
            // "My orders" signs in through a popup, so both modes are on show.
            orders: layout("My orders", "/orders", popup, &orders_main()).into(),
            policy: HeaderValue::from_str(&policy)
                .unwrap_or(HeaderValue::from_static("default-src 'none'")),
        }
    }

    fn page(&self, body: &axum::body::Bytes) -> Response {
        // The page was rendered once; a request clones a reference count.
        let mut response = axum::response::Html(body.clone()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_SECURITY_POLICY, self.policy.clone());
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        response
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

pub(crate) fn routes() -> Router<Storefront> {
    Router::new()
        .route(
            "/",
            get(|State(storefront): State<Storefront>| async move {
                storefront.inner.pages.page(&storefront.inner.pages.catalog)
            }),
        )
        .route(
            "/orders",
            get(|State(storefront): State<Storefront>| async move {
                storefront.inner.pages.page(&storefront.inner.pages.orders)
            }),
        )
        // A trailing slash is a common typo, not a different page.
        .route(
            "/orders/",
            get(|| async { Redirect::permanent(&format!("{MOUNT_PATH}/orders")) }),
        )
        .route(
            "/assets/shop.js",
            get(|| async {
                asset(
                    "text/javascript; charset=utf-8",
                    include_str!("../assets/shop.js"),
                )
            }),
        )
        .route(
            "/assets/shop.css",
            get(|| async {
                asset(
                    "text/css; charset=utf-8",
                    include_str!("../assets/shop.css"),
                )
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text a page interpolates, given all five characters, appears
    /// in the page only escaped: rendering it equals rendering a harmless
    /// placeholder with the escaped text put where the placeholder went.
    #[test]
    fn every_text_in_the_pages_is_escaped() {
        const RAW: &str = "Tom & Jerry's <b>\"tiles\"</b>";
        const ESCAPED: &str = "Tom &amp; Jerry&#39;s &lt;b&gt;&quot;tiles&quot;&lt;/b&gt;";
        const PLACEHOLDER: &str = "PLACEHOLDER";
        let check = |place: &str, render: &dyn Fn(&'static str) -> String| {
            let page = render(RAW);
            let expected = render(PLACEHOLDER).replace(PLACEHOLDER, ESCAPED);
            assert!(page.contains(ESCAPED), "{place}: not rendered");
            assert_eq!(page, expected, "{place}");
        };
        let product = |sku, name, description| Product {
            sku,
            name,
            description,
            price_cents: 450,
        };
        check("title", &|text| layout(text, "/", "", ""));
        check("name", &|text| catalog_main(&[product("sku", text, "d")]));
        check("description", &|text| {
            catalog_main(&[product("sku", "n", text)])
        });
        check("sku", &|text| catalog_main(&[product(text, "n", "d")]));
        assert_eq!(escape("&<>\"'"), "&amp;&lt;&gt;&quot;&#39;");
        assert_eq!(escape("plain €4.50"), "plain €4.50");
    }
}
