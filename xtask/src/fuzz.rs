//! Runs the cargo-fuzz targets of `fuzz/` for a fixed time each and reports,
//! per target, the executions and crashes libFuzzer counted.
//!
//! The targets live in their own workspace (`fuzz/Cargo.toml`, its own lock
//! file and target folder), so libFuzzer and the fuzzing compiler flags never
//! reach the main workspace's builds. `cargo fuzz` passes nightly-only flags
//! to rustc, so it runs with `RUSTC_BOOTSTRAP=1` on the stable toolchain.
//! Targets are built without a sanitizer: the workspace forbids `unsafe`, so
//! what fuzzing can find here are panics (overflow checks and debug
//! assertions are on), timeouts and runaway memory, and AddressSanitizer
//! would halve the executions without looking at anything more.
//!
//! Each run reads the committed seeds in `fuzz/corpus/<target>/` and writes
//! what it learns to `fuzz/target/corpus/<target>/` (not committed), so the
//! seeds stay small and reviewed. Crash reproducers land in
//! `fuzz/artifacts/<target>/` (not committed either).

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use clap::ValueEnum;

use crate::setup::TOOLS_ROOT;
use crate::util::{output, run as run_program, step};

/// The cargo-fuzz release installed into [`TOOLS_ROOT`].
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Seconds per target of `cargo xtask fuzz` without `--seconds`.
pub const DEFAULT_SECONDS: u64 = 60;

/// Seconds per target of the smoke run in `cargo xtask test`.
pub const SMOKE_SECONDS: u64 = 15;

/// A single input running longer than this counts as a crash (a hang).
const INPUT_TIMEOUT_SECONDS: u64 = 10;

/// The fuzz targets, named as in `fuzz/Cargo.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// The verifier's compact token parser and `Verifier::verify`.
    #[value(name = "compact_token")]
    CompactToken,
    /// The verifier's key-set reader, `KeySet::from_json`.
    Jwks,
    /// A tenant's theme tokens as the admin API reads them.
    Theme,
    /// The SVG logo sanitizer.
    Svg,
    /// A tenant's text upload, as the admin API reads and checks it.
    #[value(name = "fluent_texts")]
    FluentTexts,
    /// The demo storefront's Standard Webhooks verifier.
    Webhook,
    /// Each IdP's event format, as `tessera-events` verifies and reads it.
    #[value(name = "idp_events")]
    IdpEvents,
}

impl Target {
    /// The cargo-fuzz target name.
    pub fn name(self) -> &'static str {
        match self {
            Target::CompactToken => "compact_token",
            Target::Jwks => "jwks",
            Target::Theme => "theme",
            Target::Svg => "svg",
            Target::FluentTexts => "fluent_texts",
            Target::Webhook => "webhook",
            Target::IdpEvents => "idp_events",
        }
    }
}

/// What libFuzzer reported for one run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Inputs executed.
    pub executions: u64,
    /// Seconds libFuzzer ran (until the crash, if one stopped it).
    pub seconds: u64,
    /// Crash reproducers written (libFuzzer stops at the first).
    pub crashes: Vec<String>,
    /// Coverage counters at the end, from the last status line.
    pub coverage: Option<u64>,
    /// Entries in the corpus at the end.
    pub corpus: Option<u64>,
}

impl Outcome {
    /// Reads one line of libFuzzer's output into the outcome.
    fn read(&mut self, line: &str) {
        let field = |name: &str| {
            line.split_whitespace()
                .skip_while(|word| *word != name)
                .nth(1)
                .and_then(|value| value.split('/').next())
                .and_then(|value| value.parse::<u64>().ok())
        };
        if let Some(rest) = line.strip_prefix("stat::number_of_executed_units:") {
            if let Ok(executions) = rest.trim().parse() {
                self.executions = executions;
            }
        } else if let Some(rest) = line.strip_prefix("Done ") {
            // `Done 123 runs in 60 second(s)`
            let words: Vec<&str> = rest.split_whitespace().collect();
            if let [runs, "runs", "in", seconds, ..] = words[..] {
                self.executions = runs.parse().unwrap_or(self.executions);
                self.seconds = seconds.parse().unwrap_or(self.seconds);
            }
        } else if let Some(rest) = line.strip_prefix('#') {
            // `#4096\tpulse  cov: 812 ft: 2345 corp: 120/20Kb ...`
            if let Some(runs) = rest
                .split_whitespace()
                .next()
                .and_then(|runs| runs.parse::<u64>().ok())
            {
                self.executions = self.executions.max(runs);
            }
            self.coverage = field("cov:").or(self.coverage);
            self.corpus = field("corp:").or(self.corpus);
        } else if let Some((_, path)) = line.split_once("Test unit written to ") {
            self.crashes.push(path.trim().to_owned());
        }
    }
}

