mod rate_limits;
mod secrets;
mod tokens;
