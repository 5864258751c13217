//! The `tessera` binary: `dev`, `serve`, `tenant` and `admin` commands.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use tessera_server::admin::{
    DEFAULT_TOKEN_DAYS, NewTenant, create_admin_token, create_tenant_record, token_lifetime,
};
use tessera_server::assets::Assets;
use tessera_server::config::{self, LogFormat};
use tessera_server::issuer::DevIssuer;
use tessera_server::model::TenantConfig;
use tessera_server::store::{Backend, DATABASE_FILE, DatabaseSettings, Store};
use tessera_server::{AppState, app, i18n};

/// Tessera's builder server: tenant themes and texts, self-hosted widget
/// assets, and a development OpenID issuer.
#[derive(Debug, Parser)]
#[command(name = "tessera", version)]
struct Arguments {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run everything on one machine: SQLite in a data folder, a seeded demo
    /// tenant, the development issuer, and the URLs to open.
    Dev {
        /// Port to listen on (127.0.0.1 only).
        #[arg(long, default_value_t = 8787)]
        port: u16,
        /// Folder for the database and the issuer's keys.
        #[arg(long, default_value = ".tessera-data")]
        data_dir: PathBuf,
        /// Folder of the built widget (`cargo xtask dist` writes it).
        #[arg(long, default_value = "dist/widget")]
        widget_dir: PathBuf,
        /// Sign the demo shop in at this OpenID provider instead of the
        /// built-in development issuer (its client `demo` must be a public
        /// PKCE client redirecting to /demo/ and /demo/orders, with access
        /// tokens for the audience `demo-shop-api`). Applies when the data
        /// folder's demo tenant is first created.
        #[arg(long, value_name = "URL")]
        demo_issuer: Option<String>,
        /// Keep the demo shop's orders in this database (a postgres:// URL:
        /// the shop's own database, not tessera's) instead of a SQLite file
        /// in the data folder.
        #[arg(long, value_name = "URL")]
        demo_database_url: Option<String>,
    },
    /// Run in production from a settings file (see `config.example.toml`);
    /// environment variables TESSERA_LISTEN, TESSERA_PUBLIC_URL,
    /// TESSERA_DATA_DIR, TESSERA_DIST_DIR, TESSERA_LOG_FORMAT and
    /// TESSERA_DATABASE_URL override it. SQLite in the data folder unless
    /// `[database] url` names PostgreSQL.
    Serve {
        /// The TOML settings file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Also run the development issuer. Never in production: it signs
        /// tokens for anyone who clicks Allow.
        #[arg(long)]
        dangerous_dev_issuer: bool,
    },
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
        #[command(flatten)]
        database: DatabasePlace,
    },
    /// A tenant's design (theme and texts) as revisions: history, export,
    /// save a draft, publish or roll back.
    Design {
        #[command(subcommand)]
        command: DesignCommand,
        #[command(flatten)]
        database: DatabasePlace,
    },
    /// Manage admin API tokens.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
        #[command(flatten)]
        database: DatabasePlace,
    },
}

