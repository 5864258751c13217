//! Standard Webhooks: signing deliveries, and verifying them.
//!
//! A delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature` (space-separated `v1,<base64>` entries); the signature
//! is HMAC-SHA256 over `{id}.{timestamp}.{body}` with the secret that follows
//! `whsec_` in its base64 form. The comparison is constant-time
//! (`ring::hmac::verify`), the timestamp must lie within [`TOLERANCE_SECONDS`]
//! of now either way, and the id is checked against earlier deliveries by the
//! caller so that a captured delivery cannot be replayed.
//!
//! What it is not: it does not parse the event (see `crate::formats`) and
//! does no I/O.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// How far a delivery's timestamp may be from now, either way.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// The largest webhook body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A webhook signing secret (`whsec_` followed by base64).
#[derive(Clone)]
pub struct WebhookSecret {
    key: ring::hmac::Key,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        formatter.write_str("WebhookSecret(..)")
    }
}

/// Why a delivery was refused. Each becomes a 401 that erases nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A required header is absent or not text.
    #[error("the `{0}` header is missing")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not Unix seconds written as ASCII digits
    /// alone (no sign, no space) that fit an `i64`.
    #[error("`webhook-timestamp` is not Unix seconds")]
    MalformedTimestamp,
    /// The timestamp is outside the tolerance.
    #[error("the delivery's timestamp is more than {TOLERANCE_SECONDS} s away from now")]
    TimestampOutOfTolerance,
    /// No `v1` signature matches.
    #[error("no `v1` signature matches the body")]
    BadSignature,
    /// This `webhook-id` was delivered before.
    #[error("this `webhook-id` was already delivered")]
    Replayed,
}

impl WebhookError {
    /// A stable code for the error response.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::MissingHeader(_) => "webhook_header_missing",
            WebhookError::MalformedTimestamp => "webhook_timestamp_malformed",
            WebhookError::TimestampOutOfTolerance => "webhook_timestamp_out_of_tolerance",
            WebhookError::BadSignature => "webhook_signature_invalid",
            WebhookError::Replayed => "webhook_replayed",
        }
    }
}

/// The headers of one delivery.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// `webhook-id`.
    pub id: &'a str,
    /// `webhook-timestamp`.
    pub timestamp: &'a str,
    /// `webhook-signature`.
    pub signature: &'a str,
}

impl WebhookSecret {
    /// Parses `whsec_<base64>`; the key must be 24 to 64 bytes.
    pub fn parse(text: &str) -> Result<WebhookSecret, String> {
        let encoded = text
            .trim()
            .strip_prefix("whsec_")
            .ok_or_else(|| "a webhook secret starts with `whsec_` followed by base64".to_owned())?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| "the webhook secret after `whsec_` is not valid base64".to_owned())?;
        if !(24..=64).contains(&bytes.len()) {
            return Err(format!(
                "the webhook secret is {} bytes; it must be 24 to 64",
                bytes.len()
            ));
        }
        Ok(WebhookSecret::from_bytes(&bytes))
    }

    /// A secret from raw key bytes.
    pub fn from_bytes(bytes: &[u8]) -> WebhookSecret {
        WebhookSecret {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, bytes),
        }
    }

    /// Creates a fresh random secret and its `whsec_` text.
    pub fn generate() -> Result<(WebhookSecret, String), String> {
        let mut bytes = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .map_err(|_| "the system's random number generator failed".to_owned())?;
        Ok((
            WebhookSecret::from_bytes(&bytes),
            format!("whsec_{}", STANDARD.encode(bytes)),
        ))
    }

    fn signed_content(id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
        let mut content = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
        content.extend_from_slice(id.as_bytes());
        content.push(b'.');
        content.extend_from_slice(timestamp.as_bytes());
        content.push(b'.');
        content.extend_from_slice(body);
        content
    }

    /// The `webhook-signature` value for a delivery (what the sender sends).
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let content = Self::signed_content(id, &timestamp.to_string(), body);
        let tag = ring::hmac::sign(&self.key, &content);
        format!("v1,{}", STANDARD.encode(tag.as_ref()))
    }

    /// Checks a delivery's timestamp and signature at `now` (Unix seconds).
    /// Replay by id is the caller's check, since it needs storage.
    pub fn verify(
        &self,
        delivery: Delivery<'_>,
        body: &[u8],
        now: i64,
    ) -> Result<(), WebhookError> {
        if delivery.id.is_empty() {
            return Err(WebhookError::MissingHeader("webhook-id"));
        }
        let timestamp = parse_timestamp(delivery.timestamp)?;
        // The header is the sender's: `abs_diff` cannot overflow where
        // `now - timestamp` would (an `i64::MIN` timestamp, say).
        if now.abs_diff(timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
            return Err(WebhookError::TimestampOutOfTolerance);
        }
        let content = Self::signed_content(delivery.id, delivery.timestamp, body);
        let matches = delivery
            .signature
            .split(' ')
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|encoded| STANDARD.decode(encoded).ok())
            .any(|tag| ring::hmac::verify(&self.key, &content, &tag).is_ok());
        if matches {
            Ok(())
        } else {
            Err(WebhookError::BadSignature)
        }
    }
}

/// Reads `webhook-timestamp`: Unix seconds as ASCII digits alone, which is
/// how every Standard Webhooks sender writes them. A sign, a space or a
/// number beyond `i64` is malformed, so one moment has one text (the text
/// is what the signature covers) and nothing later can overflow.
fn parse_timestamp(text: &str) -> Result<i64, WebhookError> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(WebhookError::MalformedTimestamp);
    }
    text.parse().map_err(|_| WebhookError::MalformedTimestamp)
}
