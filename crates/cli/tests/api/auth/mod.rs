mod rate_limits;
mod secrets;
pub(crate) mod shared_limits;
mod tokens;