/// Where the offline commands find the database.
#[derive(Debug, clap::Args)]
struct DatabasePlace {
    /// Folder holding the database.
    #[arg(long, global = true, default_value = ".tessera-data")]
    data_dir: PathBuf,
    /// The database when it is not SQLite in the data folder: a
    /// postgres:// URL, the one `tessera serve` uses.
    #[arg(
        long,
        global = true,
        env = "TESSERA_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant from a JSON file: {"slug", "config", "theme_preset"?}.
    Create {
        /// The JSON file.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// List tenants.
    List,
    /// Print a tenant's configuration as JSON.
    Show {
        /// The tenant's slug.
        slug: String,
    },
}

#[derive(Debug, Subcommand)]
enum DesignCommand {
    /// List the revisions, newest first, marking the published one.
    History {
        /// The tenant's slug.
        slug: String,
    },
    /// Print a revision's design as JSON ({"theme", "texts"}), the format
    /// `save --from` reads (so a design copies between tenants). The
    /// published revision when none is given.
    Export {
        /// The tenant's slug.
        slug: String,
        /// The revision's number.
        #[arg(long)]
        revision: Option<i64>,
    },
    /// Save a design from a JSON file as a new draft revision; publishes
    /// nothing. Refused if a revision newer than --base exists.
    Save {
        /// The tenant's slug.
        slug: String,
        /// The JSON file ({"theme", "texts"}, as `export` prints).
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The revision the file was made from (see `history`).
        #[arg(long)]
        base: i64,
        /// What changed, for the history.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Upload a WOFF2 font file; prints its digest, which a theme's
    /// `font.faces[].file` names. The same file again prints the same.
    Font {
        /// The tenant's slug.
        slug: String,
        /// The WOFF2 file (at most 512 KiB).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Publish a revision; an older one than the published one rolls back.
    Publish {
        /// The tenant's slug.
        slug: String,
        /// The revision's number.
        revision: i64,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an admin API token; it is printed once and stored hashed.
    #[command(after_help = format!(
        "A token expires after --expires-in-days ({DEFAULT_TOKEN_DAYS} unless given); \
         `tessera admin list-tokens` shows it, `tessera admin revoke-token` ends it."
    ))]
    CreateToken {
        /// The tenant it manages.
        #[arg(
            long,
            conflicts_with = "all_tenants",
            required_unless_present = "all_tenants"
        )]
        tenant: Option<String>,
        /// Manage every tenant, and create new ones.
        #[arg(long)]
        all_tenants: bool,
        /// A note for the audit log.
        #[arg(long, default_value = "created with the CLI")]
        label: String,
        /// Days until it expires (1 to 365).
        #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_TOKEN_DAYS)]
        expires_in_days: u32,
    },
    /// List admin tokens (never their secrets): id, tenant, label, when
    /// created, when it expires, when last used.
    ListTokens,
    /// Revoke an admin token now, by its id (tok_...).
    RevokeToken {
        /// The token's id, as `list-tokens` shows it.
        id: String,
    },
    /// Print a one-time link that signs its opener in to the console as
    /// the instance's owner (before an IdP for admins is set up).
    LoginLink {
        /// Minutes until the link expires (1 to 60).
        #[arg(long, default_value_t = tessera_server::console::LINK_MINUTES)]
        minutes: u32,
        /// The server's public URL, which the link starts with.
        #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8787")]
        public_url: String,
    },
}

mod storefront;

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Logs go to stderr, apart from what commands print for people (the
    // dev banner, a new admin token) on stdout.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn open_store(data_dir: &Path) -> anyhow::Result<Store> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data folder {}", data_dir.display()))?;
    Store::open(&data_dir.join(DATABASE_FILE)).await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let arguments = Arguments::parse();
    i18n::catalog().map_err(|error| anyhow::anyhow!("the built-in texts are broken: {error}"))?;
    match arguments.command {
        Command::Dev {
            port,
            data_dir,
            widget_dir,
            demo_issuer,
            demo_database_url,
        } => dev(port, &data_dir, &widget_dir, demo_issuer, demo_database_url).await,
        Command::Serve {
            config,
            dangerous_dev_issuer,
        } => serve(&config, dangerous_dev_issuer).await,
        Command::Tenant { command, database } => tenant(command, database).await,
        Command::Admin { command, database } => admin(command, database).await,
        Command::Design { command, database } => design(command, database).await,
    }
}

