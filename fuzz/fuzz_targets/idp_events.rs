//! Each IdP's event format as `tessera-events` verifies and reads it: any
//! request must be accepted or refused, never panic. The first byte picks
//! the format (Logto, ZITADEL, Keycloak, Standard Webhooks, a logout
//! token's claims, a security event's claims); for the HMAC formats the
//! next line is the signature header's value (a valid signature is
//! computed for the body instead when that line is `sign`, so the readers
//! behind the signature are reached), the rest is the body. "Now" is fixed.
//! Seeds: a request of each format, signed.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tessera_events::formats;
use tessera_events::standard_webhooks::WebhookSecret;

const NOW: i64 = 1_768_472_493;
const KEY: &[u8] = b"fuzz-signing-key";

static SECRET: LazyLock<WebhookSecret> = LazyLock::new(|| {
    WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .expect("the example secret is valid")
});

fn hmac_hex(message: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, KEY);
    ring::hmac::sign(&key, message)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn headers(name: &'static str, value: &str) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    if let Ok(value) = http::HeaderValue::from_str(value) {
        map.insert(name, value);
    }
    map
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let (line, body) = match rest.iter().position(|&byte| byte == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let line = String::from_utf8_lossy(line);
    let sign = line == "sign";
    let outcome = match choice % 6 {
        0 => {
            let value = if sign { hmac_hex(body) } else { line.into_owned() };
            formats::logto(KEY, &headers("logto-signature-sha-256", &value), body, NOW).map(|_| ())
        }
        1 => {
            let value = if sign {
                let mut message = format!("{NOW}.").into_bytes();
                message.extend_from_slice(body);
                format!("t={NOW},v1={}", hmac_hex(&message))
            } else {
                line.into_owned()
            };
            formats::zitadel(KEY, &headers("zitadel-signature", &value), body, NOW).map(|_| ())
        }
        2 => {
            let value = if sign { hmac_hex(body) } else { line.into_owned() };
            formats::keycloak(KEY, &headers("x-keycloak-signature", &value), body, NOW).map(|_| ())
        }
        3 => {
            let mut map = headers("webhook-id", "msg_fuzz");
            let timestamp = NOW.to_string();
            let signature = if sign {
                SECRET.sign("msg_fuzz", NOW, body)
            } else {
                line.into_owned()
            };
            for (name, value) in [("webhook-timestamp", timestamp), ("webhook-signature", signature)] {
                if let Ok(value) = http::HeaderValue::from_str(&value) {
                    map.insert(name, value);
                }
            }
            formats::standard_webhooks(&SECRET, &map, body, NOW).map(|_| ())
        }
        choice => {
            let Ok(claims) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
            else {
                return;
            };
            if choice == 4 {
                formats::logout_token(&claims).map(|_| ())
            } else {
                formats::security_event(&claims).map(|_| ())
            }
        }
    };
    if let Err(error) = outcome {
        // Every refusal has a code and a message.
        assert!(!error.code().is_empty());
        let _ = error.to_string();
    }
});
