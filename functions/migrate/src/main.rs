//! `migrate`: applies pending migrations under the migration lock. In
//! Lambda (any event) it answers `{"applied": N}`; from a shell it runs
//! once against DATABASE_URL and exits.

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::{json, Value};
use shared::config::{Config, Runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = Config::from_env(Runtime::Lambda)?;
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        let applied = shared::app::migrate(&config).await?;
        println!("applied {applied} migration(s)");
        return Ok(());
    }
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| {
        let config = config.clone();
        async move {
            let applied = shared::app::migrate(&config).await?;
            tracing_log(applied);
            Ok::<_, lambda_http::Error>(json!({ "applied": applied }))
        }
    }))
    .await
}

fn tracing_log(applied: usize) {
    lambda_http::tracing::info!(applied, "migrations applied");
}