async fn dev(
    port: u16,
    data_dir: &Path,
    widget_dir: &Path,
    demo_issuer: Option<String>,
    demo_database_url: Option<String>,
) -> anyhow::Result<()> {
    init_tracing(LogFormat::Text);
    let started = std::time::Instant::now();
    let public_url = format!("http://127.0.0.1:{port}");
    let store = open_store(data_dir).await?;
    let limits = config::Limits::default();
    // The development issuer signs the demo's customers in, and the
    // console's admins too (every demo user is an owner).
    let issuer = DevIssuer::open(
        &store,
        data_dir,
        &public_url,
        limits.token_requests_per_minute,
    )
    .await?
    .with_console_client(&public_url)?;
    let assets = Assets::load(widget_dir)?;
    let state = AppState::new(
        store,
        public_url.clone(),
        assets,
        Some(issuer.clone()),
        limits,
    )
    .with_console_idp(tessera_server::console::oidc::ConsoleIdp {
        issuer: issuer.issuer().to_owned(),
        client_id: tessera_server::issuer::CONSOLE_CLIENT_ID.to_owned(),
        client_secret: None,
        roles_claim: tessera_server::issuer::CONSOLE_ROLES_CLAIM.to_owned(),
    })
    .with_stored_preview_key()
    .await?;
    if state.store().tenant("demo").await?.is_none() {
        let config = TenantConfig {
            display_name: "Tessera demo shop".into(),
            issuer: demo_issuer
                .clone()
                .unwrap_or_else(|| issuer.issuer().to_owned()),
            client_id: "demo".into(),
            audience: "demo-shop-api".into(),
            audience_request: tessera_server::model::AudienceRequest::None,
            allowed_origins: vec![public_url.clone()],
            redirect_uris: vec![
                format!("{public_url}/demo/"),
                format!("{public_url}/demo/orders"),
            ],
            scopes: vec!["openid".into()],
            default_locale: "en".into(),
            enabled_locales: i18n::BASE_LOCALES.iter().map(|l| (*l).to_owned()).collect(),
            providers: Vec::new(),
            // The demo shop has several pages: keeping the session in the
            // tab's sessionStorage lets it survive going from one to the next.
            token_storage: tessera_server::model::TokenStorage::SessionStorage,
        };
        let request = NewTenant {
            slug: "demo".into(),
            config,
            theme_preset: Some("auto".into()),
            theme: None,
        };
        create_tenant_record(&state, "tessera-dev", request).await?;
    }
    let demo = state
        .tenant("demo")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(wanted) = &demo_issuer
        && *wanted != demo.config.value.issuer
    {
        bail!(
            "the demo tenant in {} uses the issuer {}; pass a fresh --data-dir to use {wanted}",
            data_dir.display(),
            demo.config.value.issuer
        );
    }
    let storefront = storefront::open(&state, data_dir, demo_database_url, &demo, &issuer).await?;
    let state = state.with_storefront(storefront.router());
    // The session's token lives while this process runs: it expires soon
    // after the last renewal, and is revoked when the server stops.
    let token = create_admin_token(
        &state,
        "tessera-dev",
        None,
        "tessera dev session",
        DEV_TOKEN_LIFETIME,
    )
    .await?;
    let renewal = tokio::spawn(renew_while_running(state.store().clone(), token.id.clone()));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port} (use --port)"))?;
    println!(
        "Tessera dev server ready in {} ms",
        started.elapsed().as_millis()
    );
    let console_link = tessera_server::console::create_login_link(state.store(), "tessera-dev", 60)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    println!("  console          {public_url}{console_link} (signs in once, within the hour)");
    println!("  builder API      {public_url}/api/openapi.json");
    println!(
        "  admin token      {} (all tenants, this session; shown once)",
        token.secret
    );
    println!("  demo tenant      {public_url}/t/demo/config.json");
    println!("  theme            {public_url}/t/demo/theme.css");
    println!("  texts            {public_url}/t/demo/i18n/auto.json");
    println!(
        "  dev issuer       {}/.well-known/openid-configuration",
        issuer.issuer()
    );
    if state.assets().integrity("tessera.js").is_none() {
        println!(
            "  widget           not built yet ({} is empty)",
            widget_dir.display()
        );
    } else {
        println!("  widget           {public_url}/widget/v1/tessera.js");
    }
    println!("  demo shop        {public_url}/demo/");
    println!(
        "  shop webhooks    {public_url}/demo/webhooks/idp (secret in {})",
        data_dir.join(storefront::WEBHOOK_SECRET_FILE).display()
    );
    println!("  health           {public_url}/healthz");
    let store = state.store().clone();
    let served = run(listener, state).await;
    renewal.abort();
    if let Err(error) = store
        .revoke_admin_token("tessera-dev", &token.id, None)
        .await
    {
        tracing::warn!(token = %token.id, error = %error, "could not revoke the session's admin token");
    }
    store.close().await;
    storefront.orders().close().await;
    served
}

/// How long `tessera dev`'s session token lives after its last renewal.
const DEV_TOKEN_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// Renews the session token every tenth of its lifetime.
async fn renew_while_running(store: Store, id: String) {
    let mut interval = tokio::time::interval(DEV_TOKEN_LIFETIME / 10);
    interval.tick().await;
    loop {
        interval.tick().await;
        let expires_at = tessera_server::store::now()
            .saturating_add(DEV_TOKEN_LIFETIME.as_secs().try_into().unwrap_or(i64::MAX));
        if let Err(error) = store.renew_admin_token(&id, expires_at).await {
            tracing::warn!(token = %id, error = %error, "could not renew the session's admin token");
        }
    }
}

