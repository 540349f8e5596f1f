mod conditional;
mod crash;
mod list;
mod public;
mod put_get;
mod streaming;
