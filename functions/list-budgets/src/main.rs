//! Lambda function `list-budgets`: serves `GET /v1/budgets` behind the ALB.

use shared::http::routes::Operation;
use shared::http::Scope;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(Scope::Only(Operation::ListBudgets)).await
}
