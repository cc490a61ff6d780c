//! `server`: every route in one HTTP server, for local runs and the EKS
//! image. `server` serves; `server migrate` prepares the database once
//! (the Kubernetes migration Job); `server token --user NAME` mints a local
//! token.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::response::IntoResponse;
use bytes::Bytes;
use http::{header, Request, Response};
use http_body_util::BodyExt;
use rand::Rng;

use shared::app::App;
use shared::auth::{mint_hs256, AuthSettings};
use shared::config::{Config, ConfigError, Runtime};
use shared::http::problem::ApiError;
use shared::http::{Scope, MAX_BODY_BYTES};
use shared::start::StartError;

// Many small allocations on several threads per request: glibc's malloc
// spent about a tenth of a cached read's CPU in its arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: server [serve] | server migrate | server backfill | server token --user NAME [--hours N]";
const DEMO_USER: &str = "demo-user";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match Config::from_env(Runtime::Server) {
        Err(e) => Err(e.into()),
        Ok(config) => {
            shared::telemetry::init(&config.log);
            match args.first().map(String::as_str) {
                None | Some("serve") => serve(config).await,
                Some("migrate") => migrate(&config).await,
                Some("backfill") => backfill(&config).await,
                Some("token") => token(&config, &args[1..]),
                Some(_) => Err(StartError::Usage(USAGE)),
            }
        }
    };
    if let Err(e) = result {
        eprintln!("server: {e}");
        std::process::exit(1);
    }
}

/// `server migrate`: provisions the database users (on RDS, when
/// configured) and applies pending migrations, then exits.
async fn migrate(config: &Config) -> Result<(), StartError> {
    let applied = shared::jobs::prepare_database(config).await?;
    println!("applied {applied} migration(s)");
    Ok(())
}

/// `server backfill`: recomputes the report rollups and the tag rows'
/// dates from the expenses, then switches reports and tag pages to them.
/// Run it once a rollout has finished (no older pod serves).
async fn backfill(config: &Config) -> Result<(), StartError> {
    let done = shared::app::backfill(config).await?;
    println!(
        "backfilled {} user(s), {} month(s)",
        done.users, done.months
    );
    Ok(())
}

/// `server token --user NAME [--hours N]`: an HS256 token from JWT_SECRET.
fn token(config: &Config, args: &[String]) -> Result<(), StartError> {
    let mut user = None;
    let mut hours = 24u64;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        match (flag.as_str(), rest.next()) {
            ("--user", Some(value)) => user = Some(value.clone()),
            ("--hours", Some(value)) => {
                hours = value.parse().map_err(|_| StartError::Usage(USAGE))?
            }
            _ => return Err(StartError::Usage(USAGE)),
        }
    }
    let user = user.ok_or(StartError::Usage(USAGE))?;
    let Some(AuthSettings::Hs256 { secret }) = &config.auth else {
        return Err(ConfigError::Needs {
            name: "server token",
            needs: "JWT_SECRET",
        }
        .into());
    };
    println!(
        "{}",
        mint_hs256(secret, &user, Duration::from_secs(hours * 3600))?
    );
    Ok(())
}

