//! The identity-provider guides of `docs/idp/`, in the console: compiled
//! into the binary and rendered from Markdown once, so the wizard shows the
//! steps for the chosen IdP's own console without the admin opening the
//! repository (and without anything fetched from elsewhere).
//!
//! What it is not: a Markdown renderer for what admins type. Only these
//! files are rendered, and raw HTML in them is shown as text.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use pulldown_cmark::{Event, Options, Parser, html};

/// The guides by file name, as written in `docs/idp/`.
const SOURCES: [(&str, &str); 9] = [
    ("README.md", include_str!("../../../docs/idp/README.md")),
    ("logto.md", include_str!("../../../docs/idp/logto.md")),
    ("zitadel.md", include_str!("../../../docs/idp/zitadel.md")),
    ("keycloak.md", include_str!("../../../docs/idp/keycloak.md")),
    ("auth0.md", include_str!("../../../docs/idp/auth0.md")),
    ("entra-id.md", include_str!("../../../docs/idp/entra-id.md")),
    ("google.md", include_str!("../../../docs/idp/google.md")),
    ("generic.md", include_str!("../../../docs/idp/generic.md")),
    (
        "reconcile.md",
        include_str!("../../../docs/idp/reconcile.md"),
    ),
];

/// Renders Markdown to HTML: tables on, raw HTML escaped, and links to
/// sibling guides (`logto.md`) pointed at their console pages.
fn render(markdown: &str) -> String {
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(pulldown_cmark::Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let local = SOURCES
                .iter()
                .find(|(name, _)| dest_url.as_ref() == *name)
                .map(|(name, _)| format!("/console/guides/{name}"));
            Event::Start(pulldown_cmark::Tag::Link {
                link_type,
                dest_url: local.map_or(dest_url, Into::into),
                title,
                id,
            })
        }
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// The rendered guide called `name` (`logto.md`), if there is one.
pub fn guide(name: &str) -> Option<&'static str> {
    static RENDERED: OnceLock<BTreeMap<&'static str, String>> = OnceLock::new();
    RENDERED
        .get_or_init(|| {
            SOURCES
                .iter()
                .map(|(name, source)| (*name, render(source)))
                .collect()
        })
        .get(name)
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guide_renders_and_raw_html_stays_text() {
        for (name, _) in SOURCES {
            let html = guide(name).unwrap();
            assert!(html.contains("<h1>"), "{name}");
            assert!(!html.contains("<script"), "{name}");
        }
        assert!(guide("../../secrets.md").is_none());
        let html = render(
            "# T\n\n<script>alert(1)</script>\n\nSee [Logto](logto.md), [x](https://x.example).",
        );
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("href=\"/console/guides/logto.md\""), "{html}");
        assert!(html.contains("href=\"https://x.example\""), "{html}");
    }
}
