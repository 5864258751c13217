//! The development issuer's HTML: the consent page, the error page and the
//! signed-out page. Every text placed in a page goes through [`escape`].
//!
//! What it is not: HTTP. Handlers set the status and headers (the consent
//! page's nonce-based CSP lives in `authorize.rs`).

use super::authorize::{AuthorizeRequest, DEMO_USERS};

/// The page shown after a sign-out that returns nowhere.
pub(super) const SIGNED_OUT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed out</title></head>\
     <body><main><h1>You are signed out</h1></main></body></html>";

/// A page that tells the user why a request was refused.
pub(super) fn error_page(message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in error</title></head>\
         <body><main><h1>Sign-in error</h1><p>{}</p></main></body></html>",
        escape(message)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The consent page for `request` from the shop `shop`: the demo users to
/// pick from, a name to type, Allow and Deny. The request's parameters go
/// back as hidden fields; the page's one stylesheet carries `style_nonce`.
pub(super) fn consent(request: &AuthorizeRequest, shop: &str, style_nonce: &str) -> String {
    let hidden = |name: &str, value: &Option<String>| match value {
        Some(value) => format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        ),
        None => String::new(),
    };
    let forwarded = [
        ("response_type", &request.response_type),
        ("client_id", &request.client_id),
        ("redirect_uri", &request.redirect_uri),
        ("scope", &request.scope),
        ("state", &request.state),
        ("nonce", &request.nonce),
        ("code_challenge", &request.code_challenge),
        ("code_challenge_method", &request.code_challenge_method),
    ]
    .iter()
    .map(|(name, value)| hidden(name, value))
    .collect::<String>();
    let users = DEMO_USERS
        .iter()
        .enumerate()
        .map(|(index, user)| {
            format!(
                "<label class=\"user\"><input type=\"radio\" name=\"user\" value=\"{}\"{}> {} <small>{}</small></label>",
                user.id,
                if index == 0 { " checked" } else { "" },
                escape(user.name),
                escape(user.email)
            )
        })
        .collect::<String>();
    let shop = escape(shop);
    let lang = request
        .ui_locales
        .as_deref()
        .and_then(|locales| locales.split_whitespace().next())
        .filter(|tag| tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or("en");
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development sign-in</title>
<style nonce="{style_nonce}">
body {{ font-family: system-ui, sans-serif; background: #f1f5f9; color: #0f172a; margin: 0; }}
main {{ max-width: 28rem; margin: 3rem auto; background: #fff; border: 1px solid #cbd5e1; border-radius: 12px; padding: 1.5rem; }}
.user {{ display: block; padding: .5rem 0; }} small {{ color: #475569; }}
button {{ font: inherit; padding: .5rem 1rem; border-radius: 8px; border: 1px solid #1d4ed8; margin-right: .5rem; }}
.allow {{ background: #1d4ed8; color: #fff; }} .deny {{ background: #fff; color: #1d4ed8; }}
button:focus-visible, input:focus-visible {{ outline: 3px solid #1d4ed8; outline-offset: 2px; }}
.note {{ color: #475569; font-size: .875rem; }}
</style></head>
<body><main>
<h1>Development sign-in</h1>
<p><strong>{shop}</strong> asks to sign you in. It will receive a pseudonym only: never the name or email below.</p>
<form method="post" action="/dev/oidc/authorize">
{forwarded}
<fieldset><legend>Demo user</legend>{users}
<label class="user"><input type="radio" name="user" value="typed"> Someone else: <input name="typed_name" aria-label="Demo user name" maxlength="40"></label>
</fieldset>
<p><button class="allow" type="submit" name="decision" value="allow">Allow</button>
<button class="deny" type="submit" name="decision" value="deny">Deny</button></p>
<p class="note">This issuer exists for development only and asks for no password.</p>
</form></main></body></html>"#
    )
}
