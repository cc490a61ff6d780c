//! Lambda function `put-budget`: serves `PUT /v1/budgets/{category_id}` behind the ALB.

use shared::http::routes::Operation;
use shared::http::Scope;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(Scope::Only(Operation::PutBudget)).await
}
