mod create;
mod delete_restore;
mod get;
mod list;
mod list_cache;
mod purge;
mod update;
