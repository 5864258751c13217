//! Tessera's build automation, run as `cargo xtask <command>`.
//!
//! It replaces shell scripts: it installs what the project needs when it is
//! missing (`setup`), builds the WebAssembly artifacts into `dist/` (`dist`),
//! runs every check and test (`test`), runs the benchmarks (`bench`) and the
//! fuzz targets (`fuzz`). It is not part of any shipped artifact.

mod bench;
mod dist;
mod fuzz;
mod setup;
mod util;

use clap::{Parser, Subcommand, ValueEnum};

/// Build automation for the Tessera workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Arguments {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Install what the project needs when it is missing: the wasm32 target,
    /// Debian packages (chromium, chromium-driver, firefox-esr,
    /// webkit2gtk-driver, xvfb) and Node packages (npm ci, binaryen's
    /// wasm-opt among them). `test` also installs wasm-bindgen-test-runner into
    /// target/tools.
    Setup,
    /// Build what the demo needs, then run `tessera dev`: the builder server
    /// with a seeded demo tenant and the development issuer on 127.0.0.1.
    Dev {
        /// Arguments passed to `tessera dev` (see `tessera dev --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        arguments: Vec<String>,
    },
    /// Build the WebAssembly artifacts and the npm package into dist/.
    Dist,
    /// Run every check: rustfmt, clippy, Rust tests, the widget's unit tests
    /// in headless Chromium, the WASM build, the Node tests of the npm
    /// package, the OpenID interop tests, the browser tests, the API
    /// fuzzing (schemathesis, installed into target/tools/venv) and a short
    /// run of every cargo-fuzz target.
    Test,
    /// Run a benchmark and print each figure beside its anchor.
    Bench {
        /// What to measure.
        #[arg(value_enum)]
        target: BenchTarget,
    },
    /// Fuzz the parsers of untrusted input (cargo-fuzz targets in fuzz/) for
    /// N seconds each, one after another, and print per target the
    /// executions and crashes; fails if any target crashed. Installs
    /// cargo-fuzz into target/tools when missing.
    Fuzz {
        /// The target to fuzz; all when omitted.
        #[arg(value_enum)]
        target: Option<fuzz::Target>,
        /// Seconds per target.
        #[arg(long, default_value_t = fuzz::DEFAULT_SECONDS)]
        seconds: u64,
    },
}

/// The benchmarks.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum BenchTarget {
    /// The verifier natively, in WASM under Node, and cached, beside OpenSSL,
    /// jose and fast-jwt; the packed npm package beside jose in Node, Deno,
    /// Bun, workerd, Vercel's edge runtime and Chromium; the package's size.
    Verifier,
    /// The builder server's assets and theme.css under wrk, beside nginx.
    Server,
    /// The widget's size beside Hanko, Okta and Auth0 (esbuild), and its
    /// first render in headless Chromium beside Hanko's.
    Widget,
    /// The demo storefront's orders API under wrk: verifier layer with and
    /// without its cache, beside the same route with the layer removed.
    Storefront,
    /// The console: server time to first byte of each page (p50, p95) and
    /// its script and style bytes (brotli), against the targets.
    Console,
    /// The theme studio: time from a token change to every preview frame
    /// repainted (median, p95) in headless Chromium.
    Studio,
    /// IdP events verified, recorded and relayed per second, and the time
    /// from an IdP's request to the shop's erasure call.
    Events,
}

