//! `purge-idempotency`: deletes idempotency keys older than 24 hours. In
//! Lambda it runs on a schedule (any event, e.g. EventBridge) and answers
//! `{"purged": N}`; from a shell it runs once against DATABASE_URL.

use lambda_http::lambda_runtime::{self, service_fn, LambdaEvent};
use serde_json::{json, Value};
use shared::app::open_store;
use shared::config::{Config, Runtime};
use shared::domain::now_micros;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::telemetry::init();
    let config = Config::from_env(Runtime::Lambda)?;
    let store = open_store(&config.database).await?;
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        println!(
            "purged {} expired key(s)",
            store.purge_idempotency(now_micros()).await?
        );
        return Ok(());
    }
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| {
        let store = store.clone();
        async move {
            let purged = store.purge_idempotency(now_micros()).await?;
            lambda_http::tracing::info!(purged, "expired idempotency keys purged");
            Ok::<_, lambda_http::Error>(json!({ "purged": purged }))
        }
    }))
    .await
}
