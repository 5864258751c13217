//! The PostgreSQL schema: applied once when replicas start together, and
//! the same tables and columns as the SQLite migrations leave.

use std::collections::BTreeMap;

use sqlx::Row as _;

use super::support::*;

#[tokio::test]
async fn postgres_migrations_apply_once_and_match_the_sqlite_schema() {
    let cluster = Postgres::start().unwrap();
    let replicas = [
        sqlx::PgPool::connect(&cluster.url).await.unwrap(),
        sqlx::PgPool::connect(&cluster.url).await.unwrap(),
    ];
    let migrator = sqlx::migrate!("./migrations/postgres");
    // Two replicas starting together: sqlx holds an advisory lock while it
    // migrates, so the second finds the work done.
    let (first, second) = tokio::join!(migrator.run(&replicas[0]), migrator.run(&replicas[1]));
    first.unwrap();
    second.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&replicas[0])
        .await
        .unwrap();
    assert_eq!(applied, i64::try_from(migrator.iter().count()).unwrap());

    assert_eq!(
        postgres_columns(&replicas[0]).await,
        sqlite_columns(sqlx::migrate!("./migrations")).await
    );
}

/// Every table and its columns in `pool`'s public schema (sqlx's own table
/// aside).
async fn postgres_columns(pool: &sqlx::PgPool) -> BTreeMap<String, Vec<String>> {
    let mut columns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' ORDER BY t, c",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        columns.entry(row.get("t")).or_default().push(row.get("c"));
    }
    columns
}

/// Every table and its columns that `migrator` leaves in a SQLite
/// database.
async fn sqlite_columns(migrator: sqlx::migrate::Migrator) -> BTreeMap<String, Vec<String>> {
    let sqlite = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    migrator.run(&sqlite).await.unwrap();
    let mut columns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations' \
         ORDER BY t, c",
    )
    .fetch_all(&sqlite)
    .await
    .unwrap()
    {
        columns.entry(row.get("t")).or_default().push(row.get("c"));
    }
    columns
}

#[tokio::test]
async fn the_demo_storefront_keeps_its_orders_in_postgresql() {
    use tessera_storefront::{DeliveryOutcome, OrderLine, Orders, ShopAction, Standing};
    let url = postgres_database().await;
    let orders = Orders::connect(&url).await.unwrap();
    // The same tables and columns as on SQLite.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    assert_eq!(
        postgres_columns(&pool).await,
        sqlite_columns(sqlx::migrate!("../demo-storefront/migrations")).await
    );
    let line = OrderLine {
        sku: "tile".into(),
        name: "Cobalt tile".into(),
        quantity: 2,
        unit_price_cents: 450,
    };
    let placed = orders
        .place("sub-1", vec![line.clone()], 100)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(placed.total_cents, 900);
    assert_eq!(orders.of("sub-1").await.unwrap(), [placed]);
    assert_eq!(
        orders.standing("sub-1", None, Some(100)).await.unwrap(),
        Standing::Good
    );
    // Sessions ended at the IdP: the later time wins, a replay is refused.
    let end = |at| ShopAction::EndSessions {
        subject: Some("sub-1".into()),
        session: None,
        at,
    };
    assert!(matches!(
        orders
            .apply_delivery("msg_1", &end(200), 300, 600)
            .await
            .unwrap(),
        DeliveryOutcome::Applied { .. }
    ));
    assert_eq!(
        orders
            .apply_delivery("msg_1", &end(200), 300, 600)
            .await
            .unwrap(),
        DeliveryOutcome::Replayed
    );
    orders
        .apply_delivery("msg_2", &end(150), 300, 600)
        .await
        .unwrap();
    assert_eq!(
        orders.standing("sub-1", None, Some(199)).await.unwrap(),
        Standing::SessionEnded
    );
    assert_eq!(
        orders.standing("sub-1", None, Some(201)).await.unwrap(),
        Standing::Good
    );
    // Disabled, enabled, erased with a tombstone that refuses new orders.
    let subject = || "sub-1".to_owned();
    for (id, action, standing) in [
        (
            "msg_3",
            ShopAction::Disable { subject: subject() },
            Standing::Disabled,
        ),
        (
            "msg_4",
            ShopAction::Enable { subject: subject() },
            Standing::Good,
        ),
    ] {
        orders.apply_delivery(id, &action, 300, 600).await.unwrap();
        assert_eq!(
            orders.standing("sub-1", None, Some(400)).await.unwrap(),
            standing
        );
    }
    assert_eq!(
        orders
            .apply_delivery("msg_5", &ShopAction::Erase { subject: subject() }, 300, 600)
            .await
            .unwrap(),
        DeliveryOutcome::Applied { erased_orders: 1 }
    );
    assert!(orders.of("sub-1").await.unwrap().is_empty());
    assert!(
        orders
            .place("sub-1", vec![line], 400)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        orders.standing("sub-1", None, Some(400)).await.unwrap(),
        Standing::Erased
    );
    orders.close().await;
}

#[tokio::test]
async fn the_suite_runs_on_the_store_it_was_asked_for() {
    let expected = if on_postgres() {
        tessera_server::store::Backend::Postgres
    } else {
        tessera_server::store::Backend::Sqlite
    };
    assert_eq!(test_store().await.backend(), expected);
}

