//! The PostgreSQL schema: applied once when replicas start together, and
//! the same tables and columns as the SQLite migrations leave.

use std::collections::BTreeMap;

use sqlx::Row as _;

use super::support::*;

#[tokio::test]
async fn postgres_migrations_apply_once_and_match_the_sqlite_schema() {
    let cluster = Postgres::start();
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

    // Every table and column of the SQLite schema, and nothing else.
    let mut postgres: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' ORDER BY t, c",
    )
    .fetch_all(&replicas[0])
    .await
    .unwrap()
    {
        postgres.entry(row.get("t")).or_default().push(row.get("c"));
    }
    let sqlite = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    sqlx::migrate!("./migrations").run(&sqlite).await.unwrap();
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations' \
         ORDER BY t, c",
    )
    .fetch_all(&sqlite)
    .await
    .unwrap()
    {
        expected.entry(row.get("t")).or_default().push(row.get("c"));
    }
    assert_eq!(postgres, expected);
}
