//! Lambda function `get-category`: serves `GET /v1/categories/{id}` behind the ALB.

use shared::http::routes::Operation;
use shared::http::Scope;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(Scope::Only(Operation::GetCategory)).await
}
