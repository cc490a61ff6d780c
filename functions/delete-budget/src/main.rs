//! Lambda function `delete-budget`: serves `DELETE /v1/budgets/{category_id}` behind the ALB.

use shared::http::routes::Operation;
use shared::http::Scope;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::run(Scope::Only(Operation::DeleteBudget)).await
}
