//! `bootstrap`: the one binary behind every Lambda function. The function's
//! `Handler` setting (`_HANDLER`) chooses what it serves; see
//! `shared::lambda`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::main().await
}
