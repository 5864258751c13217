//! Builds the WebAssembly artifacts into `dist/`.
//!
//! For the verifier it runs `cargo build --target wasm32-unknown-unknown` with
//! the size-tuned `release-wasm` profile, wasm-bindgen (as a library, pinned to
//! the exact `wasm-bindgen` version), `wasm-opt` from binaryen (npm's
//! `binaryen` package, pinned in package-lock.json), then writes `.br` and
//! `.gz` beside each artifact, a `manifest.json` with sizes and sha384
//! integrity values, and prints a size report. The npm package
//! `@tessera/verifier` is assembled in `dist/npm/verifier/`, its glue
//! bundled into `core.js`. Every module's imports and exports are renamed
//! short, in the wasm and its glue alike (`optimize_bound`). The widget's two
//! modules are built the same way into `dist/widget/`, their glue and the
//! loader in one script that esbuild minifies.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha384};

use crate::util::{run as run_program, step};

/// binaryen's `wasm-opt`, as npm's `binaryen` package ships it (compiled to
/// JavaScript and WebAssembly, so it runs wherever Node does); installed by
/// `cargo xtask setup` at the version package-lock.json pins.
const WASM_OPT: &str = "node_modules/binaryen/bin/wasm-opt";

/// The proposals rustc's output uses, named explicitly rather than left to
/// binaryen's defaults, which change between versions.
const WASM_OPT_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Sizes of one shipped file.
pub struct Artifact {
    pub path: PathBuf,
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

/// Builds everything and returns the verifier package's artifacts.
pub fn run() -> anyhow::Result<Vec<Artifact>> {
    let verifier = verifier_package()?;
    widget()?;
    Ok(verifier)
}

/// `cargo build` of a wasm32 package with the size profile. The source
/// paths rustc writes into panic locations are shortened: the registry
/// and git checkout folders of this machine's cargo home, and the
/// workspace's own folder, are cut from them (the standard library's
/// `/rustc/<commit>/` paths come precompiled and stay). Shipped files then name
/// `leptos-0.8.23/src/show.rs`, not `/root/.cargo/registry/src/index...`:
/// no path of the build machine ships, the files are the same from any
/// machine, and a little smaller (brotli already squeezes the repeated
/// prefix: 40 bytes off the widget's first module). The flags go in `CARGO_ENCODED_RUSTFLAGS`, which with
/// `--target` reaches only the wasm artifacts, not build scripts.
fn build_wasm(package: &str) -> anyhow::Result<()> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    let mut prefixes = Vec::new();
    if let Some(cargo_home) = cargo_home {
        for folder in ["registry/src", "git/checkouts"] {
            if let Ok(entries) = std::fs::read_dir(cargo_home.join(folder)) {
                prefixes.extend(entries.filter_map(Result::ok).map(|entry| entry.path()));
            }
        }
    }
    prefixes.push(std::env::current_dir()?);
    let flags: Vec<String> = prefixes
        .iter()
        .map(|prefix| format!("--remap-path-prefix={}/=", prefix.display()))
        .collect();
    let status = std::process::Command::new("cargo")
        .args([
            "build",
            "--package",
            package,
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "release-wasm",
        ])
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\u{1f}"))
        .status()?;
    if !status.success() {
        anyhow::bail!("`cargo build --package {package}` for wasm32 failed ({status})");
    }
    Ok(())
}

/// Builds a wasm32 cdylib with the size profile and returns rustc's output.
fn built_wasm(package: &str, crate_name: &str) -> anyhow::Result<PathBuf> {
    step(&format!("building {package} for wasm32"));
    build_wasm(package)?;
    Ok(PathBuf::from(format!(
        "target/wasm32-unknown-unknown/release-wasm/{crate_name}.wasm"
    )))
}

