//! Small helpers for running commands with clear failure messages.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, bail};

/// The workspace root (the parent of this crate's folder).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Prints a step heading.
pub fn step(title: &str) {
    eprintln!("\n==> {title}");
}

/// Runs a program, failing with its name when it fails.
pub fn run(program: &str, arguments: &[&str]) -> anyhow::Result<()> {
    let status = Command::new(program)
        .args(arguments)
        .status()
        .with_context(|| format!("cannot start `{program}`: is it installed?"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", arguments.join(" "));
    }
    Ok(())
}

/// Runs a program and returns its standard output.
pub fn output(program: &str, arguments: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(program)
        .args(arguments)
        .output()
        .with_context(|| format!("cannot start `{program}`: is it installed?"))?;
    if !output.status.success() {
        bail!(
            "`{program} {}` failed: {}",
            arguments.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Whether a program can be found on the PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Test counts gathered from runners' output.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
}

/// Runs a test runner, echoing its output, and adds up what it reports:
/// cargo's `test result: ok. N passed; M failed` and node's `# pass N` /
/// `# fail M`.
pub fn run_counting(program: &str, arguments: &[&str], counts: &mut Counts) -> anyhow::Result<()> {
    run_counting_command(Command::new(program).args(arguments), counts)
}

/// Like [`run_counting`], for a command that needs its own environment.
pub fn run_counting_command(command: &mut Command, counts: &mut Counts) -> anyhow::Result<()> {
    use std::io::BufRead as _;
    let program = command.get_program().to_string_lossy().into_owned();
    let arguments: Vec<String> = command
        .get_args()
        .map(|argument| argument.to_string_lossy().into_owned())
        .collect();
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start `{program}`: is it installed?"))?;
    let stdout = child.stdout.take().context("no stdout")?;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        let number = |text: &str| {
            text.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
        };
        if let Some(rest) = line.strip_prefix("test result: ") {
            for part in rest.split(';') {
                let part = part
                    .trim()
                    .trim_start_matches("ok. ")
                    .trim_start_matches("FAILED. ");
                if part.ends_with(" passed") {
                    counts.passed += number(part).unwrap_or(0);
                } else if part.ends_with(" failed") {
                    counts.failed += number(part).unwrap_or(0);
                }
            }
        } else if let Some(rest) = line.strip_prefix("# pass ") {
            counts.passed += number(rest).unwrap_or(0);
        } else if let Some(rest) = line.strip_prefix("# fail ") {
            counts.failed += number(rest).unwrap_or(0);
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", arguments.join(" "));
    }
    Ok(())
}
