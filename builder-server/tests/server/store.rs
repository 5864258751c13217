//! The store under concurrency: caches that a racing read cannot make stale,
//! tenants whose identity a recreated tenant does not inherit, concurrent
//! writers that get success or 409 (never 500) and lose no update, audiences
//! unique per issuer, and the migration of a database from before tenant ids.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection as _;
use tessera_server::store::Store;
use tessera_server::theme::preset;

use crate::support::{Server, demo_config, get, request, temp_dir};

async fn put_config(server: &Server, token: &str, slug: &str, etag: &str, config: &Value) -> u16 {
    let response = server
        .call(
            request(Method::PUT, &format!("/api/tenants/{slug}"))
                .token(token)
                .header("if-match", etag)
                .json(config),
        )
        .await;
    response.status.as_u16()
}

async fn reached(pause: &mut tessera_server::store::CacheFillPause) {
    tokio::time::timeout(Duration::from_secs(10), pause.reached())
        .await
        .expect("a cache miss reached the pause");
}

#[tokio::test]
async fn a_read_that_races_a_write_never_outlives_it() {
    let server = Server::start().await;
    let (root, store) = (server.root.clone(), server.state.store().clone());
    let mut config = serde_json::to_value(demo_config("acme", &server.issuer)).unwrap();

    // A cache miss (nothing read acme since it was created) reads version 1
    // from the database, then stops; a write commits version 2 and
    // invalidates; then the miss goes on to fill the cache.
    let store_config = {
        let store = store.clone();
        let mut pause = store.pause_next_cache_fill();
        let reader = tokio::spawn(async move { store.tenant("acme").await.unwrap().unwrap() });
        reached(&mut pause).await;
        config["audience"] = json!("acme-api-after-the-race");
        assert_eq!(
            put_config(&server, &root, "acme", "\"c1\"", &config).await,
            200
        );
        pause.release();
        reader.await.unwrap()
    };
    assert_eq!(
        store_config.config.version, 1,
        "the racing read saw the old row"
    );

    // Nobody sees version 1 again: not the widget, not the admin API, whose
    // ETag lets the next write through.
    let public = server.call(get("/t/acme/config.json")).await.json();
    assert_eq!(public["audience"], "acme-api-after-the-race");
    let read = server.call(get("/api/tenants/acme").token(&root)).await;
    assert_eq!(read.header("etag"), Some("\"c2\""));
    config["display_name"] = json!("Acme, edited after the race");
    assert_eq!(
        put_config(&server, &root, "acme", "\"c2\"", &config).await,
        200
    );

    // The same for texts.
    let tenant = store.tenant("acme").await.unwrap().unwrap();
    let mut pause = store.pause_next_cache_fill();
    let reader = {
        let store = store.clone();
        tokio::spawn(async move { store.texts(&tenant, "de").await.unwrap() })
    };
    reached(&mut pause).await;
    let written = server
        .call(
            request(Method::PUT, "/api/tenants/acme/texts/de")
                .token(&root)
                .header("if-match", "\"x0\"")
                .json(&json!({"sign-in": "Nach dem Rennen"})),
        )
        .await;
    assert_eq!(written.status, StatusCode::OK);
    pause.release();
    assert_eq!(reader.await.unwrap().version, 0);
    let served = server.call(get("/t/acme/i18n/de.json")).await.json();
    assert_eq!(served["messages"]["sign-in"], "Nach dem Rennen");
    let read = server
        .call(get("/api/tenants/acme/texts/de").token(&root))
        .await;
    assert_eq!(read.header("etag"), Some("\"x1\""));
}

