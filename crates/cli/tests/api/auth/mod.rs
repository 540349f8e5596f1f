mod rate_limits;
mod secrets;
mod shared_limits;
mod tokens;