fn main() -> anyhow::Result<()> {
    let arguments = Arguments::parse();
    let root = util::workspace_root();
    std::env::set_current_dir(&root)?;
    match arguments.command {
        Command::Setup => setup::run(),
        Command::Dev { arguments } => {
            setup::run()?;
            dist::run()?;
            let mut command = vec![
                "run",
                "--quiet",
                "--package",
                "tessera-server",
                "--bin",
                "tessera",
                "--",
                "dev",
            ];
            command.extend(arguments.iter().map(String::as_str));
            util::run("cargo", &command)
        }
        Command::Dist => {
            setup::run()?;
            dist::run().map(|_| ())
        }
        Command::Test => test(),
        Command::Fuzz { target, seconds } => fuzz::run(target.as_slice(), seconds),
        Command::Bench { target } => {
            setup::run()?;
            match target {
                BenchTarget::Verifier => bench::verifier(),
                BenchTarget::Server => {
                    setup::bench_tools()?;
                    bench::server()
                }
                BenchTarget::Widget => bench::widget(),
                BenchTarget::Storefront => {
                    setup::bench_tools()?;
                    bench::storefront()
                }
                BenchTarget::Console => bench::console(),
                BenchTarget::Studio => bench::studio(),
                BenchTarget::Events => bench::events(),
            }
        }
    }
}

fn test() -> anyhow::Result<()> {
    setup::run()?;
    util::step("rustfmt");
    util::run("cargo", &["fmt", "--all", "--", "--check"])?;
    util::step("clippy");
    util::run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    let mut counts = util::Counts::default();
    util::step("Rust tests");
    util::run_counting(
        "cargo",
        &["test", "--workspace", "--all-features"],
        &mut counts,
    )?;
    // `--all-features` above checks signatures with aws-lc, the native
    // default; the verifier's suite runs again below with ring alone.
    util::step(
        "the builder server's tests again on PostgreSQL (in a throwaway cluster the tests start)",
    );
    util::run_counting_command(
        std::process::Command::new("cargo")
            .args(["test", "--package", "tessera-server", "--test", "server"])
            .env("TESSERA_TEST_DATABASE", "postgres"),
        &mut counts,
    )?;
    util::step("the verifier's tests again with ring's arithmetic alone (the wasm32 backend)");
    let ring_only = [
        "--package",
        "tessera-verifier",
        "--no-default-features",
        "--features",
        "ring,remote,axum,token-cache",
    ];
    util::run(
        "cargo",
        &[
            &["clippy"][..],
            &ring_only,
            &["--all-targets", "--", "-D", "warnings"],
        ]
        .concat(),
    )?;
    util::run_counting("cargo", &[&["test"][..], &ring_only].concat(), &mut counts)?;
    // Natively without the verified-token cache, as the wasm32 builds are.
    util::run(
        "cargo",
        &[
            "clippy",
            "--package",
            "tessera-verifier",
            "--no-default-features",
            "--features",
            "ring",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    util::step(
        "the widget's and its session module's tests in headless Chromium (wasm-bindgen-test)",
    );
    util::run(
        "cargo",
        &[
            "clippy",
            "--package",
            "tessera-widget",
            "--package",
            "tessera-widget-session",
            "--target",
            "wasm32-unknown-unknown",
            "--tests",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    let runner = setup::wasm_bindgen_test_runner()?;
    util::run_counting_command(
        std::process::Command::new("cargo")
            .args([
                "test",
                "--package",
                "tessera-widget",
                "--package",
                "tessera-widget-session",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", runner)
            .env("CHROMEDRIVER", "/usr/bin/chromedriver"),
        &mut counts,
    )?;
    util::step("WASM build");
    dist::run()?;
    util::step(
        "Node and Chromium tests: @tessera/verifier, openid-client against tessera dev, the widget end to end",
    );
    util::run_counting(
        "node",
        &[
            "--test",
            "verifier/wasm/tests/",
            "builder-server/tests/interop/",
            "tests/",
        ],
        &mut counts,
    )?;
    util::step(
        "API fuzzing: schemathesis against the admin API of a running tessera dev (tests/api-fuzz)",
    );
    util::run("bash", &["tests/api-fuzz/run.sh", "--max-examples", "20"])?;
    util::step(&format!(
        "fuzzing smoke run: every cargo-fuzz target for {} s (cargo xtask fuzz runs them longer)",
        fuzz::SMOKE_SECONDS
    ));
    fuzz::smoke()?;
    util::step("all checks passed");
    println!(
        "Summary: {} passed, {} failed",
        counts.passed, counts.failed
    );
    Ok(())
}