async fn serve(mut config: Config) -> Result<(), StartError> {
    let address = config.listen_address()?;
    let mut demo_secret = None;
    if config.auth.is_none() {
        // Loopback only (checked above): a secret for this run alone.
        let secret: String = rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(40)
            .map(char::from)
            .collect();
        config.auth = Some(AuthSettings::Hs256 {
            secret: secret.clone(),
        });
        demo_secret = Some(secret);
    }
    let app = Arc::new(App::build(&config).await?);
    if config.server.migrate_on_start {
        let applied = migrate_with_retries(&app).await?;
        tracing::info!(applied, "migrations applied");
        // This process is the only one serving (MIGRATE_ON_START is for
        // single-instance runs), so no older release writes any more.
        let done = app.store.backfill().await?;
        tracing::info!(users = done.users, months = done.months, "backfilled");
    }
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| StartError::Listen { address, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| StartError::Listen { address, source })?;
    if let Some(secret) = demo_secret {
        let token = mint_hs256(&secret, DEMO_USER, Duration::from_secs(24 * 3600))?;
        println!("No JWT_SECRET or JWT_JWKS_URL set: listening on loopback only with a secret made for this run.");
        println!("Token for user {DEMO_USER} (24 h):\n{token}");
        println!("Try: curl -H 'Authorization: Bearer {token}' http://{bound}/v1/expenses");
    }
    // Test harnesses wait for this exact line.
    println!("listening on http://{bound}");
    tokio::spawn(purge_periodically(Arc::clone(&app)));
    // SIGTERM (Kubernetes): SHUTDOWN_DELAY_SECONDS of answering 503 on
    // /health while still serving, then at most SHUTDOWN_TIMEOUT_SECONDS
    // for requests in flight.
    let (delay, timeout) = (config.server.shutdown_delay, config.server.shutdown_timeout);
    let (stopped_accepting, mut stopping) = tokio::sync::watch::channel(false);
    let draining = Arc::clone(&app);
    let stop = async move {
        shutdown_signal().await;
        // Not ready any more, but still serving: load balancers and
        // Kubernetes endpoints take a moment to stop sending.
        draining.start_draining();
        tracing::info!(
            delay_s = delay.as_secs(),
            "draining: /health now answers 503"
        );
        tokio::time::sleep(delay).await;
        tracing::info!("no longer accepting connections; finishing requests in flight");
        let _ = stopped_accepting.send(true);
    };
    let router = axum::Router::new().fallback(handle).with_state(app);
    let serving = axum::serve(listener, router).with_graceful_shutdown(stop);
    let deadline = async {
        let _ = stopping.changed().await;
        tokio::time::sleep(timeout).await;
    };
    tokio::select! {
        served = serving => served.map_err(StartError::Serve)?,
        () = deadline => tracing::warn!("requests still in flight after the shutdown timeout; exiting"),
    }
    tracing::info!("drained; bye");
    Ok(())
}

/// How often the server deletes expired idempotency keys (Lambda
/// deployments schedule the `purge-idempotency` function instead).
const PURGE_EVERY: Duration = Duration::from_secs(600);

async fn purge_periodically(app: Arc<App>) {
    let mut ticks = tokio::time::interval(PURGE_EVERY);
    loop {
        ticks.tick().await;
        match shared::jobs::purge(app.store.as_ref()).await {
            Ok(purged) => tracing::info!(
                purged = purged.purged,
                ledger_rows = purged.ledger_rows,
                "expired idempotency keys and deleted ledgers purged"
            ),
            Err(e) => tracing::warn!(error = %e, "purging failed"),
        }
    }
}

/// Migrations wait for the database a little (it may start alongside us).
async fn migrate_with_retries(app: &App) -> Result<usize, StartError> {
    let mut attempt = 1;
    loop {
        match app.store.migrate().await {
            Ok(applied) => return Ok(applied),
            Err(e) if attempt < 15 => {
                tracing::warn!(attempt, error = %e, "migrations failed; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Every request: the body is read up to 1 MiB, then the shared router
/// answers.
async fn handle(State(app): State<Arc<App>>, request: Request<Body>) -> Response<Body> {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (parts, body) = request.into_parts();
    let response = match read_body(body, declared).await {
        Some(bytes) => {
            app.handle(Scope::All, Request::from_parts(parts, bytes), &request_id)
                .await
        }
        None => ApiError::PayloadTooLarge.into_response(),
    };
    response.map(Body::from).into_response()
}

/// Most bytes of an oversized body read and thrown away so that the client,
/// still sending, can read the 413 instead of a reset connection.
const DISCARD_LIMIT: u64 = 8 * 1024 * 1024;

/// The body if it is at most `MAX_BODY_BYTES`. A larger one is never
/// buffered: the rest is discarded (up to a bound), and `None` returned.
async fn read_body(body: Body, declared: Option<u64>) -> Option<Bytes> {
    let mut body = body;
    let mut kept = Vec::new();
    let mut seen: u64 = 0;
    let mut too_large = declared.is_some_and(|n| n > MAX_BODY_BYTES as u64);
    if declared.is_some_and(|n| n > DISCARD_LIMIT) {
        return None;
    }
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return None;
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen += data.len() as u64;
        if seen > MAX_BODY_BYTES as u64 {
            too_large = true;
        }
        if too_large {
            kept.clear();
            if seen > DISCARD_LIMIT {
                return None;
            }
        } else {
            kept.extend_from_slice(&data);
        }
    }
    (!too_large).then(|| Bytes::from(kept))
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested");
}