/// `cargo-fuzz` at [`CARGO_FUZZ_VERSION`], installed from crates.io into
/// [`TOOLS_ROOT`] when missing (a minute or two, once). Returns its path.
pub fn cargo_fuzz() -> anyhow::Result<PathBuf> {
    let program = Path::new(TOOLS_ROOT).join("bin/cargo-fuzz");
    let installed = output(&program.to_string_lossy(), &["fuzz", "--version"])
        .is_ok_and(|printed| printed.split_whitespace().nth(1) == Some(CARGO_FUZZ_VERSION));
    if !installed {
        step(&format!(
            "installing cargo-fuzz {CARGO_FUZZ_VERSION} into {TOOLS_ROOT} (cargo install, a minute or two once)"
        ));
        run_program(
            "cargo",
            &[
                "install",
                "cargo-fuzz",
                "--version",
                &format!("={CARGO_FUZZ_VERSION}"),
                "--locked",
                "--root",
                TOOLS_ROOT,
            ],
        )?;
    }
    std::fs::canonicalize(&program).map_err(Into::into)
}

/// A cargo-fuzz command for the fuzz workspace, on the stable toolchain.
fn cargo_fuzz_command(program: &Path, subcommand: &str) -> Command {
    let mut command = Command::new(program);
    command
        .args(["fuzz", subcommand, "--sanitizer", "none", "--target-dir"])
        .arg(Path::new("fuzz").join("target"))
        // cargo-fuzz passes `-Z` flags to rustc and cargo; this lets the
        // stable compiler accept them.
        .env("RUSTC_BOOTSTRAP", "1")
        // Instrumented dependencies are built with other flags than the
        // main workspace's, so a shared build folder would only fill up.
        .env_remove("CARGO_BUILD_BUILD_DIR");
    command
}

/// Fuzzes `targets` (all when empty) for `seconds` each, one after another on
/// one worker, prints the figures and fails if any target crashed.
pub fn run(targets: &[Target], seconds: u64) -> anyhow::Result<()> {
    let program = cargo_fuzz()?;
    let targets = if targets.is_empty() {
        Target::value_variants()
    } else {
        targets
    };
    step("building the fuzz targets (fuzz/, RUSTC_BOOTSTRAP=1 cargo fuzz build)");
    let mut build = cargo_fuzz_command(&program, "build");
    if let [target] = targets {
        build.arg(target.name());
    }
    let status = build.status().context("cannot start cargo-fuzz")?;
    if !status.success() {
        bail!("building the fuzz targets failed ({status})");
    }
    let mut outcomes = Vec::new();
    for &target in targets {
        step(&format!("fuzzing {} for {seconds} s", target.name()));
        outcomes.push((target, fuzz(&program, target, seconds)?));
    }
    println!("\ntarget          seconds   executions   exec/s   coverage   corpus   crashes");
    for (target, outcome) in &outcomes {
        let optional = |value: Option<u64>| value.map_or("-".to_owned(), |value| value.to_string());
        println!(
            "{:<15} {:>7} {:>12} {:>8} {:>10} {:>8} {:>9}",
            target.name(),
            outcome.seconds,
            outcome.executions,
            outcome.executions / outcome.seconds.max(1),
            optional(outcome.coverage),
            optional(outcome.corpus),
            outcome.crashes.len(),
        );
    }
    let crashed: Vec<String> = outcomes
        .iter()
        .flat_map(|(target, outcome)| {
            outcome
                .crashes
                .iter()
                .map(move |path| format!("{}: {path}", target.name()))
        })
        .collect();
    if !crashed.is_empty() {
        bail!(
            "fuzzing found {} crash(es); reproduce with `RUSTC_BOOTSTRAP=1 {} fuzz run --sanitizer none <target> <file>`:\n  {}",
            crashed.len(),
            program.display(),
            crashed.join("\n  ")
        );
    }
    Ok(())
}