fn settings(url: String) -> tessera_server::store::DatabaseSettings {
    tessera_server::store::DatabaseSettings {
        url,
        max_connections: 2,
        connect_timeout: std::time::Duration::from_secs(2),
        busy_timeout: tessera_server::store::BUSY_TIMEOUT,
    }
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_or_is_newer_is_refused_with_the_reason() {
    // Nobody listens on this port: refused within the connect timeout, with
    // the URL's password replaced.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = tessera_server::store::Store::connect(&settings(format!(
        "postgres://tessera:s3cret@127.0.0.1:{port}/tessera"
    )))
    .await
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains(&format!(
            "cannot reach the database at postgres://tessera:***@127.0.0.1:{port}/tessera"
        )),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "{message}");

    // A schema a newer release migrated: this binary does not touch it.
    let cluster = Postgres::start().unwrap();
    let url = new_database(&cluster);
    let store = tessera_server::store::Store::connect(&settings(url.clone()))
        .await
        .unwrap();
    assert_eq!(store.backend(), tessera_server::store::Backend::Postgres);
    store.close().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from the future', TRUE, '\\x00', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let message = format!(
        "{:#}",
        tessera_server::store::Store::connect(&settings(url))
            .await
            .unwrap_err()
    );
    assert!(
        message.contains("has migration 99990101000000, which this binary does not know")
            && message.contains("newer than this tessera"),
        "{message}"
    );
}

/// How long replica `b` took to serve `path` differently from `before`;
/// panics after five seconds.
async fn changed_within(b: &Server, path: &str, before: &str) -> std::time::Duration {
    let started = std::time::Instant::now();
    loop {
        let now = b.call(get(path)).await;
        assert_eq!(now.status, axum::http::StatusCode::OK);
        if now.text() != before {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{path} is still stale on the other replica"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_admin_write_on_one_replica_is_served_by_the_other_within_a_second() {
    let url = postgres_database().await;
    let a = Server::with_store(replica(&url).await, &temp_dir("replica-a")).await;
    let b = Server::with_store(replica(&url).await, &temp_dir("replica-b")).await;
    // B has the published theme and texts in its caches.
    let theme_before = b.call(get("/t/acme/theme.css")).await.text();
    let texts_before = b.call(get("/t/acme/i18n/de.json")).await.text();
    assert_eq!(b.call(get("/t/acme/theme.css")).await.text(), theme_before);

    // A changes the theme through the admin API.
    let theme = a.call(get("/api/tenants/acme/theme").token(&a.acme)).await;
    let etag = theme.header("etag").unwrap().to_owned();
    let mut changed = theme.json();
    changed["radius"] = serde_json::json!("13px");
    let put = a
        .call(
            request(axum::http::Method::PUT, "/api/tenants/acme/theme")
                .token(&a.acme)
                .header("if-match", &etag)
                .json(&changed),
        )
        .await;
    assert_eq!(put.status, axum::http::StatusCode::OK, "{}", put.text());
    let took = changed_within(&b, "/t/acme/theme.css", &theme_before).await;
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
    assert!(
        b.call(get("/t/acme/theme.css"))
            .await
            .text()
            .contains("13px")
    );

    // A preview address the console on A signed is served by B.
    let tenant = a.state.tenant("acme").await.unwrap();
    let signature = tessera_server::public::preview_signature(&a.state, &tenant, 1);
    let preview = b
        .call(get(&format!("/preview/1/{signature}/t/acme/theme.css")))
        .await;
    assert_eq!(
        preview.status,
        axum::http::StatusCode::OK,
        "{}",
        preview.text()
    );

    // And the texts.
    let put = a
        .call(
            request(axum::http::Method::PUT, "/api/tenants/acme/texts/de")
                .token(&a.acme)
                .header("if-match", "\"x0\"")
                .json(&serde_json::json!({"sign-in": "Jetzt anmelden"})),
        )
        .await;
    assert_eq!(put.status, axum::http::StatusCode::OK, "{}", put.text());
    let took = changed_within(&b, "/t/acme/i18n/de.json", &texts_before).await;
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
    assert!(
        b.call(get("/t/acme/i18n/de.json"))
            .await
            .text()
            .contains("Jetzt anmelden")
    );
}

#[tokio::test]
async fn the_database_is_reached_over_tls_with_its_certificate_verified() {
    let server =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cluster =
        Postgres::start_with_tls(&server.cert.pem(), &server.key_pair.serialize_pem()).unwrap();
    let database = new_database(&cluster);
    let dir = temp_dir("tls");
    let (trusted, stranger) = (dir.join("server.pem"), dir.join("stranger.pem"));
    std::fs::write(&trusted, server.cert.pem()).unwrap();
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(&stranger, other.cert.pem()).unwrap();
    let with = |root: &std::path::Path| {
        format!(
            "{database}?sslmode=verify-full&sslrootcert={}",
            root.display()
        )
    };

    // The server's certificate checks out: connected, and over TLS.
    let store = tessera_server::store::Store::connect(&settings(with(&trusted)))
        .await
        .unwrap();
    store.close().await;
    let pool = sqlx::PgPool::connect(&with(&trusted)).await.unwrap();
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(encrypted);
    pool.close().await;

    // A certificate nobody vouched for is refused, and said so.
    let message = format!(
        "{:#}",
        tessera_server::store::Store::connect(&settings(with(&stranger)))
            .await
            .unwrap_err()
    );
    assert!(message.contains("cannot reach the database"), "{message}");
}
