//! Lambda function `create-category`: serves `POST /v1/categories` behind the ALB.

use shared::http::routes::Operation;
use shared::http::Scope;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(Scope::Only(Operation::CreateCategory)).await
}
