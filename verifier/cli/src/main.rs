//! `tessera-verify`: verify one passport (a compact JWT) against a JWKS file.
//!
//! It prints the verified header and claims as JSON and exits 0, or prints
//! `{"error":{"code":...,"message":...}}` and exits 1 when the token is
//! rejected; the codes are the verifier's stable codes. Usage errors (bad
//! flags, an unreadable or invalid key file) exit 2 with a message on stderr.
//! It never fetches anything: the key file may be a JWKS document or a
//! snapshot exported for air-gapped use.

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Parser;
use serde_json::json;
use tessera_verifier::jwks_cache::key_set_from_document_or_snapshot;
use tessera_verifier::{Clock, PersonalData, Verifier};

/// Verify a passport (JWT) against a JSON Web Key Set file.
///
/// Prints the verified header and claims as JSON and exits 0; prints
/// {"error":{"code":...,"message":...}} and exits 1 when the token is rejected;
/// exits 2 on usage errors.
#[derive(Debug, Parser)]
#[command(name = "tessera-verify", version)]
struct Arguments {
    /// JWKS document or key set snapshot to verify with.
    #[arg(long, value_name = "FILE")]
    jwks: PathBuf,
    /// Expected issuer (`iss`); may be given more than once.
    #[arg(long = "issuer", value_name = "ISS", required = true)]
    issuers: Vec<String>,
    /// Expected audience (`aud`); may be given more than once.
    #[arg(long = "audience", value_name = "AUD", required = true)]
    audiences: Vec<String>,
    /// Comma-separated algorithm allowlist, e.g. ES256,EdDSA.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    algorithms: Option<Vec<String>>,
    /// Seconds of clock skew tolerated on exp, nbf and iat.
    #[arg(long, value_name = "S", default_value_t = 0)]
    clock_tolerance: u64,
    /// Reject tokens issued (iat) more than S seconds ago.
    #[arg(long, value_name = "S")]
    max_token_age: Option<u64>,
    /// Required header typ, e.g. at+jwt (an application/ prefix is ignored).
    #[arg(long, value_name = "T")]
    typ: Option<String>,
    /// Verify as if the current time were this Unix time.
    #[arg(long, value_name = "UNIX")]
    now: Option<i64>,
    /// Reject tokens that carry claims identifying a person (email, name...).
    #[arg(long)]
    reject_pii: bool,
    /// The token, or - to read one line from standard input.
    #[arg(value_name = "TOKEN")]
    token: String,
}

fn main() -> ExitCode {
    let arguments = Arguments::parse();
    match run(arguments) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("tessera-verify: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(arguments: Arguments) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&arguments.jwks)
        .with_context(|| format!("cannot read the key file {}", arguments.jwks.display()))?;
    let key_set = key_set_from_document_or_snapshot(&text)
        .with_context(|| format!("cannot use the key file {}", arguments.jwks.display()))?;
    let mut builder = Verifier::builder()
        .key_set(key_set)
        .clock_tolerance_seconds(arguments.clock_tolerance);
    for issuer in arguments.issuers {
        builder = builder.issuer(issuer);
    }
    for audience in arguments.audiences {
        builder = builder.audience(audience);
    }
    if let Some(algorithms) = arguments.algorithms {
        builder = builder.algorithms(algorithms)?;
    }
    if let Some(seconds) = arguments.max_token_age {
        builder = builder.max_token_age_seconds(seconds);
    }
    if let Some(media_type) = arguments.typ {
        builder = builder.expected_type(media_type);
    }
    if let Some(now) = arguments.now {
        builder = builder.clock(Clock::Fixed(now));
    }
    if arguments.reject_pii {
        builder = builder.personal_data(PersonalData::Reject);
    }
    let verifier = builder.build()?;

    let token = if arguments.token == "-" {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the token from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        arguments.token
    };
    if token.is_empty() {
        bail!("the token is empty");
    }

    match verifier.verify(&token) {
        Ok(passport) => {
            println!("{}", serde_json::to_string_pretty(&passport.to_json())?);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            let mut body = json!({"code": error.code(), "message": error.to_string()});
            if let Some(claim) = error.claim() {
                body["claim"] = json!(claim);
            }
            println!("{}", json!({ "error": body }));
            Ok(ExitCode::from(1))
        }
    }
}
