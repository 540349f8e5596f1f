//! The `cloudnexus` binary as a library: configuration, the server's lifecycle, the admin
//! commands and the client commands of a running service (`remote`). `main.rs` only parses the command line and calls into here, so the
//! tests start the very same server in-process.

pub mod admin;
pub mod config;
pub mod demo;
pub mod keys;
pub mod master_key;
pub mod remote;
pub mod serve_lock;
pub mod server;
pub mod telemetry;