#[tokio::test]
async fn a_tenant_created_again_shares_nothing_with_the_deleted_one() {
    let server = Server::start().await;
    let root = server.root.clone();
    let old_css = server.call(get("/t/globex/theme.css")).await;
    assert_eq!(old_css.status, StatusCode::OK);
    let texts = server
        .call(
            request(Method::PUT, "/api/tenants/globex/texts/de")
                .token(&root)
                .header("if-match", "\"x0\"")
                .json(&json!({"sign-in": "Alte Globex"})),
        )
        .await;
    assert_eq!(texts.status, StatusCode::OK);
    assert_eq!(
        server.call(get("/t/globex/i18n/de.json")).await.json()["messages"]["sign-in"],
        "Alte Globex"
    );
    let deleted = server
        .call(
            request(Method::DELETE, "/api/tenants/globex")
                .token(&root)
                .header("if-match", "\"c1\""),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let created = server
        .call(
            request(Method::POST, "/api/tenants")
                .token(&root)
                .json(&json!({
                    "slug": "globex",
                    "config": demo_config("globex", &server.issuer),
                    "theme_preset": "forest",
                })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());

    let new_css = server.call(get("/t/globex/theme.css")).await;
    assert_ne!(new_css.text(), old_css.text(), "the deleted tenant's theme");
    assert_ne!(new_css.header("etag"), old_css.header("etag"));
    let forest =
        server.call(get("/api/themes").token(&root)).await.json()["forest"]["light"]["primary"]
            .as_str()
            .unwrap()
            .to_owned();
    assert!(new_css.text().contains(&forest), "{}", new_css.text());
    assert_ne!(
        server.call(get("/t/globex/i18n/de.json")).await.json()["messages"]["sign-in"],
        "Alte Globex"
    );
    let log = server
        .call(get("/api/tenants/globex/audit").token(&root))
        .await
        .json();
    let actions: Vec<(&str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["action"].as_str().unwrap(),
                entry["resource"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [("create", "tenant")],
        "only the new tenant's rows"
    );
    // The instance's log keeps the deleted tenant's history.
    let instance = server.call(get("/api/audit").token(&root)).await.json();
    assert!(instance.as_array().unwrap().iter().any(|entry| {
        entry["tenant"] == "globex" && entry["action"] == "delete" && entry["resource"] == "tenant"
    }));
}

/// Runs `tasks` tasks of `writes` read-then-write rounds each, the task's
/// round on `target(task)`; returns how many writes each tenant accepted.
async fn write_concurrently(
    server: &Arc<Server>,
    tenants: &[String],
    tasks: usize,
    writes: usize,
) -> Vec<usize> {
    let mut handles = Vec::new();
    for task in 0..tasks {
        let server = Arc::clone(server);
        let slug = tenants[task % tenants.len()].clone();
        handles.push(tokio::spawn(async move {
            let (root, mut statuses) = (server.root.clone(), Vec::new());
            for write in 0..writes {
                // Alternate between the configuration, the theme and texts.
                let (path, prefix) = match write % 3 {
                    0 => (format!("/api/tenants/{slug}"), 'c'),
                    1 => (format!("/api/tenants/{slug}/theme"), 't'),
                    _ => (format!("/api/tenants/{slug}/texts/de"), 'x'),
                };
                let read = server.call(get(&path).token(&root)).await;
                assert_eq!(read.status, StatusCode::OK, "{}", read.text());
                let etag = read.header("etag").unwrap().to_owned();
                let body = match prefix {
                    'c' => {
                        let mut config = read.json()["config"].clone();
                        config["display_name"] = json!(format!("task {task} write {write}"));
                        config
                    }
                    't' => {
                        let mut theme = read.json();
                        theme["radius"] = json!(format!("{}px", write % 20));
                        theme
                    }
                    _ => json!({"sign-in": format!("Task {task} Runde {write}")}),
                };
                let written = server
                    .call(
                        request(Method::PUT, &path)
                            .token(&root)
                            .header("if-match", &etag)
                            .json(&body),
                    )
                    .await;
                statuses.push((prefix, written.status, written.text()));
            }
            (slug, statuses)
        }));
    }
    let mut accepted = vec![0; tenants.len()];
    let mut by_resource = std::collections::BTreeMap::new();
    for handle in handles {
        let (slug, statuses) = handle.await.unwrap();
        for (prefix, status, text) in statuses {
            assert!(
                status == StatusCode::OK || status == StatusCode::CONFLICT,
                "{status} {text}"
            );
            // Writers queue for the write lock: a conflict is always another
            // writer's newer version, never a busy database.
            assert!(
                status == StatusCode::OK || text.contains("changed since you read it"),
                "{status} {text}"
            );
            if status == StatusCode::OK {
                let index = tenants.iter().position(|t| *t == slug).unwrap();
                accepted[index] += 1;
                *by_resource.entry((slug.clone(), prefix)).or_insert(0) += 1;
            }
        }
    }
    // No lost update: every accepted write moved its resource one version on.
    for slug in tenants {
        for (prefix, path, first) in [
            ('c', format!("/api/tenants/{slug}"), 1),
            ('t', format!("/api/tenants/{slug}/theme"), 1),
            ('x', format!("/api/tenants/{slug}/texts/de"), 0),
        ] {
            let read = server.call(get(&path).token(&server.root)).await;
            let count = by_resource
                .get(&(slug.clone(), prefix))
                .copied()
                .unwrap_or(0);
            assert_eq!(
                read.header("etag").unwrap(),
                format!("\"{prefix}{}\"", first + count),
                "{path}"
            );
        }
        let log = server
            .call(get(&format!("/api/tenants/{slug}/audit")).token(&server.root))
            .await
            .json();
        let updates = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["action"] == "update")
            .count();
        let index = tenants.iter().position(|t| t == slug).unwrap();
        assert_eq!(updates, accepted[index], "one audit row per accepted write");
    }
    accepted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_get_success_or_conflict_and_lose_nothing() {
    let dir = temp_dir("concurrent");
    let store = Store::open(&dir.join("tessera.sqlite3")).await.unwrap();
    let server = Arc::new(Server::with_store(store, &dir).await);
    // One tenant: 20 tasks x 10 writes.
    let accepted = write_concurrently(&server, &["acme".to_owned()], 20, 10).await;
    assert!(accepted[0] > 0);
    // Different tenants: 20 tasks x 10 writes over ten tenants.
    let mut tenants = Vec::new();
    for index in 0..10 {
        let slug = format!("shop-{index}");
        let created = server
            .call(
                request(Method::POST, "/api/tenants")
                    .token(&server.root)
                    .json(&json!({
                        "slug": slug,
                        "config": demo_config(&slug, &server.issuer),
                    })),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        tenants.push(slug);
    }
    let accepted = write_concurrently(&server, &tenants, 20, 10).await;
    assert!(accepted.iter().all(|count| *count > 0), "{accepted:?}");
}

#[tokio::test]
async fn a_write_that_waits_too_long_for_the_lock_gets_a_conflict() {
    let dir = temp_dir("busy");
    let path = dir.join("tessera.sqlite3");
    let store = Store::open_with_busy_timeout(&path, Duration::from_millis(200))
        .await
        .unwrap();
    let server = Server::with_store(store, &dir).await;
    let config = serde_json::to_value(demo_config("acme", &server.issuer)).unwrap();
    // Another process holds the write lock.
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let put = || {
        request(Method::PUT, "/api/tenants/acme")
            .token(&server.root)
            .header("if-match", "\"c1\"")
            .json(&config)
    };
    let busy = server.call(put()).await;
    assert_eq!(
        (busy.status, busy.code().as_str()),
        (StatusCode::CONFLICT, "conflict"),
        "{}",
        busy.text()
    );
    assert!(busy.text().contains("busy"), "{}", busy.text());
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    assert_eq!(server.call(put()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn audiences_are_unique_per_issuer() {
    let server = Server::start().await;
    let root = server.root.clone();
    let with_audience = |slug: &str, issuer: &str, audience: &str| {
        let mut config = serde_json::to_value(demo_config(slug, issuer)).unwrap();
        config["audience"] = json!(audience);
        config
    };
    let issuer = server.issuer.clone();
    let create = |slug: &str, issuer: &str| {
        let config = with_audience(slug, issuer, "acme-api");
        request(Method::POST, "/api/tenants")
            .token(&root)
            .json(&json!({"slug": slug, "config": config}))
    };
    let update = |slug: &str| {
        request(Method::PUT, &format!("/api/tenants/{slug}"))
            .token(&root)
            .header("if-match", "\"c1\"")
            .json(&with_audience(slug, &issuer, "acme-api"))
    };
    let cases = [
        (
            "a new tenant claims acme's audience",
            create("thief", &issuer),
            StatusCode::CONFLICT,
        ),
        (
            "globex claims acme's audience",
            update("globex"),
            StatusCode::CONFLICT,
        ),
        (
            "acme keeps its own audience",
            update("acme"),
            StatusCode::OK,
        ),
        (
            "the same audience at another issuer",
            create("elsewhere", "https://id.other.example"),
            StatusCode::CREATED,
        ),
    ];
    let mut failures = Vec::new();
    for (name, call, status) in cases {
        let response = server.call(call).await;
        let field_ok = status != StatusCode::CONFLICT
            || (response.code() == "conflict" && response.json()["error"]["field"] == "audience");
        if response.status != status || !field_ok {
            failures.push(format!("{name}: {} {}", response.status, response.text()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // The tenant that was refused does not exist.
    assert_eq!(
        server
            .call(get("/api/tenants/thief").token(&root))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_database_from_before_tenant_ids_migrates() {
    let dir = temp_dir("migrate");
    let path = dir.join("tessera.sqlite3");
    // A database at the first migration, as the previous version left it:
    // `gone` was deleted and created again, `acme` has texts and a token.
    let first = dir.join("first");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/0001_initial.sql"),
        first.join("0001_initial.sql"),
    )
    .unwrap();
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let mut connection = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::migrate::Migrator::new(first.as_path())
            .await
            .unwrap()
            .run(&mut connection)
            .await
            .unwrap();
        let theme = serde_json::to_string(&preset("light").unwrap()).unwrap();
        for slug in ["acme", "gone"] {
            let config = serde_json::to_string(&demo_config(slug, "https://id.example")).unwrap();
            sqlx::query("INSERT INTO tenants VALUES (?, ?, 3, ?, 2, 0, 0)")
                .bind(slug)
                .bind(config)
                .bind(&theme)
                .execute(&mut connection)
                .await
                .unwrap();
        }
        let statements = [
            "INSERT INTO texts VALUES ('acme', 'de', '{\"sign-in\":\"Rein\"}', 4)",
            "INSERT INTO admin_tokens VALUES ('tok_1', x'01', 'acme', 'old', 0)",
            "INSERT INTO admin_tokens VALUES ('tok_2', x'02', NULL, 'root', 0)",
            "INSERT INTO audit_log (at, actor, action, tenant, resource) VALUES (0, 'cli', 'create', 'gone', 'tenant')",
            "INSERT INTO audit_log (at, actor, action, tenant, resource) VALUES (0, 'cli', 'delete', 'gone', 'tenant')",
            "INSERT INTO audit_log (at, actor, action, tenant, resource) VALUES (0, 'cli', 'create', 'gone', 'tenant')",
            "INSERT INTO audit_log (at, actor, action, tenant, resource) VALUES (0, 'cli', 'update', 'gone', 'theme')",
            "INSERT INTO audit_log (at, actor, action, tenant, resource) VALUES (0, 'cli', 'create', 'acme', 'tenant')",
            "INSERT INTO audit_log (at, actor, action, tenant, resource) VALUES (0, 'cli', 'create', NULL, 'admin-token')",
        ];
        for statement in statements {
            sqlx::query(statement)
                .execute(&mut connection)
                .await
                .unwrap();
        }
        connection.close().await.unwrap();
    }
    let store = Store::open(&path).await.unwrap();
    let acme = store.tenant("acme").await.unwrap().unwrap();
    assert_eq!((acme.config.version, acme.theme.version), (3, 2));
    let texts = store.texts(&acme, "de").await.unwrap();
    assert_eq!(
        (texts.version, texts.value["sign-in"].as_str()),
        (4, "Rein")
    );
    // Each tenant's design became its revision 1, published.
    let history = store.design_history("acme").await.unwrap();
    assert_eq!((history.published, history.head), (1, 1));
    let first = store.design_revision("acme", 1).await.unwrap();
    assert_eq!(first.design.theme, preset("light").unwrap());
    assert_eq!(first.design.texts["de"]["sign-in"], "Rein");
    assert!(
        store
            .design_revision("gone", 1)
            .await
            .unwrap()
            .design
            .texts
            .is_empty()
    );
    let gone = store.tenant("gone").await.unwrap().unwrap();
    assert_ne!(gone.id, acme.id);
    let log: Vec<(String, String)> = store
        .audit_log(gone.id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| (entry.action, entry.resource))
        .collect();
    assert_eq!(
        log,
        [
            ("update".to_owned(), "theme".to_owned()),
            ("create".to_owned(), "tenant".to_owned())
        ],
        "the current tenant's rows, not its predecessor's"
    );
    assert_eq!(store.instance_audit_log(100).await.unwrap().len(), 6);
    let tokens = store.admin_tokens(None).await.unwrap();
    let summary: Vec<(&str, Option<&str>)> = tokens
        .iter()
        .map(|token| (token.id.as_str(), token.tenant.as_deref()))
        .collect();
    assert_eq!(summary, [("tok_1", Some("acme")), ("tok_2", None)]);
    let in_thirty_days = tessera_server::store::now() + 30 * 86_400;
    assert!(
        tokens
            .iter()
            .all(|token| (in_thirty_days - 5..=in_thirty_days).contains(&token.expires_at))
    );
    // The audience index came with it.
    let thief = store
        .create_tenant(
            "cli",
            "thief",
            &demo_config("acme", "https://id.example"),
            &preset("light").unwrap(),
        )
        .await;
    assert!(
        matches!(
            thief,
            Err(tessera_server::store::StoreError::AudienceTaken(_))
        ),
        "{thief:?}"
    );
}