/// The smoke run of `cargo xtask test`: every target for [`SMOKE_SECONDS`].
pub fn smoke() -> anyhow::Result<()> {
    run(&[], SMOKE_SECONDS)
}

/// Runs one target and reads libFuzzer's output as it goes, echoing all but
/// its per-input progress lines.
fn fuzz(program: &Path, target: Target, seconds: u64) -> anyhow::Result<Outcome> {
    let learned = Path::new("fuzz/target/corpus").join(target.name());
    let seeds = Path::new("fuzz/corpus").join(target.name());
    std::fs::create_dir_all(&learned)?;
    let mut child = cargo_fuzz_command(program, "run")
        .arg(target.name())
        // libFuzzer adds new inputs to the first folder only.
        .arg(&learned)
        .arg(&seeds)
        .args([
            "--".to_owned(),
            format!("-max_total_time={seconds}"),
            format!("-timeout={INPUT_TIMEOUT_SECONDS}"),
            "-print_final_stats=1".to_owned(),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start cargo-fuzz")?;
    let started = std::time::Instant::now();
    let stderr = child.stderr.take().context("no stderr")?;
    let mut outcome = Outcome::default();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line?;
        let progress = line.starts_with('#') && !line.contains("pulse") && !line.contains("DONE");
        // The dictionary libFuzzer recommends at the end, entry by entry.
        let dictionary = line.starts_with('"') && line.contains("# Uses:");
        if !progress && !dictionary {
            eprintln!("{line}");
        }
        outcome.read(&line);
    }
    let status = child.wait()?;
    if outcome.seconds == 0 {
        // libFuzzer says how long it ran only when it was not stopped by a
        // crash; then the time the command took is the next best figure.
        outcome.seconds = started.elapsed().as_secs();
    }
    if !status.success() && outcome.crashes.is_empty() {
        bail!(
            "cargo fuzz run {} failed ({status}) without writing a crash reproducer",
            target.name()
        );
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::Outcome;

    fn check(lines: &[&str], expected: Outcome) {
        let mut outcome = Outcome::default();
        for line in lines {
            outcome.read(line);
        }
        assert_eq!(outcome, expected, "{lines:?}");
    }

    #[test]
    fn reads_libfuzzer_output() {
        check(
            &[
                "#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb",
                "#65536\tpulse  cov: 812 ft: 2345 corp: 120/20Kb lim: 4096 exec/s: 32768 rss: 45Mb",
                "#70000\tDONE   cov: 815 ft: 2350 corp: 121/20Kb lim: 4096 exec/s: 35000 rss: 45Mb",
                "Done 70000 runs in 2 second(s)",
                "stat::number_of_executed_units: 70001",
            ],
            Outcome {
                executions: 70001,
                seconds: 2,
                crashes: vec![],
                coverage: Some(815),
                corpus: Some(121),
            },
        );
        check(
            &[
                "#1024\tNEW    cov: 40 ft: 50 corp: 9/300b lim: 8 exec/s: 0 rss: 31Mb L: 8/8 MS: 1 ChangeBit-",
                "thread '<unnamed>' panicked at demo-storefront/src/webhooks.rs:151:12:",
                "==1234== ERROR: libFuzzer: deadly signal",
                "artifact_prefix='fuzz/artifacts/webhook/'; Test unit written to fuzz/artifacts/webhook/crash-0a1b",
            ],
            Outcome {
                executions: 1024,
                seconds: 0,
                crashes: vec!["fuzz/artifacts/webhook/crash-0a1b".to_owned()],
                coverage: Some(40),
                corpus: Some(9),
            },
        );
    }
}
