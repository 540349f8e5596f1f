mod conditional;
pub(crate) mod crash;
mod list;
mod public;
mod put_get;
mod streaming;
