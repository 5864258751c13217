//! The `tessera` binary's commands: tenants and admin tokens on a fresh data
//! folder, and `serve` refusing bad settings.

use std::process::Command;

use serde_json::json;

use crate::support::{demo_config, temp_dir};

fn tessera(arguments: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(arguments)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn tenants_and_tokens_from_the_command_line() {
    let dir = temp_dir("cli");
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    for command in [&["tenant", "list"][..], &["admin", "list-tokens"]] {
        let (code, _, stderr) = tessera(&[command, &["--data-dir", data]].concat());
        assert_ne!(code, 0);
        assert!(stderr.contains("no database"), "{stderr}");
    }

    let file = dir.join("shop.json");
    let config = demo_config("cli-shop", "https://id.shop.example");
    std::fs::write(
        &file,
        json!({"slug": "cli-shop", "config": config, "theme_preset": "mono"}).to_string(),
    )
    .unwrap();
    let (code, stdout, stderr) = tessera(&[
        "tenant",
        "create",
        "--from",
        file.to_str().unwrap(),
        "--data-dir",
        data,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("created tenant `cli-shop`"));
    let (code, stdout, _) = tessera(&["tenant", "list", "--data-dir", data]);
    assert_eq!((code, stdout.trim()), (0, "cli-shop"));
    let (_, stdout, _) = tessera(&["tenant", "show", "cli-shop", "--data-dir", data]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["client_id"],
        "cli-shop"
    );

    let (code, stdout, stderr) = tessera(&[
        "admin",
        "create-token",
        "--tenant",
        "cli-shop",
        "--data-dir",
        data,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.trim().starts_with("tsa_") && stderr.contains("shown only now"));
    let id = stderr
        .split_whitespace()
        .find(|word| word.starts_with("tok_"))
        .unwrap()
        .to_owned();
    let (code, stdout, stderr) = tessera(&[
        "admin",
        "create-token",
        "--all-tenants",
        "--label",
        "nightly backup",
        "--expires-in-days",
        "7",
        "--data-dir",
        data,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stdout.trim().is_empty() && stderr.contains("valid until"),
        "{stderr}"
    );
    let (code, listed, _) = tessera(&["admin", "list-tokens", "--data-dir", data]);
    assert_eq!(code, 0);
    assert!(!listed.contains("tsa_"), "secrets are never shown again");
    let row = listed.lines().find(|line| line.starts_with(&id)).unwrap();
    assert!(row.contains("cli-shop") && row.contains("never"), "{row}");
    assert!(listed.contains("(all tenants)") && listed.contains("nightly backup"));
    let (code, stdout, stderr) = tessera(&["admin", "revoke-token", &id, "--data-dir", data]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("revoked"));
    let (_, listed, _) = tessera(&["admin", "list-tokens", "--data-dir", data]);
    assert!(!listed.contains(&id), "{listed}");
    for (arguments, message) in [
        (&["admin", "revoke-token", &id][..], "no admin token"),
        (
            &[
                "admin",
                "create-token",
                "--all-tenants",
                "--expires-in-days",
                "0",
            ],
            "1 to 365 days",
        ),
    ] {
        let (code, _, stderr) = tessera(&[arguments, &["--data-dir", data]].concat());
        assert_ne!(code, 0, "{arguments:?}");
        assert!(stderr.contains(message), "{arguments:?}: {stderr}");
    }
    let (code, _, stderr) = tessera(&[
        "admin",
        "create-token",
        "--tenant",
        "nobody",
        "--data-dir",
        data,
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("no tenant `nobody`"), "{stderr}");
    let (code, _, stderr) = tessera(&["admin", "create-token", "--data-dir", data]);
    assert_eq!(
        code, 2,
        "clap: --tenant or --all-tenants is required: {stderr}"
    );
    std::fs::write(&file, "{\"slug\": \"x\"}").unwrap();
    let (code, _, stderr) = tessera(&[
        "tenant",
        "create",
        "--from",
        file.to_str().unwrap(),
        "--data-dir",
        data,
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("is not a valid tenant"), "{stderr}");
}

#[test]
fn serve_refuses_incomplete_settings() {
    let dir = temp_dir("serve");
    let settings = dir.join("tessera.toml");
    std::fs::write(&settings, "listen = \"127.0.0.1:0\"\n").unwrap();
    let (code, _, stderr) = tessera(&["serve", "--config", settings.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("`public_url`") && stderr.contains("`data_dir`"),
        "{stderr}"
    );
    for command in [
        &["--help"][..],
        &["dev", "--help"],
        &["serve", "--help"],
        &["tenant", "--help"],
        &["admin", "create-token", "--help"],
        &["admin", "list-tokens", "--help"],
        &["admin", "revoke-token", "--help"],
        &["design", "--help"],
        &["design", "save", "--help"],
    ] {
        let (code, stdout, _) = tessera(command);
        assert_eq!(code, 0, "{command:?}");
        assert!(stdout.contains("Usage"), "{command:?}");
    }
}

#[test]
fn designs_are_exported_saved_and_published_from_the_command_line() {
    let dir = temp_dir("cli-design");
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    let file = dir.join("shop.json");
    let config = demo_config("cli-design", "https://id.shop.example");
    std::fs::write(
        &file,
        json!({"slug": "cli-design", "config": config, "theme_preset": "mono"}).to_string(),
    )
    .unwrap();
    let (code, _, stderr) = tessera(&[
        "tenant",
        "create",
        "--from",
        file.to_str().unwrap(),
        "--data-dir",
        data,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, exported, stderr) = tessera(&["design", "export", "cli-design", "--data-dir", data]);
    assert_eq!(code, 0, "{stderr}");
    let mut design: serde_json::Value = serde_json::from_str(&exported).unwrap();
    design["texts"] = json!({"de": {"sign-in": "Rein"}});
    let draft = dir.join("design.json");
    std::fs::write(&draft, design.to_string()).unwrap();
    let save = |base: &str| {
        tessera(&[
            "design",
            "save",
            "cli-design",
            "--from",
            draft.to_str().unwrap(),
            "--base",
            base,
            "--note",
            "German",
            "--data-dir",
            data,
        ])
    };
    let (code, stdout, stderr) = save("1");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("saved revision 2"), "{stdout}");
    // Saved from revision 1 again: someone (this very command) saved since.
    let (code, _, stderr) = save("1");
    assert_ne!(code, 0);
    assert!(
        stderr.contains("revision 2 of the design was saved by cli"),
        "{stderr}"
    );
    let (_, history, _) = tessera(&["design", "history", "cli-design", "--data-dir", data]);
    let first_line = history.lines().next().unwrap();
    assert!(
        first_line.starts_with("2\t") && first_line.contains("German"),
        "{history}"
    );
    assert!(!first_line.ends_with("published"), "a draft: {history}");
    let (code, _, stderr) = tessera(&["design", "publish", "cli-design", "2", "--data-dir", data]);
    assert_eq!(code, 0, "{stderr}");
    let (_, history, _) = tessera(&["design", "history", "cli-design", "--data-dir", data]);
    assert!(
        history.lines().next().unwrap().ends_with("published"),
        "{history}"
    );
    // A bad design names its field and saves nothing.
    design["texts"] = json!({"de": {"sign-in": "Rein {"}});
    std::fs::write(&draft, design.to_string()).unwrap();
    let (code, _, stderr) = save("2");
    assert_ne!(code, 0);
    assert!(stderr.contains("texts.de.sign-in"), "{stderr}");
    let (_, exported, _) = tessera(&[
        "design",
        "export",
        "cli-design",
        "--revision",
        "2",
        "--data-dir",
        data,
    ]);
    let exported: serde_json::Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(exported["texts"]["de"]["sign-in"], "Rein");
    // A font file: refused when it is not WOFF2, else its digest printed,
    // which a saved design then names.
    let font = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/fonts/SourceCodePro-Medium.woff2"
    );
    let (code, _, stderr) = tessera(&[
        "design",
        "font",
        "cli-design",
        "--file",
        draft.to_str().unwrap(),
        "--data-dir",
        data,
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("not a WOFF2 font"), "{stderr}");
    let (code, digest, stderr) = tessera(&[
        "design",
        "font",
        "cli-design",
        "--file",
        font,
        "--data-dir",
        data,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let digest = digest.trim();
    assert_eq!(
        digest,
        tessera_server::theme::font_digest(&std::fs::read(font).unwrap())
    );
    design["texts"] = json!({});
    design["theme"]["font"] =
        json!({"family": "Source Code Pro", "faces": [{"weight": 500, "file": digest}]});
    std::fs::write(&draft, design.to_string()).unwrap();
    let (code, _, stderr) = save("2");
    assert_eq!(code, 0, "{stderr}");
}
