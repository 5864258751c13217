//! Benchmarks that print each figure beside its anchor, all measured in the
//! same run on the same machine and the same tokens.
//!
//! `bench verifier` measures: OpenSSL's raw verify (`openssl speed`), the
//! native verifier and raw ring (`cargo bench --bench throughput`), and in
//! Node the WASM package, jose and fast-jwt (`verify.bench.mjs`), each on one
//! core. The Node script makes the keys and tokens and the native benchmark
//! reads them, so all figures are on the same tokens.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::dist;
use crate::util::{output, step};

const ALGORITHMS: [&str; 3] = ["RS256", "ES256", "EdDSA"];

type Figures = HashMap<(String, String), f64>;

fn collect(figures: &mut Figures, json: &str) -> anyhow::Result<()> {
    let value: Value = serde_json::from_str(json.trim().lines().last().unwrap_or_default())
        .context("a benchmark printed no JSON")?;
    for result in value["results"].as_array().into_iter().flatten() {
        let library = result["library"].as_str().unwrap_or_default().to_owned();
        let algorithm = result["alg"].as_str().unwrap_or_default().to_owned();
        figures.insert((library, algorithm), result["ops"].as_f64().unwrap_or(0.0));
    }
    Ok(())
}

/// Runs `openssl speed` for the raw verify anchors.
fn openssl(figures: &mut Figures) -> anyhow::Result<()> {
    let text = output(
        "openssl",
        &["speed", "-seconds", "2", "rsa2048", "ecdsap256", "ed25519"],
    )?;
    for line in text.lines() {
        let algorithm = if line.starts_with("rsa 2048 bits") {
            "RS256"
        } else if line.contains("(nistp256)") {
            "ES256"
        } else if line.contains("(Ed25519)") {
            "EdDSA"
        } else {
            continue;
        };
        let verify_per_second: f64 = line
            .split_whitespace()
            .last()
            .and_then(|figure| figure.parse().ok())
            .with_context(|| format!("cannot read openssl's line `{line}`"))?;
        figures.insert(
            ("openssl raw verify".into(), algorithm.into()),
            verify_per_second,
        );
    }
    if figures.len() < 3 {
        bail!("openssl speed printed no verify rates");
    }
    Ok(())
}

/// The verifier benchmark.
pub fn verifier() -> anyhow::Result<()> {
    let artifacts = dist::run()?;
    let brotli: usize = artifacts.iter().map(|artifact| artifact.brotli).sum();
    let out = Path::new("target/bench");
    std::fs::create_dir_all(out)?;
    let tokens = std::fs::canonicalize(out)?.join("tokens.json");

    let mut figures = Figures::new();
    step("Node: @tessera/verifier, jose, fast-jwt (one core)");
    collect(
        &mut figures,
        &output(
            "node",
            &[
                "verifier/wasm/bench/verify.bench.mjs",
                &out.to_string_lossy(),
            ],
        )?,
    )?;
    step("native: tessera-verifier and ring (one thread)");
    let native = std::process::Command::new("cargo")
        .args([
            "bench",
            "--quiet",
            "--package",
            "tessera-verifier",
            "--bench",
            "throughput",
        ])
        .env("TESSERA_BENCH_TOKENS", &tokens)
        .output()
        .context("cannot run cargo bench")?;
    if !native.status.success() {
        bail!(
            "the native benchmark failed: {}",
            String::from_utf8_lossy(&native.stderr)
        );
    }
    collect(&mut figures, &String::from_utf8_lossy(&native.stdout))?;
    step("OpenSSL: raw signature verify (one core)");
    openssl(&mut figures)?;

    let figure = |library: &str, algorithm: &str| {
        figures
            .get(&(library.to_owned(), algorithm.to_owned()))
            .copied()
            .unwrap_or(0.0)
    };
    println!("\nverifications per second, one core, same tokens, same run");
    println!(
        "{:<44} {:>20} {:>20} {:>20}",
        "figure (anchor)", "RS256", "ES256", "EdDSA"
    );
    let rows: [(&str, &str, &str, f64); 5] = [
        (
            "tessera native",
            "openssl raw verify",
            "native vs OpenSSL raw (target >= 0.9x)",
            0.9,
        ),
        (
            "ring raw signature",
            "openssl raw verify",
            "ring raw vs OpenSSL raw (for context)",
            0.0,
        ),
        (
            "tessera wasm",
            "jose",
            "WASM in Node vs jose (target >= 1x, stretch 2x)",
            1.0,
        ),
        (
            "tessera native cached",
            "fast-jwt cached",
            "native cached vs fast-jwt cached (target >= 1x)",
            1.0,
        ),
        (
            "tessera wasm cached",
            "fast-jwt cached",
            "WASM cached vs fast-jwt cached (reported)",
            0.0,
        ),
    ];
    let mut missed = Vec::new();
    for (ours, anchor, title, target) in rows {
        println!("{title}");
        let mut line_ours = format!("  {ours:<42}");
        let mut line_anchor = format!("  {anchor:<42}");
        let mut line_ratio = format!("  {:<42}", "ratio");
        for algorithm in ALGORITHMS {
            let (mine, theirs) = (figure(ours, algorithm), figure(anchor, algorithm));
            let ratio = if theirs > 0.0 { mine / theirs } else { 0.0 };
            line_ours.push_str(&format!(" {mine:>20.0}"));
            line_anchor.push_str(&format!(" {theirs:>20.0}"));
            line_ratio.push_str(&format!(" {:>19.2}x", ratio));
            if target > 0.0 && ratio < target {
                missed.push(format!(
                    "{ours} {algorithm}: {ratio:.2}x (target {target}x)"
                ));
            }
        }
        println!("{line_ours}\n{line_anchor}\n{line_ratio}");
    }
    println!("\nfast-jwt without its cache, for context:");
    let mut line = format!("  {:<42}", "fast-jwt");
    for algorithm in ALGORITHMS {
        line.push_str(&format!(" {:>20.0}", figure("fast-jwt", algorithm)));
    }
    println!("{line}");
    println!(
        "\n@tessera/verifier shipped size (index.js + glue + wasm, brotli): {brotli} bytes \
         (target <= 100 KB = 102400 bytes, stretch 50 KB)"
    );
    if brotli > 102_400 {
        missed.push(format!(
            "package size {brotli} bytes brotli (target 102400)"
        ));
    }
    if missed.is_empty() {
        println!("\nevery target met in this run");
    } else {
        println!("\ntargets missed in this run:");
        for line in missed {
            println!("  {line}");
        }
    }
    Ok(())
}
