//! The claim rules: types of registered claims, time checks, issuer, audience,
//! subject, required claims and the personal-data guard.
//!
//! These functions take the current time as an argument and read nothing from
//! the environment, so every rule can be tested with a fixed clock.

use crate::compact::{Keep, Raw, TopLevel, Wanted};
use crate::error::{VerifyError, printable};

/// The OpenID Connect standard claims about the end user (Core 1.0 section
/// 5.1), except `sub` and the `*_verified` booleans. With
/// [`PersonalData::Reject`](crate::PersonalData::Reject) a token carrying any of
/// them is refused, and the widget removes them before the page sees a
/// passport. `locale`, `zoneinfo` and `updated_at` are on the list too: alone
/// they do not name anyone, together with a pseudonymous `sub` they profile
/// a person. `sub`, roles, scopes and `*_verified` booleans are not: they are
/// what a zero-knowledge shop is allowed to see.
pub const PERSONAL_DATA_CLAIMS: [&str; 17] = [
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "address",
    "birthdate",
    "picture",
    "profile",
    "website",
    "gender",
    "zoneinfo",
    "locale",
    "updated_at",
];

/// The registered claims (all seven of RFC 7519 section 4.1), which the
/// rules read.
pub(crate) const REGISTERED_CLAIMS: Wanted = &[
    ("exp", Keep::Value),
    ("nbf", Keep::Value),
    ("iat", Keep::Value),
    ("iss", Keep::Value),
    ("sub", Keep::Value),
    ("jti", Keep::Value),
    ("aud", Keep::Value),
];

/// A payload read for the claim rules (`compact::read_object` with
/// [`REGISTERED_CLAIMS`]): no map is built.
pub(crate) type ClaimSet<'de> = TopLevel<'de>;

/// Checks that registered claims have the types RFC 7519 gives them, so that a
/// later rule can never be confused by, say, an `exp` that is a string.
pub(crate) fn check_claim_types(claims: &ClaimSet<'_>) -> Result<(), VerifyError> {
    for name in ["exp", "nbf", "iat"] {
        if let Some(value) = claims.get(name)
            && !matches!(value, Raw::Number(_))
        {
            return Err(VerifyError::InvalidClaimType {
                claim: name.to_owned(),
                reason: "must be a JSON number (NumericDate)",
            });
        }
    }
    for name in ["iss", "sub", "jti"] {
        if let Some(value) = claims.get(name)
            && !matches!(value, Raw::Str(_))
        {
            return Err(VerifyError::InvalidClaimType {
                claim: name.to_owned(),
                reason: "must be a string",
            });
        }
    }
    match claims.get("aud") {
        None | Some(Raw::Str(_) | Raw::Strings(_)) => {}
        Some(_) => {
            return Err(VerifyError::InvalidClaimType {
                claim: "aud".to_owned(),
                reason: "must be a string or an array of strings",
            });
        }
    }
    Ok(())
}

/// A string claim's value (`None` when absent or not a string).
pub(crate) fn string_claim<'c>(claims: &'c ClaimSet<'_>, name: &str) -> Option<&'c str> {
    match claims.get(name) {
        Some(Raw::Str(text)) => Some(text),
        _ => None,
    }
}

/// The time-based rules, which a cached passport must pass again on every hit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeRules {
    pub clock_tolerance: u64,
    pub max_token_age: Option<u64>,
    /// Tokens carry no `exp` (Security Event Tokens); one that does is
    /// refused.
    pub without_expiry: bool,
}

/// The time claims of a verified token (`exp`, `nbf`, `iat`), kept apart
/// from the rest so that a cache outside this crate (the npm package's) can
/// keep them beside a passport and have the rules re-checked on a hit
/// ([`Verifier::still_valid`](crate::Verifier::still_valid)).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TimeClaims {
    /// `exp`, when the token has one.
    pub expires_at: Option<f64>,
    /// `nbf`, when the token has one.
    pub not_before: Option<f64>,
    /// `iat`, when the token has one.
    pub issued_at: Option<f64>,
}

impl TimeClaims {
    /// Reads the time claims of a claim set (a claim that is not a number is
    /// taken as absent: the type rules refuse such tokens before this).
    pub(crate) fn of(claims: &ClaimSet<'_>) -> TimeClaims {
        let number = |name: &str| match claims.get(name) {
            Some(Raw::Number(number)) => Some(*number),
            _ => None,
        };
        TimeClaims {
            expires_at: number("exp"),
            not_before: number("nbf"),
            issued_at: number("iat"),
        }
    }
}

pub(crate) fn check_time(
    claims: &ClaimSet<'_>,
    now: i64,
    rules: TimeRules,
) -> Result<(), VerifyError> {
    if rules.without_expiry && claims.has("exp") {
        return Err(VerifyError::claim_invalid(
            "exp",
            "must be absent from this type of token",
        ));
    }
    check_time_claims(TimeClaims::of(claims), now, rules)
}

/// The time rules, on the time claims alone: every time-based verdict of
/// this crate, first or from a cache, comes from here.
pub(crate) fn check_time_claims(
    times: TimeClaims,
    now: i64,
    rules: TimeRules,
) -> Result<(), VerifyError> {
    let now = now as f64;
    let tolerance = rules.clock_tolerance as f64;

    if rules.without_expiry {
        if times.expires_at.is_some() {
            return Err(VerifyError::claim_invalid(
                "exp",
                "must be absent from this type of token",
            ));
        }
    } else {
        let expires_at = times
            .expires_at
            .ok_or_else(|| VerifyError::claim_invalid("exp", "is missing"))?;
        if now - tolerance >= expires_at {
            return Err(VerifyError::Expired { claim: "exp" });
        }
    }
    if let Some(not_before) = times.not_before
        && not_before > now + tolerance
    {
        return Err(VerifyError::claim_invalid(
            "nbf",
            "the token is not valid yet",
        ));
    }
    if let Some(max_age) = rules.max_token_age {
        let issued_at = times.issued_at.ok_or_else(|| {
            VerifyError::claim_invalid("iat", "is missing and a maximum token age is set")
        })?;
        if issued_at > now + tolerance {
            return Err(VerifyError::claim_invalid("iat", "lies in the future"));
        }
        if now - issued_at > max_age as f64 + tolerance {
            return Err(VerifyError::Expired { claim: "iat" });
        }
    }
    Ok(())
}

/// Whether `audience` (a string or an array of strings) names any of `expected`.
pub(crate) fn audience_matches(audience: &Raw<'_>, expected: &[String]) -> bool {
    match audience {
        Raw::Str(single) => expected.iter().any(|wanted| wanted == single),
        Raw::Strings(many) => many
            .iter()
            .any(|item| expected.iter().any(|wanted| wanted == item)),
        _ => false,
    }
}

/// Lower-cases a media type and removes an `application/` prefix, as RFC 7515
/// section 4.1.9 recommends for comparing `typ` values.
pub(crate) fn normalize_media_type(media_type: &str) -> String {
    let lower = media_type.to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) if !rest.contains('/') => rest.to_owned(),
        _ => lower,
    }
}

pub(crate) fn first_personal_data_claim(claims: &ClaimSet<'_>) -> Option<&'static str> {
    PERSONAL_DATA_CLAIMS
        .iter()
        .copied()
        .find(|name| claims.has(name))
}

pub(crate) fn missing(claim: &str) -> VerifyError {
    VerifyError::claim_invalid(&printable(claim), "is missing")
}