async fn serve(path: &Path, dangerous_dev_issuer: bool) -> anyhow::Result<()> {
    let settings = config::load(path, &|name| std::env::var(name).ok())?;
    init_tracing(settings.log_format);
    if settings.database.backend()? == Backend::Sqlite {
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "cannot create the data folder {}",
                settings.data_dir.display()
            )
        })?;
    }
    let store = Store::connect(&settings.database).await?;
    let issuer = if dangerous_dev_issuer {
        tracing::warn!("the development issuer is running: never do this in production");
        Some(
            DevIssuer::open(
                &store,
                &settings.data_dir,
                &settings.public_url,
                settings.limits.token_requests_per_minute,
            )
            .await?,
        )
    } else {
        None
    };
    let assets = Assets::load(&settings.dist_dir.join("widget"))?;
    let mut state = AppState::new(
        store,
        settings.public_url.clone(),
        assets,
        issuer,
        settings.limits,
    )
    .with_stored_preview_key()
    .await?;
    if let Some(idp) = settings.console_idp.clone() {
        state = state.with_console_idp(idp);
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    tracing::info!(listen = %settings.listen, public_url = %settings.public_url, "tessera is ready");
    let store = state.store().clone();
    let served = run(listener, state).await;
    store.close().await;
    served
}

/// Serves until a shutdown signal; the caller closes the store.
async fn run(listener: tokio::net::TcpListener, state: AppState) -> anyhow::Result<()> {
    // Delivers IdP events to the shops; an attempt cut short by the
    // shutdown is still due and is sent again at the next start.
    let relay = tessera_server::events::relay::spawn(state.clone());
    let served = serve_until_signal(listener, state).await;
    relay.abort();
    served
}

async fn serve_until_signal(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> anyhow::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

/// Whether the command may create the database: creating a tenant or the
/// first admin token is how a fresh deployment starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Database {
    MustExist,
    MayCreate,
}

async fn cli_state(place: DatabasePlace, database: Database) -> anyhow::Result<AppState> {
    let data_dir = place.data_dir.as_path();
    let store = match place.database_url {
        Some(url) => {
            Store::connect(&DatabaseSettings {
                url,
                ..DatabaseSettings::sqlite_file(&data_dir.join(DATABASE_FILE))?
            })
            .await?
        }
        None => {
            if database == Database::MustExist && !data_dir.join(DATABASE_FILE).exists() {
                bail!(
                    "no database in {} (run `tessera dev` or `tessera serve` once, or pass --data-dir \
                     or --database-url)",
                    data_dir.display()
                );
            }
            open_store(data_dir).await?
        }
    };
    Ok(AppState::new(
        store,
        String::new(),
        Assets::default(),
        None,
        config::Limits::default(),
    ))
}

async fn tenant(command: TenantCommand, place: DatabasePlace) -> anyhow::Result<()> {
    let database = match command {
        TenantCommand::Create { .. } => Database::MayCreate,
        TenantCommand::List | TenantCommand::Show { .. } => Database::MustExist,
    };
    let state = cli_state(place, database).await?;
    match command {
        TenantCommand::Create { from } => {
            let text = std::fs::read_to_string(&from)
                .with_context(|| format!("cannot read {}", from.display()))?;
            let request: NewTenant = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid tenant", from.display()))?;
            let record = create_tenant_record(&state, "cli", request)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            println!("created tenant `{}`", record.slug);
        }
        TenantCommand::List => {
            for slug in state
                .store()
                .tenant_slugs()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                println!("{slug}");
            }
        }
        TenantCommand::Show { slug } => {
            let record = state
                .tenant(&slug)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            println!("{}", serde_json::to_string_pretty(&record.config.value)?);
        }
    }
    state.store().close().await;
    Ok(())
}