/// Optimizes the module wasm-bindgen wrote into `folder` as `name`
/// (`{name}_bg.wasm`, its glue `{name}.js`), in place, with `wasm-opt`.
///
/// It runs after wasm-bindgen, as wasm-pack runs it: wasm-bindgen reads
/// the descriptions rustc's output carries, and binaryen 132 run before it
/// rewrote the session module's so that its glue no longer matched (the
/// module failed to load); after it, the module is final.
///
/// Then the module's imports and exports get one- and two-letter names, in
/// the wasm and in its glue. wasm-bindgen names each import after the Rust
/// item with a 16-hex-digit hash, in the wasm and in the glue alike, and
/// hashes barely compress. binaryen's
/// `--minify-imports-and-exports-and-modules` renames them in the wasm
/// (every import module becomes `a`) and prints what it renamed; the glue
/// is rewritten from that list ([`Renamed::rewrite`]), the way Emscripten
/// does it, and fails unless every import the wasm still has is defined
/// once in the glue and no read of an old export is left, so a change in
/// wasm-bindgen's output stops the build rather than shipping glue that
/// does not match. (Imports the first `-Oz` dropped keep their definitions
/// in the glue, unused.)
fn optimize_bound(folder: &Path, name: &str) -> anyhow::Result<()> {
    let wasm = folder.join(format!("{name}_bg.wasm"));
    step(&format!("wasm-opt {}", wasm.display()));
    // `--converge` repeats the passes while they still shrink the module.
    wasm_opt_in_place(&wasm, &["-Oz", "--converge"])?;
    step(&format!(
        "wasm-opt --minify-imports-and-exports-and-modules -Oz {}",
        wasm.display()
    ));
    // `-Oz` once more after the renaming: the module is smaller by about
    // 185 bytes brotli than with the renaming last.
    let printed = wasm_opt_in_place(&wasm, &["--minify-imports-and-exports-and-modules", "-Oz"])?;
    let renamed: Renamed =
        serde_json::from_str(&printed).context("wasm-opt's list of renamed imports and exports")?;
    let glue = folder.join(format!("{name}.js"));
    let text = renamed.rewrite(&std::fs::read_to_string(&glue)?, &format!("./{name}_bg.js"))?;
    std::fs::write(&glue, text)?;
    Ok(())
}

