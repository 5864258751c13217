//! The demo storefront's Standard Webhooks verifier: any delivery given to
//! `WebhookSecret::verify` must be accepted or refused, never panic. The input
//! is the `webhook-id`, `webhook-timestamp` and `webhook-signature` header
//! values, one per line, then the body; the secret is the Standard Webhooks
//! example secret and "now" is fixed. Seeds: signed deliveries, a stale one,
//! a bad signature and the timestamp of issue 11 item 16.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tessera_storefront::webhooks::{Delivery, WebhookSecret};

const NOW: i64 = 1_800_000_000;

static SECRET: LazyLock<WebhookSecret> = LazyLock::new(|| {
    WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .expect("the example secret is valid")
});

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(4, |&byte| byte == b'\n');
    let (Some(id), Some(timestamp), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let body = parts.next().unwrap_or_default();
    let (Ok(id), Ok(timestamp), Ok(signature)) = (
        std::str::from_utf8(id),
        std::str::from_utf8(timestamp),
        std::str::from_utf8(signature),
    ) else {
        return;
    };
    let delivery = Delivery {
        id,
        timestamp,
        signature,
    };
    if let Err(error) = SECRET.verify(delivery, body, NOW) {
        let _ = (error.code(), error.to_string());
    }
});