async fn design(command: DesignCommand, place: DatabasePlace) -> anyhow::Result<()> {
    let state = cli_state(place, Database::MustExist).await?;
    let store = state.store();
    let failed = |error: tessera_server::store::StoreError| anyhow::anyhow!("{error}");
    match command {
        DesignCommand::History { slug } => {
            let history = store.design_history(&slug).await.map_err(failed)?;
            for revision in &history.revisions {
                let marker = if revision.number == history.published {
                    "published"
                } else {
                    ""
                };
                println!(
                    "{}\t{}\t{}\t{}\t{marker}",
                    revision.number, revision.created_at, revision.author, revision.note
                );
            }
        }
        DesignCommand::Export { slug, revision } => {
            let number = match revision {
                Some(number) => number,
                None => store.design_history(&slug).await.map_err(failed)?.published,
            };
            let revision = store.design_revision(&slug, number).await.map_err(failed)?;
            println!("{}", serde_json::to_string_pretty(&revision.design)?);
        }
        DesignCommand::Save {
            slug,
            from,
            base,
            note,
        } => {
            let text = std::fs::read_to_string(&from)
                .with_context(|| format!("cannot read {}", from.display()))?;
            let design: tessera_server::store::Design = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid design", from.display()))?;
            let explain = |error: tessera_server::error::ApiError| match &error {
                tessera_server::error::ApiError::Invalid {
                    field: Some(field), ..
                } => anyhow::anyhow!("{field}: {error}"),
                _ => anyhow::anyhow!("{error}"),
            };
            tessera_server::admin::design::validate_note(&note).map_err(explain)?;
            tessera_server::admin::design::validate_design(&design).map_err(explain)?;
            let number = store
                .save_design("cli", &slug, base, &design, &note)
                .await
                .map_err(failed)?;
            println!(
                "saved revision {number} of `{slug}` (a draft: `tessera design publish {slug} {number}` publishes it)"
            );
        }
        DesignCommand::Font { slug, file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            tessera_server::theme::check_woff2(&bytes)
                .map_err(|error| anyhow::anyhow!("{}: {}", file.display(), error.message))?;
            let stored = store
                .put_font_file("cli", &slug, bytes)
                .await
                .map_err(failed)?;
            println!("{}", stored.file);
        }
        DesignCommand::Publish { slug, revision } => {
            store
                .publish_design("cli", &slug, revision)
                .await
                .map_err(failed)?;
            println!("published revision {revision} of `{slug}`");
        }
    }
    store.close().await;
    Ok(())
}

async fn admin(command: AdminCommand, place: DatabasePlace) -> anyhow::Result<()> {
    let database = match command {
        AdminCommand::CreateToken { .. } | AdminCommand::LoginLink { .. } => Database::MayCreate,
        AdminCommand::ListTokens | AdminCommand::RevokeToken { .. } => Database::MustExist,
    };
    let state = cli_state(place, database).await?;
    let done = admin_command(command, &state).await;
    state.store().close().await;
    done
}

async fn admin_command(command: AdminCommand, state: &AppState) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateToken {
            tenant,
            all_tenants: _,
            label,
            expires_in_days,
        } => {
            let lifetime = token_lifetime(Some(expires_in_days))?;
            let token = create_admin_token(state, "cli", tenant.as_deref(), &label, lifetime)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            println!("{}", token.secret);
            eprintln!(
                "admin token {} created for {}, valid until {}; it is shown only now",
                token.id,
                tenant
                    .as_deref()
                    .map_or("all tenants".to_owned(), |t| format!("tenant `{t}`")),
                utc(token.token.expires_at),
            );
        }
        AdminCommand::ListTokens => {
            let tokens = state.store().admin_tokens(None).await?;
            let now = tessera_server::store::now();
            println!("ID\tTENANT\tCREATED\tEXPIRES\tLAST USED\tLABEL");
            for token in tokens {
                let expires = if token.expires_at <= now {
                    format!("expired {}", utc(token.expires_at))
                } else {
                    utc(token.expires_at)
                };
                println!(
                    "{}\t{}\t{}\t{expires}\t{}\t{}",
                    token.id,
                    token.tenant.as_deref().unwrap_or("(all tenants)"),
                    utc(token.created_at),
                    token.last_used_at.map_or("never".to_owned(), utc),
                    token.label,
                );
            }
        }
        AdminCommand::RevokeToken { id } => {
            state
                .store()
                .revoke_admin_token("cli", &id, None)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            println!("revoked admin token {id}");
        }
        AdminCommand::LoginLink {
            minutes,
            public_url,
        } => {
            let path = tessera_server::console::create_login_link(state.store(), "cli", minutes)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            println!("{}{path}", public_url.trim_end_matches('/'));
            eprintln!("the link signs in once, within {minutes} minutes");
        }
    }
    Ok(())
}

/// Unix seconds as a UTC time, `2025-01-31 23:59Z` (the proleptic
/// Gregorian calendar, by Howard Hinnant's days-to-civil algorithm).
fn utc(seconds: i64) -> String {
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let shifted = days.saturating_add(719_468);
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era
        .saturating_add(era.saturating_mul(400))
        .saturating_add(i64::from(month <= 2));
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60
    )
}
