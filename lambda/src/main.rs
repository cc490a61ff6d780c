//! `bootstrap`: the one binary behind every Lambda function. The function's
//! `Handler` setting (`_HANDLER`) chooses what it serves; see
//! `shared::lambda`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match shared::lambda::main().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Lambda keeps stderr in the function's log group.
            eprintln!("bootstrap: {e}");
            ExitCode::FAILURE
        }
    }
}
