//! The expense tracker's shared library: everything the Lambda functions
//! and the server have in common, from the domain up to the HTTP layer.

pub mod domain;
