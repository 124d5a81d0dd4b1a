//! `cairn`: one binary. `cairn` or `cairn serve` runs the console on embedded defaults.

use anyhow::Context;
use cairn::server::{self, config::Config};
use leptos::config::LeptosOptions;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "\
Usage: cairn [serve]
       cairn <command> [options]      (cairn <command> --help)

Commands:
  serve      Run the console and API (the default)
  user       Create console users and give them roles: create, grant
  token      Make an API token for a user: create
  migrate    Bring the database to this version's schema, then exit
  snapshot   Work with a snapshot repository: init, backup, restore, verify, ls, rm, gc, check
  node       Run one cluster node (started by the embedded engine; cairn node --help)

Configuration comes from the environment (CAIRN_DATA_DIR, CAIRN_DATABASE_URL,
LEPTOS_SITE_ADDR, LEPTOS_SITE_ROOT, CAIRN_REGIONS, CAIRN_PROVIDER, CAIRN_CONFIG,
CAIRN_ADMIN_EMAIL + CAIRN_ADMIN_PASSWORD for the first admin) and an optional cairn.toml
in the data directory. See README.md.";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("CAIRN_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();

    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("snapshot") => return cairn_snapshot::cli::run(&args[1..]).await,
        Some("node") => return cairn_engine_local::node_main(&args[1..]).await,
        _ => {}
    }
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] | ["serve"] => serve().await,
        ["user", ..] => cairn::cli::user(&args[1..]).await,
        ["token", ..] => cairn::cli::token(&args[1..]).await,
        ["migrate", ..] => cairn::cli::migrate(&args[1..]).await,
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            Ok(())
        }
        ["-V" | "--version"] => {
            println!("cairn {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        _ => {
            eprintln!("cairn: unknown arguments: {}\n\n{USAGE}", args.join(" "));
            return std::process::ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cairn: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let console = server::open(&config).await?;

    let site_root = config.site_root.to_string_lossy().into_owned();
    let bundle = config.site_root.join("pkg").join("cairn.wasm");
    if !bundle.exists() {
        tracing::warn!(
            site.root = %site_root,
            "browser assets not found: pages render but will not become interactive; \
             build them with `make build` or point LEPTOS_SITE_ROOT at the built site"
        );
    }
    let options = LeptosOptions::builder()
        .output_name("cairn")
        .site_root(site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.site_addr)
        .build();

    let listener = tokio::net::TcpListener::bind(config.site_addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (set LEPTOS_SITE_ADDR)",
                config.site_addr
            )
        })?;
    let addr = listener.local_addr()?;
    println!(
        "Cairn console: http://{addr}/  (data: {}, database: {})",
        config.data_dir.display(),
        cairn_store::redact(&config.database_url)
    );
    // Background work, stopped with the server: the scheduler sleeps until the next due run;
    // maintenance heartbeats and settles what dead instances left.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut stopping = stopping.clone();
        async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        }
    };
    let background = {
        let services = console.services.clone();
        tokio::spawn(async move {
            tokio::join!(
                services.run_scheduler(stopped()),
                services.run_maintenance(stopped()),
                services.run_supervision(stopped()),
                services.run_pulses(stopped()),
                services.run_deliveries(stopped()),
                services.run_issue_review(stopped())
            );
        })
    };
    let services = console.services.clone();
    // The peer address reaches the handlers: sign-in attempts are limited per client.
    let app = cairn::router::router(console, options)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    let _ = stop.send(true);
    let _ = background.await;
    services.settle().await;
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, finish what is in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
