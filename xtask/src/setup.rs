//! Installs the project's prerequisites when they are missing, and says
//! exactly what is missing when it cannot. Browsers come from Debian, never
//! from a test tool's own download (which cannot work on these machines).
//!
//! Everything it installs comes from the registries this project uses:
//! rustup's wasm32 target, Debian packages through apt-get (only as root) and
//! npm packages pinned by package-lock.json.

use anyhow::bail;

use crate::util::{have, output, run as run_program, step};

/// Debian packages and the program each provides: wasm-opt for the WASM
/// builds, Chromium for the browser tests (driven by npm playwright-core).
const DEBIAN_PACKAGES: [(&str, &str); 2] = [("binaryen", "wasm-opt"), ("chromium", "chromium")];

/// Ensures every prerequisite is present.
pub fn run() -> anyhow::Result<()> {
    wasm_target()?;
    debian_packages()?;
    node_packages()
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
    install_debian(&DEBIAN_PACKAGES)
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
