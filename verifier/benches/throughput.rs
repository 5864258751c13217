//! Native throughput of the verifier, for `cargo xtask bench verifier`.
//!
//! Reads the keys and tokens the Node benchmark wrote
//! (`$TESSERA_BENCH_TOKENS`, so every figure is on the same tokens) and prints
//! one JSON object: operations per second on one thread for the raw
//! signature check, the full verification, and the cached verification.
//! Built with the `aws-lc` feature, the figures are aws-lc's and their names
//! say so; `cargo xtask bench verifier` runs it both ways.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tessera_verifier::{Algorithm, KeySet, Verifier};

fn measure(mut run: impl FnMut()) -> u64 {
    let seconds: f64 = std::env::var("TESSERA_BENCH_SECONDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1.5);
    let warm_up = Instant::now();
    while warm_up.elapsed() < Duration::from_millis(200) {
        run();
    }
    let start = Instant::now();
    let mut count = 0u64;
    loop {
        for _ in 0..64 {
            run();
        }
        count += 64;
        if start.elapsed().as_secs_f64() >= seconds {
            break;
        }
    }
    (count as f64 / start.elapsed().as_secs_f64()) as u64
}

/// The names of this build's figures: ring's by default, aws-lc's with the
/// `aws-lc` feature.
const NAMES: [&str; 3] = if cfg!(feature = "aws-lc") {
    [
        "aws-lc raw signature",
        "tessera native (aws-lc)",
        "tessera native cached (aws-lc)",
    ]
} else {
    [
        "ring raw signature",
        "tessera native",
        "tessera native cached",
    ]
};

fn main() {
    let [raw_name, full_name, cached_name] = NAMES;
    let path = std::env::var("TESSERA_BENCH_TOKENS")
        .expect("set TESSERA_BENCH_TOKENS to the tokens.json the Node benchmark wrote");
    let input: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let key_set = KeySet::from_value(input["jwks"].clone()).unwrap();
    let issuer = input["issuer"].as_str().unwrap();
    let audience = input["audience"].as_str().unwrap();
    let mut results = Vec::new();
    for (name, algorithm) in [
        ("RS256", Algorithm::RS256),
        ("ES256", Algorithm::ES256),
        ("EdDSA", Algorithm::EdDSA),
    ] {
        let token = input["tokens"][name].as_str().unwrap();
        let (signing_input, signature) = token.rsplit_once('.').unwrap();
        let signature =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
                .unwrap();
        let key = key_set
            .keys()
            .iter()
            .find(|key| key.key_id() == Some(name))
            .unwrap();
        key.verify_signature(algorithm, signing_input.as_bytes(), &signature)
            .unwrap();
        let raw = measure(|| {
            key.verify_signature(algorithm, signing_input.as_bytes(), &signature)
                .unwrap();
        });
        results.push(json!({"library": raw_name, "alg": name, "ops": raw}));

        let build = |cache: Option<usize>| {
            let builder = Verifier::builder()
                .issuer(issuer)
                .audience(audience)
                .key_set(key_set.clone());
            match cache {
                Some(capacity) => builder.verified_token_cache(capacity),
                None => builder,
            }
            .build()
            .unwrap()
        };
        let verifier = build(None);
        assert_eq!(
            verifier.verify(token).unwrap().subject(),
            Some("pairwise-bench")
        );
        let full = measure(|| {
            verifier.verify(token).unwrap();
        });
        results.push(json!({"library": full_name, "alg": name, "ops": full}));

        let cached = build(Some(1000));
        let cached_ops = measure(|| {
            cached.verify(token).unwrap();
        });
        results.push(json!({"library": cached_name, "alg": name, "ops": cached_ops}));
    }
    println!("{}", json!({ "results": results }));
}
