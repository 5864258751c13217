//! The `tessera` binary: `dev`, `serve`, `tenant` and `admin` commands.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use tessera_server::admin::{NewTenant, create_admin_token, create_tenant_record};
use tessera_server::assets::Assets;
use tessera_server::config::{self, LogFormat};
use tessera_server::dev_issuer::DevIssuer;
use tessera_server::model::TenantConfig;
use tessera_server::store::Store;
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
    },
    /// Run in production from a settings file (see `config.example.toml`);
    /// environment variables TESSERA_LISTEN, TESSERA_PUBLIC_URL,
    /// TESSERA_DATA_DIR, TESSERA_DIST_DIR and TESSERA_LOG_FORMAT override it.
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
        /// Folder holding the database.
        #[arg(long, global = true, default_value = ".tessera-data")]
        data_dir: PathBuf,
    },
    /// Manage admin API tokens.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
        /// Folder holding the database.
        #[arg(long, global = true, default_value = ".tessera-data")]
        data_dir: PathBuf,
    },
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
enum AdminCommand {
    /// Create an admin API token; it is printed once and stored hashed.
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
    Store::open(&data_dir.join("tessera.sqlite3")).await
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
        } => dev(port, &data_dir, &widget_dir, demo_issuer).await,
        Command::Serve {
            config,
            dangerous_dev_issuer,
        } => serve(&config, dangerous_dev_issuer).await,
        Command::Tenant { command, data_dir } => tenant(command, &data_dir).await,
        Command::Admin { command, data_dir } => admin(command, &data_dir).await,
    }
}

async fn dev(
    port: u16,
    data_dir: &Path,
    widget_dir: &Path,
    demo_issuer: Option<String>,
) -> anyhow::Result<()> {
    init_tracing(LogFormat::Text);
    let started = std::time::Instant::now();
    let public_url = format!("http://127.0.0.1:{port}");
    let store = open_store(data_dir).await?;
    let limits = config::Limits::default();
    let issuer = DevIssuer::open(data_dir, &public_url, limits.token_requests_per_minute)?;
    let assets = Assets::load(widget_dir)?;
    let state = AppState::new(
        store,
        public_url.clone(),
        assets,
        Some(issuer.clone()),
        limits,
    );
    if state.store().tenant("demo").await?.is_none() {
        let config = TenantConfig {
            display_name: "Tessera demo shop".into(),
            issuer: demo_issuer
                .clone()
                .unwrap_or_else(|| issuer.issuer().to_owned()),
            client_id: "demo".into(),
            audience: "demo-shop-api".into(),
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
    let storefront = storefront::open(&state, data_dir, &demo, &issuer).await?;
    let state = state.with_storefront(storefront.router());
    let token = create_admin_token(&state, "tessera-dev", None, "tessera dev session").await?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port} (use --port)"))?;
    println!(
        "Tessera dev server ready in {} ms",
        started.elapsed().as_millis()
    );
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
    run(listener, state).await?;
    storefront.orders().close().await;
    Ok(())
}

async fn serve(path: &Path, dangerous_dev_issuer: bool) -> anyhow::Result<()> {
    let settings = config::load(path, &|name| std::env::var(name).ok())?;
    init_tracing(settings.log_format);
    let store = open_store(&settings.data_dir).await?;
    let issuer = if dangerous_dev_issuer {
        tracing::warn!("the development issuer is running: never do this in production");
        Some(DevIssuer::open(
            &settings.data_dir,
            &settings.public_url,
            settings.limits.token_requests_per_minute,
        )?)
    } else {
        None
    };
    let assets = Assets::load(&settings.dist_dir.join("widget"))?;
    let state = AppState::new(
        store,
        settings.public_url.clone(),
        assets,
        issuer,
        settings.limits,
    );
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    tracing::info!(listen = %settings.listen, public_url = %settings.public_url, "tessera is ready");
    run(listener, state).await
}

async fn run(listener: tokio::net::TcpListener, state: AppState) -> anyhow::Result<()> {
    let store = state.store().clone();
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    store.close().await;
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

async fn cli_state(data_dir: &Path, database: Database) -> anyhow::Result<AppState> {
    if database == Database::MustExist && !data_dir.join("tessera.sqlite3").exists() {
        bail!(
            "no database in {} (run `tessera dev` or `tessera serve` once, or pass --data-dir)",
            data_dir.display()
        );
    }
    let store = open_store(data_dir).await?;
    Ok(AppState::new(
        store,
        String::new(),
        Assets::default(),
        None,
        config::Limits::default(),
    ))
}

async fn tenant(command: TenantCommand, data_dir: &Path) -> anyhow::Result<()> {
    let database = match command {
        TenantCommand::Create { .. } => Database::MayCreate,
        TenantCommand::List | TenantCommand::Show { .. } => Database::MustExist,
    };
    let state = cli_state(data_dir, database).await?;
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

async fn admin(command: AdminCommand, data_dir: &Path) -> anyhow::Result<()> {
    let state = cli_state(data_dir, Database::MayCreate).await?;
    let AdminCommand::CreateToken {
        tenant,
        all_tenants: _,
        label,
    } = command;
    let token = create_admin_token(&state, "cli", tenant.as_deref(), &label)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    println!("{}", token.secret);
    eprintln!(
        "admin token {} created for {}; it is shown only now",
        token.id,
        tenant
            .as_deref()
            .map_or("all tenants".to_owned(), |t| format!("tenant `{t}`"))
    );
    state.store().close().await;
    Ok(())
}
