//! Logging: JSON lines in Lambda and Kubernetes (`LOG_FORMAT=json`), plain
//! text for people otherwise. Level from `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match std::env::var("LOG_FORMAT").ok().as_deref() {
        Some("json") => true,
        Some(_) => false,
        None => {
            std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
                || std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .with_target(false);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder.try_init()
    };
}