/// Runs binaryen's `wasm-opt` (see [`WASM_OPT`]) with `passes` on `wasm`,
/// without debug or producer sections, and puts the result in its place;
/// returns what wasm-opt printed.
fn wasm_opt_in_place(wasm: &Path, passes: &[&str]) -> anyhow::Result<String> {
    if !Path::new(WASM_OPT).exists() {
        anyhow::bail!("{WASM_OPT} is missing: run `cargo xtask setup` (it runs `npm ci`)");
    }
    let optimized = wasm.with_extension("opt.wasm");
    let output = std::process::Command::new("node")
        .arg(WASM_OPT)
        .args(passes)
        .args(["--strip-debug", "--strip-producers"])
        .args(WASM_OPT_FEATURES)
        .arg(wasm)
        .arg("-o")
        .arg(&optimized)
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cannot start `node` for wasm-opt")?;
    anyhow::ensure!(
        output.status.success(),
        "wasm-opt {} failed on {} ({})",
        passes.join(" "),
        wasm.display(),
        output.status
    );
    std::fs::rename(&optimized, wasm)?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// What `--minify-imports-and-exports-and-modules` prints: each import as
/// `[module, old name, new name]`, each export as `[old name, new name]`.
#[derive(serde::Deserialize)]
struct Renamed {
    imports: Vec<(String, String, String)>,
    exports: Vec<(String, String)>,
}

impl Renamed {
    /// `glue` with the new names: an import is defined as `old: function`
    /// (a member of the import object), an export is read as `wasm.old`,
    /// and the import object's key `"module"` becomes `"a"`.
    ///
    /// One pass over the glue's identifiers, each looked up once, so a new
    /// name that happens to be another's old name is never renamed twice.
    fn rewrite(&self, glue: &str, module: &str) -> anyhow::Result<String> {
        use std::collections::HashMap;
        let quoted = format!("\"{module}\"");
        anyhow::ensure!(
            glue.matches(&quoted).count() == 1,
            "the glue names the import module {quoted} other than once"
        );
        let mut imports = HashMap::new();
        for (from, old, new) in &self.imports {
            anyhow::ensure!(from == module, "an import from {from}, not {module}");
            imports.insert(old.as_str(), (new.as_str(), 0usize));
        }
        let exports: HashMap<&str, &str> = self
            .exports
            .iter()
            .map(|(old, new)| (old.as_str(), new.as_str()))
            .collect();

        // An export's old name may also name the glue's own wrapper
        // function (`export function mount` calls `wasm.mount`), so only a
        // read the pass below cannot see (the name quoted, as in
        // `wasm['name']`) stops the build.
        for old in exports.keys() {
            let quoted = glue.contains(&format!("'{old}'")) || glue.contains(&format!("\"{old}\""));
            anyhow::ensure!(!quoted, "the glue reads `{old}` other than as `wasm.{old}`");
        }
        let glue = glue.replace(&quoted, "\"a\"");
        let mut out = String::with_capacity(glue.len());
        let mut rest = glue.as_str();
        while let Some(start) = rest.find(starts_identifier) {
            let (before, from_start) = rest.split_at(start);
            let end = from_start
                .find(|c| !continues_identifier(c))
                .unwrap_or(from_start.len());
            let (word, after) = from_start.split_at(end);
            out.push_str(before);
            // A property read (`x.word`) is never an import's definition.
            let read_of = out.strip_suffix('.').map(|object| {
                object
                    .rsplit(|c| !continues_identifier(c))
                    .next()
                    .unwrap_or_default()
            });
            let renamed = match read_of {
                Some("wasm") => exports.get(word).copied(),
                Some(_) => None,
                None if after.starts_with(": function") => {
                    imports.get_mut(word).map(|(new, count)| {
                        *count += 1;
                        *new
                    })
                }
                None => None,
            };
            out.push_str(renamed.unwrap_or(word));
            rest = after;
        }
        out.push_str(rest);

        for (old, (_, count)) in &imports {
            anyhow::ensure!(
                *count == 1,
                "the glue defines the import `{old}` {count} times, not once"
            );
        }
        Ok(out)
    }
}

/// Whether `c` may start a JavaScript identifier (ASCII: wasm-bindgen's
/// names are).
fn starts_identifier(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$'
}

/// Whether `c` may continue a JavaScript identifier.
fn continues_identifier(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// The files of `dist/widget` the loader names, each pinned by its
/// integrity value.
struct LoaderFiles {
    wasm: String,
    session_glue: String,
    session_wasm: String,
    css: String,
}

impl LoaderFiles {
    /// Finds them in a built widget folder by their content-hashed names.
    fn find(folder: &Path) -> anyhow::Result<LoaderFiles> {
        let names: Vec<String> = std::fs::read_dir(folder)?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .collect();
        let one = |prefix: &str, extension: &str| {
            names
                .iter()
                .find(|name| {
                    name.strip_prefix(prefix)
                        .and_then(|rest| rest.strip_suffix(extension))
                        .is_some_and(|hash| hash.bytes().all(|b| b.is_ascii_hexdigit()))
                })
                .cloned()
                .with_context(|| format!("no {prefix}<hash>{extension} in {}", folder.display()))
        };
        Ok(LoaderFiles {
            wasm: one("tessera-", ".wasm")?,
            session_glue: one("tessera-session-", ".js")?,
            session_wasm: one("tessera-session-", ".wasm")?,
            css: one("tessera-", ".css")?,
        })
    }

    /// `loader` (the text of widget/js/loader.js) with the files' names and
    /// integrity values (of the files in `folder`) written in.
    fn pin(&self, loader: &str, folder: &Path) -> anyhow::Result<String> {
        let integrity = |name: &str| sha384_integrity(&folder.join(name));
        Ok(loader
            .replace("__TESSERA_WASM__", &self.wasm)
            .replace("__TESSERA_WASM_INTEGRITY__", &integrity(&self.wasm)?)
            .replace("__TESSERA_SESSION_WASM__", &self.session_wasm)
            .replace(
                "__TESSERA_SESSION_WASM_INTEGRITY__",
                &integrity(&self.session_wasm)?,
            )
            .replace("__TESSERA_SESSION_GLUE__", &self.session_glue)
            .replace(
                "__TESSERA_SESSION_GLUE_INTEGRITY__",
                &integrity(&self.session_glue)?,
            )
            .replace("__TESSERA_CSS__", &self.css))
    }
}

/// `tessera.js` before minifying: the first module's glue and the pinned
/// loader, with nothing inlined.
fn standard_loader(glue: &str, pinned_loader: &str) -> String {
    let loader = pinned_loader
        .replace("__TESSERA_INLINE_WASM__", "''")
        .replace("__TESSERA_INLINE_SESSION_WASM__", "''")
        .replace("__TESSERA_INLINE_CSS__", "''");
    format!("{glue}\n{loader}")
}

/// A copy of the built widget (`dist/widget`, after [`run`]) in `folder`
/// whose `tessera.js` carries `loader` instead of widget/js/loader.js: for
/// benchmarks that compare ways of loading.
pub fn widget_with_loader(folder: &Path, loader: &str) -> anyhow::Result<()> {
    if folder.exists() {
        std::fs::remove_dir_all(folder)?;
    }
    std::fs::create_dir_all(folder)?;
    for entry in std::fs::read_dir("dist/widget")? {
        let entry = entry?;
        std::fs::copy(entry.path(), folder.join(entry.file_name()))?;
    }
    let glue = std::fs::read_to_string("target/widget-bindgen/tessera_widget.js")?;
    let pinned = LoaderFiles::find(folder)?.pin(loader, folder)?;
    let script = folder.join("tessera.js");
    std::fs::write(&script, standard_loader(&glue, &pinned))?;
    minify(&script)?;
    compress_beside(&script)?;
    Ok(())
}

/// Minifies a shipped script in place with esbuild (from the workspace's
/// package-lock.json, installed by `cargo xtask setup`): the wasm-bindgen
/// glue and the loader are written for people, and every page view
/// downloads them.
fn minify(script: &Path) -> anyhow::Result<()> {
    let path = script.to_string_lossy().into_owned();
    step(&format!("esbuild --minify {path}"));
    esbuild(&[
        path.as_str(),
        "--minify",
        "--format=esm",
        "--log-level=warning",
        "--allow-overwrite",
        &format!("--outfile={path}"),
    ])
}

/// Bundles the ES module `entry` and what it imports into one minified
/// module, `out`; what nothing uses is left out.
fn bundle(entry: &Path, out: &Path) -> anyhow::Result<()> {
    let (entry, out) = (entry.to_string_lossy(), out.to_string_lossy());
    step(&format!("esbuild --bundle --minify {entry}"));
    esbuild(&[
        &entry,
        "--bundle",
        "--minify",
        "--format=esm",
        "--log-level=warning",
        &format!("--outfile={out}"),
    ])
}

/// Runs the esbuild that `npm ci` installed with `arguments`.
fn esbuild(arguments: &[&str]) -> anyhow::Result<()> {
    let esbuild = Path::new("node_modules/.bin/esbuild");
    anyhow::ensure!(
        esbuild.exists(),
        "{} is missing: run `cargo xtask setup` (npm ci) first",
        esbuild.display()
    );
    run_program(&esbuild.to_string_lossy(), arguments)
}

/// Writes `bytes` into `folder` as `{stem}-{hash}.{extension}` and returns
/// the name.
fn write_content_hashed(
    folder: &Path,
    stem: &str,
    extension: &str,
    bytes: &[u8],
) -> anyhow::Result<String> {
    let name = format!("{stem}-{}.{extension}", content_hash(bytes));
    std::fs::write(folder.join(&name), bytes)?;
    Ok(name)
}

/// `bytes` as a JavaScript string literal of their base64.
fn base64_literal(bytes: &[u8]) -> anyhow::Result<String> {
    Ok(serde_json::to_string(
        &base64::engine::general_purpose::STANDARD.encode(bytes),
    )?)
}

/// The first 10 hex digits of a file's SHA-256, for content-hashed names.
fn content_hash(bytes: &[u8]) -> String {
    use sha2::Sha256;
    Sha256::digest(bytes)
        .iter()
        .take(5)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The login widget: `dist/widget/tessera.js` (the first module's
/// wasm-bindgen glue and the loader in one module), `tessera-<hash>.wasm`,
/// the session module's glue `tessera-session-<hash>.js` and its
/// `tessera-session-<hash>.wasm`, `tessera-<hash>.css`, and
/// `tessera.single.js` with all of them inlined.
fn widget() -> anyhow::Result<Vec<Artifact>> {
    let built = built_wasm("tessera-widget", "tessera_widget")?;
    let session_built = built_wasm("tessera-widget-session", "tessera_widget_session")?;
    let staging = Path::new("target/widget-bindgen");
    if staging.exists() {
        std::fs::remove_dir_all(staging)?;
    }
    step("wasm-bindgen tessera_widget");
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&built)
        .out_name("tessera_widget")
        .web(true)?
        .typescript(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(staging)
        .context("wasm-bindgen failed for the widget")?;
    // The session module's glue is a module of its own, which the loader
    // imports, pinned, only when a session needs it; every page view
    // downloads only the first module's.
    step("wasm-bindgen tessera_widget_session");
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&session_built)
        .out_name("tessera_widget_session")
        .web(true)?
        .typescript(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(staging)
        .context("wasm-bindgen failed for the session module")?;
    // In the single-file variant the session glue sits in the same file as
    // the first module's: a script that assigns one binding,
    // `tesseraSessionModule`, so that their top-level names do not meet.
    let single_staging = staging.join("single");
    step("wasm-bindgen tessera_widget_session (single-file variant)");
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&session_built)
        .out_name("tessera_widget_session")
        .no_modules(true)?
        .no_modules_global("tesseraSessionModule")?
        .typescript(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&single_staging)
        .context("wasm-bindgen failed for the session module")?;
    let out = Path::new("dist/widget");
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    std::fs::create_dir_all(out)?;
    for (folder, name) in [
        (staging, "tessera_widget"),
        (staging, "tessera_widget_session"),
        (single_staging.as_path(), "tessera_widget_session"),
    ] {
        optimize_bound(folder, name)?;
    }
    let wasm = std::fs::read(staging.join("tessera_widget_bg.wasm"))?;
    let wasm_name = write_content_hashed(out, "tessera", "wasm", &wasm)?;
    let session_wasm = std::fs::read(staging.join("tessera_widget_session_bg.wasm"))?;
    let session_wasm_name = write_content_hashed(out, "tessera-session", "wasm", &session_wasm)?;
    let session_glue = staging.join("tessera_widget_session.js");
    minify(&session_glue)?;
    let session_glue_name =
        write_content_hashed(out, "tessera-session", "js", &std::fs::read(&session_glue)?)?;
    let single_session_wasm = std::fs::read(single_staging.join("tessera_widget_session_bg.wasm"))?;
    let css = std::fs::read("widget/js/widget.css")?;
    let css_name = write_content_hashed(out, "tessera", "css", &css)?;
    let glue = std::fs::read_to_string(staging.join("tessera_widget.js"))?;
    let loader = LoaderFiles {
        wasm: wasm_name.clone(),
        session_glue: session_glue_name.clone(),
        session_wasm: session_wasm_name.clone(),
        css: css_name.clone(),
    }
    .pin(&std::fs::read_to_string("widget/js/loader.js")?, out)?;
    std::fs::write(out.join("tessera.js"), standard_loader(&glue, &loader))?;
    // The single-file variant, for hosts that can take only one file: the
    // wasm and the widget's stylesheet travel inside the module.
    let single = loader
        .replace("__TESSERA_INLINE_WASM__", &base64_literal(&wasm)?)
        .replace(
            "__TESSERA_INLINE_SESSION_WASM__",
            &base64_literal(&single_session_wasm)?,
        )
        .replace(
            "__TESSERA_INLINE_CSS__",
            &serde_json::to_string(std::str::from_utf8(&css)?)?,
        );
    let single_session_glue =
        std::fs::read_to_string(single_staging.join("tessera_widget_session.js"))?;
    std::fs::write(
        out.join("tessera.single.js"),
        format!("{glue}\n{single_session_glue}\n{single}"),
    )?;
    for script in ["tessera.js", "tessera.single.js"] {
        minify(&out.join(script))?;
    }
    let mut artifacts = Vec::new();
    for file in [
        "tessera.js".to_owned(),
        wasm_name,
        css_name,
        session_glue_name,
        session_wasm_name,
    ] {
        artifacts.push(compress_beside(&out.join(file))?);
    }
    let single = compress_beside(&out.join("tessera.single.js"))?;
    report(
        "the <tessera-login> widget (loader + wasm + css)",
        &artifacts,
    );
    report(
        "the single-file variant (wasm and css inlined)",
        std::slice::from_ref(&single),
    );
    artifacts.push(single);
    write_manifest(out, &artifacts)?;
    Ok(artifacts)
}

fn verifier_package() -> anyhow::Result<Vec<Artifact>> {
    let built = built_wasm("tessera-verifier-wasm", "tessera_verifier_wasm")?;
    let package = Path::new("dist/npm/verifier");
    let staging = Path::new("target/verifier-bindgen");
    for folder in [package, staging] {
        if folder.exists() {
            std::fs::remove_dir_all(folder)?;
        }
        std::fs::create_dir_all(folder)?;
    }

    step("wasm-bindgen");
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&built)
        .out_name("tessera_verifier")
        .web(true)?
        .typescript(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(staging)
        .context("wasm-bindgen failed")?;
    optimize_bound(staging, "tessera_verifier")?;
    std::fs::copy(
        staging.join("tessera_verifier_bg.wasm"),
        package.join("tessera_verifier_bg.wasm"),
    )?;

    // The wrapper's core with the glue bundled in: one file fewer to load,
    // and esbuild leaves out what the core does not use (`initSync`).
    let sources = Path::new("verifier/wasm/js");
    std::fs::copy(sources.join("core.js"), staging.join("core.js"))?;
    bundle(&staging.join("core.js"), &package.join("core.js"))?;
    // Its entry per runtime (see package.json's exports), each importing
    // the core.
    let entries = [
        "node.js",
        "node-engine.js",
        "browser.js",
        "workerd.js",
        "edge-light.js",
    ];
    for file in entries
        .iter()
        .chain(&["index.d.ts", "package.json", "README.md"])
    {
        std::fs::copy(sources.join(file), package.join(file))
            .with_context(|| format!("cannot copy {file}"))?;
    }
    // Minified like the widget's scripts: a page that imports the package
    // unbundled downloads them as they are. index.d.ts keeps the docs.
    for file in entries {
        minify(&package.join(file))?;
    }
    // What a browser loads: one entry, the core (with the glue) and the wasm.
    let shipped = ["browser.js", "core.js", "tessera_verifier_bg.wasm"];
    let mut artifacts = Vec::new();
    for file in shipped {
        artifacts.push(compress_beside(&package.join(file))?);
    }
    write_manifest(package, &artifacts)?;
    report(
        "@tessera/verifier (loaded by a page or runtime)",
        &artifacts,
    );
    Ok(artifacts)
}

/// Writes `.br` and `.gz` beside `path` and returns its sizes.
pub fn compress_beside(path: &Path) -> anyhow::Result<Artifact> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut brotli = Vec::new();
    {
        let parameters = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 22,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut bytes.as_slice(), &mut brotli, &parameters)?;
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gzip, &bytes)?;
    let gzip = gzip.finish()?;
    std::fs::write(with_suffix(path, ".br"), &brotli)?;
    std::fs::write(with_suffix(path, ".gz"), &gzip)?;
    Ok(Artifact {
        path: path.to_path_buf(),
        raw: bytes.len(),
        gzip: gzip.len(),
        brotli: brotli.len(),
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The Subresource Integrity value of a file.
pub fn sha384_integrity(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(&bytes))
    ))
}

fn write_manifest(folder: &Path, artifacts: &[Artifact]) -> anyhow::Result<()> {
    let mut files = serde_json::Map::new();
    for artifact in artifacts {
        let name = file_name(&artifact.path);
        files.insert(
            name,
            json!({
                "integrity": sha384_integrity(&artifact.path)?,
                "bytes": artifact.raw,
                "gzip_bytes": artifact.gzip,
                "brotli_bytes": artifact.brotli,
            }),
        );
    }
    std::fs::write(
        folder.join("manifest.json"),
        serde_json::to_string_pretty(&json!({ "files": files }))?,
    )?;
    Ok(())
}

fn report(title: &str, artifacts: &[Artifact]) {
    eprintln!("\n{title}");
    eprintln!(
        "{:<34} {:>10} {:>10} {:>10}",
        "file", "raw", "gzip", "brotli"
    );
    let (mut raw, mut gzip, mut brotli) = (0, 0, 0);
    for artifact in artifacts {
        let name = file_name(&artifact.path);
        eprintln!(
            "{name:<34} {:>10} {:>10} {:>10}",
            artifact.raw, artifact.gzip, artifact.brotli
        );
        raw += artifact.raw;
        gzip += artifact.gzip;
        brotli += artifact.brotli;
    }
    eprintln!("{:<34} {raw:>10} {gzip:>10} {brotli:>10}", "total");
}

#[cfg(test)]
mod tests {
    use super::Renamed;

    /// Glue in the form wasm-bindgen 0.2.130 writes it, cut down.
    const GLUE: &str = r#"function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg_now_463ac581d2fc7ea3: function() {
            return Date.now();
        },
        __wbindgen_init_externref_table: function() {
            const table = wasm.__wbindgen_externrefs;
        },
    };
    return { __proto__: null, "./m_bg.js": import0 };
}
function run(x) { return wasm.verify(x) + wasm.verifyAll(x); }
"#;

    fn renamed(imports: &[(&str, &str)], exports: &[(&str, &str)]) -> Renamed {
        Renamed {
            imports: imports
                .iter()
                .map(|(old, new)| ("./m_bg.js".into(), (*old).into(), (*new).into()))
                .collect(),
            exports: exports
                .iter()
                .map(|(old, new)| ((*old).into(), (*new).into()))
                .collect(),
        }
    }

    #[test]
    fn the_glue_takes_every_new_name() {
        let names = renamed(
            &[
                ("__wbg_now_463ac581d2fc7ea3", "a"),
                ("__wbindgen_init_externref_table", "b"),
            ],
            &[
                ("verify", "c"),
                ("verifyAll", "d"),
                ("__wbindgen_externrefs", "e"),
            ],
        );
        let glue = names.rewrite(GLUE, "./m_bg.js").unwrap();
        assert!(glue.contains("a: function() {\n            return Date.now()"));
        assert!(glue.contains("b: function() {\n            const table = wasm.e;"));
        assert!(glue.contains(r#"{ __proto__: null, "a": import0 }"#));
        // `wasm.verify` is not taken for the start of `wasm.verifyAll`.
        assert!(glue.contains("return wasm.c(x) + wasm.d(x);"));
    }

    #[test]
    fn a_new_name_is_never_renamed_again() {
        // `a` is one export's new name and another's old one.
        let names = renamed(&[], &[("verify", "a"), ("a", "b")]);
        let glue = GLUE.replace("wasm.verifyAll(x)", "wasm.a(x)");
        let glue = names.rewrite(&glue, "./m_bg.js").unwrap();
        assert!(glue.contains("return wasm.a(x) + wasm.b(x);"), "{glue}");
    }

    #[test]
    fn glue_that_does_not_match_stops_the_build() {
        let missing = renamed(&[("__wbg_gone_0123456789abcdef", "a")], &[]);
        let error = missing.rewrite(GLUE, "./m_bg.js").unwrap_err();
        assert!(error.to_string().contains("__wbg_gone_0123456789abcdef"));

        // An export read other than as `wasm.name` would be left behind.
        let glue = GLUE.replace("wasm.verifyAll(x)", "wasm['verifyAll'](x)");
        let left = renamed(&[], &[("verifyAll", "d")]);
        let error = left.rewrite(&glue, "./m_bg.js").unwrap_err();
        assert!(error.to_string().contains("reads `verifyAll` other than"));

        let other_module = renamed(&[], &[]);
        assert!(other_module.rewrite(GLUE, "./other_bg.js").is_err());
    }
}
