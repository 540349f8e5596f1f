//! End-to-end tests: each starts the real server on 127.0.0.1:0 with a fresh data folder and
//! drives it over HTTP. Files mirror the routes.

mod abuse;
mod admin;
mod auth;
mod backup;
mod buckets;
mod cli;
mod cluster;
mod console;
mod crash;
mod errors;
mod health;
mod helpers;
mod migrate;
mod nodes;
mod objects;
mod processes;
mod restart;
mod s3;
mod startup;
mod tenancy;
mod tls;
