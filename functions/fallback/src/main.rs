//! Lambda function `fallback`: the ALB listener's default action. It runs
//! the whole shared router, so an unknown route gets a problem+json 404 and
//! a wrong method a 405 with `Allow`, which an ALB fixed response cannot do.

use shared::http::Scope;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(Scope::All).await
}
