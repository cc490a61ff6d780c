//! The expense tracker's shared library: everything the Lambda functions
//! and the server have in common, from the domain up to the HTTP layer.

pub mod app;
pub mod auth;
pub mod cache;
pub mod config;
pub mod domain;
pub mod handlers;
pub mod http;
pub mod jobs;
pub mod lambda;
pub mod openapi;
pub mod provision;
pub mod secrets;
pub mod start;
pub mod store;
pub mod telemetry;
