mod create;
mod delete_restore;
mod get;
mod list;
mod purge;
mod update;
