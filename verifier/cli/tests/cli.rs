//! The `tessera-verify` binary end to end: exit codes, JSON output, stdin.

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};

const NOW: i64 = 1_800_000_000;

struct Fixture {
    dir: std::path::PathBuf,
    key: EcdsaKeyPair,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let random = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random).unwrap();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &random)
                .unwrap();
        let point = key.public_key().as_ref();
        let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])}]});
        let dir =
            std::env::temp_dir().join(format!("tessera-verify-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("jwks.json"), jwks.to_string()).unwrap();
        Fixture { dir, key }
    }

    fn token(&self, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":"k1","typ":"at+jwt"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn run(&self, extra: &[&str], token: &str, stdin: Option<&str>) -> (i32, String, String) {
        let jwks = self.dir.join("jwks.json");
        let mut command = Command::new(env!("CARGO_BIN_EXE_tessera-verify"));
        command
            .args([
                "--jwks",
                jwks.to_str().unwrap(),
                "--issuer",
                "https://id.example",
                "--audience",
                "shop",
            ])
            .args(["--now", &NOW.to_string()])
            .args(extra)
            .arg(token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let output = child.wait_with_output().unwrap();
        (
            output.status.code().unwrap(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    }
}

fn claims() -> Value {
    json!({"iss": "https://id.example", "aud": "shop", "sub": "p-1", "exp": NOW + 60, "iat": NOW - 5})
}

#[test]
fn valid_token_prints_header_and_claims() {
    let fixture = Fixture::new("valid");
    let (code, stdout, _) = fixture.run(
        &["--typ", "at+jwt", "--algorithms", "ES256,EdDSA"],
        &fixture.token(&claims()),
        None,
    );
    assert_eq!(code, 0, "{stdout}");
    let output: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(output["claims"]["sub"], "p-1");
    assert_eq!(output["header"]["alg"], "ES256");
}

#[test]
fn token_from_stdin() {
    let fixture = Fixture::new("stdin");
    let line = format!("{}\n", fixture.token(&claims()));
    let (code, stdout, _) = fixture.run(&[], "-", Some(&line));
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn rejected_token_prints_code_and_exits_1() {
    let fixture = Fixture::new("rejected");
    let mut expired = claims();
    expired["exp"] = json!(NOW - 1);
    let (code, stdout, _) = fixture.run(&[], &fixture.token(&expired), None);
    assert_eq!(code, 1);
    let output: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(output["error"]["code"], "ERR_JWT_EXPIRED");
    assert_eq!(output["error"]["claim"], "exp");

    let mut with_email = claims();
    with_email["email"] = json!("ann@example.com");
    let (code, stdout, _) = fixture.run(&["--reject-pii"], &fixture.token(&with_email), None);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("ERR_JWT_PERSONAL_DATA") && !stdout.contains("ann@"),
        "{stdout}"
    );

    let (code, stdout, _) = fixture.run(&["--max-token-age", "1"], &fixture.token(&claims()), None);
    assert_eq!(
        (code, stdout.contains("ERR_JWT_EXPIRED")),
        (1, true),
        "{stdout}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let fixture = Fixture::new("usage");
    let (code, _, stderr) = fixture.run(&["--algorithms", "HS256"], "x.y.z", None);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = fixture.run(&["--clock-tolerance", "soon"], "x.y.z", None);
    assert_eq!(code, 2, "{stderr}");
    std::fs::write(fixture.dir.join("jwks.json"), "{not json").unwrap();
    let (code, _, stderr) = fixture.run(&[], "x.y.z", None);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot use the key file"), "{stderr}");
    let missing = Command::new(env!("CARGO_BIN_EXE_tessera-verify"))
        .arg("tok")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}
