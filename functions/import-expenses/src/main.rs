//! Lambda function `import-expenses`: serves `POST /v1/expenses/import` behind the ALB.

use shared::http::routes::Operation;
use shared::http::Scope;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(Scope::Only(Operation::ImportExpenses)).await
}
