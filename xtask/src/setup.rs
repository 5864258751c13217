//! Installs the project's prerequisites when they are missing, and says
//! exactly what is missing when it cannot. Browsers come from Debian, never
//! from a test tool's own download (which cannot work on these machines).
//!
//! Everything it installs comes from the registries this project uses:
//! rustup's wasm32 target, Debian packages through apt-get (only as root) and
//! npm packages pinned by package-lock.json.

use anyhow::bail;

use crate::util::{have, output, run as run_program, step};

/// Debian packages and the program each provides: Chromium for the browser
/// tests (driven by npm playwright-core),
/// ChromeDriver for the widget's unit tests in the browser, and the widget's
/// other engines: Firefox ESR (driven by npm puppeteer-core over WebDriver
/// BiDi) and WebKitGTK with its WebDriver (npm selenium-webdriver), under
/// Xvfb.
const DEBIAN_PACKAGES: [(&str, &str); 5] = [
    ("chromium", "chromium"),
    ("chromium-driver", "chromedriver"),
    ("firefox-esr", "firefox-esr"),
    ("webkit2gtk-driver", "WebKitWebDriver"),
    ("xvfb", "xvfb-run"),
];

/// Where `cargo install` puts the project's own tools: inside `target/`, so
/// a tool of the wrong version elsewhere on the machine is never used.
pub const TOOLS_ROOT: &str = "target/tools";

/// Ensures every prerequisite is present.
pub fn run() -> anyhow::Result<()> {
    wasm_target()?;
    debian_packages()?;
    node_packages()
}

/// The `wasm-bindgen` version in Cargo.lock: the test runner must be exactly
/// this version, or it refuses the test binaries.
fn locked_wasm_bindgen_version() -> anyhow::Result<String> {
    let lock = std::fs::read_to_string("Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(version) = lines
                .next()
                .and_then(|line| line.strip_prefix("version = \""))
                .and_then(|rest| rest.strip_suffix('"'))
        {
            return Ok(version.to_owned());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen package")
}

/// `wasm-bindgen-test-runner` at exactly the locked wasm-bindgen version,
/// installed from crates.io into [`TOOLS_ROOT`] when missing (a few minutes,
/// once). Returns its path.
pub fn wasm_bindgen_test_runner() -> anyhow::Result<std::path::PathBuf> {
    let version = locked_wasm_bindgen_version()?;
    let runner = std::path::Path::new(TOOLS_ROOT).join("bin/wasm-bindgen-test-runner");
    let installed = output(&runner.to_string_lossy(), &["--version"])
        .is_ok_and(|printed| printed.split_whitespace().nth(1) == Some(version.as_str()));
    if !installed {
        step(&format!(
            "installing wasm-bindgen-test-runner {version} into {TOOLS_ROOT} (cargo install, a few minutes once)"
        ));
        // Not `--locked`: the CLI's own lockfile names a webpki-roots release
        // that the crates.io mirror here does not carry; the runner's
        // protocol is pinned by the exact version all the same.
        run_program(
            "cargo",
            &[
                "install",
                "wasm-bindgen-cli",
                "--version",
                &format!("={version}"),
                "--root",
                TOOLS_ROOT,
            ],
        )?;
    }
    std::fs::canonicalize(&runner).map_err(Into::into)
}

fn wasm_target() -> anyhow::Result<()> {
    let installed = output("rustup", &["target", "list", "--installed"])?;
    if !installed
        .lines()
        .any(|line| line.trim() == "wasm32-unknown-unknown")
    {
        step("adding the wasm32-unknown-unknown target (this downloads for a minute or more)");
        run_program("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    }
    Ok(())
}

/// Debian packages only the benchmarks need.
const BENCH_PACKAGES: [(&str, &str); 3] = [
    ("wrk", "wrk"),
    ("nginx-light", "nginx"),
    ("openssl", "openssl"),
];

/// Installs what the benchmarks need.
pub fn bench_tools() -> anyhow::Result<()> {
    install_debian(&BENCH_PACKAGES)
}

fn debian_packages() -> anyhow::Result<()> {
    install_debian(&DEBIAN_PACKAGES)?;
    postgresql()
}

/// PostgreSQL's server programs, which the tests start throwaway clusters
/// with: Debian keeps them in `/usr/lib/postgresql/<version>/bin`, off the
/// PATH.
fn postgresql() -> anyhow::Result<()> {
    let installed = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .any(|version| version.path().join("bin/initdb").exists());
    if installed || have("initdb") {
        return Ok(());
    }
    install_debian(&[("postgresql", "initdb")])
}

fn install_debian(packages: &[(&str, &str)]) -> anyhow::Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(_, program)| !have(program))
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let is_root = output("id", &["-u"]).is_ok_and(|uid| uid.trim() == "0");
    if !is_root || !have("apt-get") {
        bail!(
            "missing Debian packages: {} (install them with `apt-get install {}`)",
            missing.join(", "),
            missing.join(" ")
        );
    }
    step(&format!(
        "installing Debian packages: {}",
        missing.join(" ")
    ));
    run_program("apt-get", &["update", "-qq"])?;
    let mut arguments = vec!["install", "-y", "-qq", "--no-install-recommends"];
    arguments.extend(&missing);
    run_program("apt-get", &arguments)
}

fn node_packages() -> anyhow::Result<()> {
    if !have("node") || !have("npm") {
        bail!("Node.js 20 or newer with npm is required (Debian: apt-get install nodejs npm)");
    }
    let version = output("node", &["--version"])?;
    let major: u32 = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        bail!("Node.js 20 or newer is required, found {}", version.trim());
    }
    let lock = std::fs::metadata("package-lock.json")?.modified()?;
    let installed = std::fs::metadata("node_modules/.package-lock.json")
        .and_then(|metadata| metadata.modified())
        .ok();
    if installed.is_none_or(|installed| installed < lock) {
        step("installing Node packages (npm ci)");
        run_program("npm", &["ci", "--no-audit", "--no-fund"])?;
    }
    Ok(())
}
