//! Two `tessera serve` processes on one PostgreSQL database, as a load
//! balancer runs them: requests alternate between them, and one is killed
//! with SIGKILL in the middle of admin writes and event deliveries.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::events::{LOGTO_KEY, Shop, logto};
use crate::support::{demo_config, fixture_dist, postgres_database, temp_dir};

/// One `tessera serve` process.
struct Replica {
    child: Child,
    base: String,
}

impl Replica {
    /// Starts a replica on `url` and waits until it is ready.
    async fn start(name: &str, url: &str, dist: &std::path::Path) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = temp_dir(name);
        let config = dir.join("tessera.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:{port}\"\npublic_url = \"https://auth.shop.example\"\n\
                 data_dir = \"{}\"\ndist_dir = \"{}\"\n[database]\nurl = \"{url}\"\n",
                dir.join("data").display(),
                dist.display()
            ),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["serve", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let replica = Replica {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while reqwest::get(format!("{}/readyz", replica.base))
            .await
            .map_or(true, |answer| !answer.status().is_success())
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{name} never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        replica
    }

    /// SIGKILL: no shutdown, no goodbye.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An all-tenants admin token, made by the CLI on the same database.
fn admin_token(url: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args([
            "admin",
            "create-token",
            "--all-tenants",
            "--database-url",
            url,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .find(|word| word.starts_with("tsa_"))
        .expect("the CLI prints the token")
        .to_owned()
}

async fn call(
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> Option<(u16, String)> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let answer = request.send().await.ok()?;
    let status = answer.status().as_u16();
    Some((status, answer.text().await.ok()?))
}

#[tokio::test]
async fn two_serve_processes_share_one_database_and_survive_a_kill() {
    let url = postgres_database().await;
    let dist = fixture_dist();
    let mut a = Replica::start("replica-a", &url, &dist).await;
    let b = Replica::start("replica-b", &url, &dist).await;
    let token = admin_token(&url);
    let post = |base: &str, path: &str, body: Value| {
        call(
            reqwest::Method::POST,
            format!("{base}{path}"),
            &token,
            Some(body),
        )
    };
    let created = post(
        &a.base,
        "/api/tenants",
        json!({"slug": "acme", "config": demo_config("acme", "https://id.shop.example"), "theme_preset": "light"}),
    )
    .await
    .unwrap();
    assert_eq!(created.0, 201, "{}", created.1);

    // A write at B is served by A's public endpoint within a second.
    let css = |base: String| async move {
        reqwest::get(format!("{base}/t/acme/theme.css"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let before = css(a.base.clone()).await;
    let (_, theme) = call(
        reqwest::Method::GET,
        format!("{}/api/tenants/acme/theme", b.base),
        &token,
        None,
    )
    .await
    .unwrap();
    let mut theme: Value = serde_json::from_str(&theme).unwrap();
    theme["radius"] = json!("11px");
    let client = reqwest::Client::new();
    let put = client
        .put(format!("{}/api/tenants/acme/theme", b.base))
        .bearer_auth(&token)
        .header("if-match", "\"t1\"")
        .header("content-type", "application/json")
        .body(theme.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    let written = Instant::now();
    while css(a.base.clone()).await == before {
        assert!(
            written.elapsed() < Duration::from_secs(1),
            "A still serves the old theme"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // IdP events arrive at either replica; with both relays running each
    // is delivered exactly once.
    let shop = Shop::start().await;
    let endpoint = post(
        &a.base,
        "/api/tenants/acme/event-endpoints",
        json!({"url": shop.url}),
    )
    .await
    .unwrap();
    assert_eq!(endpoint.0, 201, "{}", endpoint.1);
    let source = post(
        &a.base,
        "/api/tenants/acme/event-sources",
        json!({"label": "Logto", "format": "logto", "secret": LOGTO_KEY}),
    )
    .await
    .unwrap();
    let source_url: Value = serde_json::from_str(&source.1).unwrap();
    let source_path = source_url["url"]
        .as_str()
        .unwrap()
        .strip_prefix("https://auth.shop.example")
        .unwrap()
        .to_owned();
    let send = |base: String, user: String| {
        let path = source_path.clone();
        async move {
            let (body, signature) = logto("User.Deleted", &user, LOGTO_KEY);
            reqwest::Client::new()
                .post(format!("{base}{path}"))
                .header("content-type", "application/json")
                .header("logto-signature-sha-256", signature)
                .body(body)
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .is_ok_and(|answer| answer.status().is_success())
        }
    };
    let mut acknowledged = Vec::new();
    for user in 0..6 {
        let base = if user % 2 == 0 { &a.base } else { &b.base };
        assert!(send(base.clone(), format!("both-{user}")).await);
        acknowledged.push(format!("both-{user}"));
    }
    let ids = |shop: &Shop| -> Vec<String> {
        shop.received
            .lock()
            .unwrap()
            .iter()
            .map(|(headers, _)| headers["webhook-id"].to_str().unwrap().to_owned())
            .collect()
    };
    let waited = Instant::now();
    while ids(&shop).len() < 6 {
        assert!(
            waited.elapsed() < Duration::from_secs(20),
            "undelivered: {:?}",
            ids(&shop)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A moment more, for a second copy that would be on its way.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut delivered = ids(&shop);
    delivered.sort();
    delivered.dedup();
    assert_eq!(
        (ids(&shop).len(), delivered.len()),
        (6, 6),
        "each exactly once"
    );

    // Admin writes and events keep coming at both; A is killed partway.
    let mut written = Vec::new();
    for index in 0..24 {
        if index == 10 {
            a.kill();
        }
        let base = if index % 2 == 0 {
            a.base.clone()
        } else {
            b.base.clone()
        };
        let slug = format!("shop-{index}");
        let config = demo_config(&slug, "https://id.shop.example");
        if let Some((201, _)) = post(
            &base,
            "/api/tenants",
            json!({"slug": slug, "config": config, "theme_preset": "dark"}),
        )
        .await
        {
            written.push(slug);
        }
        let user = format!("kill-{index}");
        if send(base, user.clone()).await {
            acknowledged.push(user);
        }
    }
    assert!(written.len() >= 17, "{written:?}");
    // Every acknowledged write is there, served by the survivor.
    for slug in &written {
        let answer = reqwest::get(format!("{}/t/{slug}/config.json", b.base))
            .await
            .unwrap();
        assert_eq!(
            answer.status().as_u16(),
            200,
            "{slug} was acknowledged and lost"
        );
    }
    // Every acknowledged event reaches the shop, through the survivor.
    let subjects = |shop: &Shop| -> std::collections::BTreeSet<String> {
        shop.received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, event)| event["data"]["sub"].as_str().unwrap().to_owned())
            .collect()
    };
    let waited = Instant::now();
    while !acknowledged
        .iter()
        .all(|user| subjects(&shop).contains(user))
    {
        assert!(
            waited.elapsed() < Duration::from_secs(40),
            "lost: {:?}",
            acknowledged
                .iter()
                .filter(|user| !subjects(&shop).contains(*user))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
