//! `cloudnexus tokens create`: a short-lived access token for the configured API key.

use super::output::{self, Format, Table};
use super::{CommandResult, Context, Failure};

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Mint an access token (a JWT) with some or all of the key's scopes.
    #[command(
        after_help = "Example:\n  export TOKEN=$(cloudnexus tokens create --scopes storage:read --ttl 600 --output json | jq -r .access_token)"
    )]
    Create {
        /// Comma-separated scopes (all of the key's when not given).
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Lifetime in seconds (1-3600; the service's default when not given).
        #[arg(long, value_name = "SECONDS")]
        ttl: Option<i64>,
    },
}

pub async fn run(cx: &Context, command: TokenCommand) -> CommandResult {
    let TokenCommand::Create { scopes, ttl } = command;
    if ttl.is_some_and(|t| t < 1) {
        return Err(Failure::usage("--ttl must be at least 1 second"));
    }
    let scopes = (!scopes.is_empty()).then_some(scopes);
    let token = cx.client.mint_token(scopes.as_deref(), ttl).await?;
    let value = serde_json::to_value(&token).expect("serializes");
    match cx.format {
        Format::Json => output::print_json(&value)?,
        Format::Jsonl => output::print_jsonl(&[value])?,
        Format::Csv => {
            let mut t = Table::new(vec!["access_token", "token_type", "expires_in", "scope"]);
            t.row(vec![
                token.access_token,
                token.token_type,
                token.expires_in.to_string(),
                token.scope,
            ]);
            t.print_csv()?;
        }
        Format::Table => output::print_fields(&[
            ("access token", token.access_token),
            ("type", token.token_type),
            ("expires in", format!("{} s", token.expires_in)),
            ("scope", token.scope),
        ])?,
    }
    Ok(())
}
