//! Where a command's endpoint and API key come from, highest first: the flags (`--endpoint`,
//! `--api-key`), the variables (`CLOUDNEXUS_ENDPOINT`, `CLOUDNEXUS_API_KEY`), then the profile
//! named by `--profile` / `CLOUDNEXUS_PROFILE` (`default` when neither) in the config folder.
//!
//! The config folder is `$CLOUDNEXUS_CONFIG_HOME`, else `$XDG_CONFIG_HOME/cloudnexus`, else
//! `~/.config/cloudnexus`. It holds `profiles.toml` (each profile's endpoint) and
//! `credentials.toml` (each profile's API key), the latter readable by its owner only (0600),
//! so the key is never in a file others can read, nor on a command line if `configure` reads it
//! from its prompt or standard input.

use super::Failure;
use super::output::Format;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The options every client command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionArgs {
    /// The service's base URL, e.g. https://storage.example.com or http://127.0.0.1:8080.
    #[arg(long, global = true, env = "CLOUDNEXUS_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,
    /// The API key to send (prefer the variable or a profile: a flag is visible to other users).
    #[arg(
        long,
        global = true,
        env = "CLOUDNEXUS_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub api_key: Option<String>,
    /// The profile of the config file to use (written by `cloudnexus configure`).
    #[arg(long, global = true, env = "CLOUDNEXUS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// table (for people), json (the API's documents), jsonl (one item per line) or csv.
    #[arg(long, short = 'o', global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,
}

/// The endpoint and key a command uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub endpoint: String,
    pub api_key: Option<String>,
}

/// One profile's endpoint, in `profiles.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileEntry {
    endpoint: Option<String>,
}

/// One profile's key, in `credentials.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialEntry {
    api_key: Option<String>,
}

const PROFILES: &str = "profiles.toml";
const CREDENTIALS: &str = "credentials.toml";
const DEFAULT_PROFILE: &str = "default";

/// The config folder (see the module's documentation).
pub fn config_dir() -> Result<PathBuf, Failure> {
    if let Some(dir) = std::env::var_os("CLOUDNEXUS_CONFIG_HOME") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("cloudnexus"));
    }
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".config").join("cloudnexus"))
        .ok_or_else(|| Failure::other("no config folder: set HOME or CLOUDNEXUS_CONFIG_HOME"))
}

fn read_table<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<BTreeMap<String, T>, Failure> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| Failure::other(format!("{} is not valid: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(Failure::other(format!("cannot read {}: {e}", path.display()))),
    }
}

/// The endpoint and key for `args` (see the module's documentation).
pub fn resolve(args: &ConnectionArgs) -> Result<Resolved, Failure> {
    let (mut endpoint, mut api_key) = (args.endpoint.clone(), args.api_key.clone());
    let named = args.profile.clone();
    if endpoint.is_none() || api_key.is_none() {
        let dir = config_dir()?;
        let name = named.clone().unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
        let profiles: BTreeMap<String, ProfileEntry> = read_table(&dir.join(PROFILES))?;
        let credentials: BTreeMap<String, CredentialEntry> = read_table(&dir.join(CREDENTIALS))?;
        if named.is_some() && !profiles.contains_key(&name) && !credentials.contains_key(&name) {
            return Err(Failure::usage(format!(
                "no profile {name:?} in {}; create it with `cloudnexus configure --profile {name}`",
                dir.display()
            )));
        }
        if endpoint.is_none() {
            endpoint = profiles.get(&name).and_then(|p| p.endpoint.clone());
        }
        if api_key.is_none() {
            api_key = credentials.get(&name).and_then(|c| c.api_key.clone());
        }
    }
    let endpoint = endpoint.ok_or_else(|| {
        Failure::usage("no endpoint: pass --endpoint URL, set CLOUDNEXUS_ENDPOINT, or run `cloudnexus configure`")
    })?;
    let parsed = reqwest::Url::parse(&endpoint)
        .map_err(|e| Failure::usage(format!("the endpoint {endpoint:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Failure::usage(format!(
            "the endpoint {endpoint:?} must be http:// or https://"
        )));
    }
    Ok(Resolved { endpoint, api_key })
}

/// `cloudnexus configure`: writes a profile's endpoint and key.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  cloudnexus configure --profile prod --endpoint https://storage.example.com\n  \
(the API key is then read from the prompt, or from standard input when it is not a terminal)"
)]
pub struct ConfigureArgs {
    /// The profile to write (`default` when not given).
    #[arg(long, env = "CLOUDNEXUS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// The service's base URL.
    #[arg(long, value_name = "URL")]
    pub endpoint: String,
}

/// Writes the profile, reading the key from the terminal (not echoed) or standard input.
pub fn configure(args: &ConfigureArgs) -> Result<(), Failure> {
    use std::io::IsTerminal;
    let name = args.profile.clone().unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
    let probe = ConnectionArgs {
        endpoint: Some(args.endpoint.clone()),
        api_key: None,
        profile: None,
        output: None,
    };
    resolve(&probe)?;
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("API key for profile {name:?} (not shown): ");
        let _ = std::io::stderr().flush();
    }
    let mut key = String::new();
    if stdin.is_terminal() {
        key = read_hidden_line()?;
        eprintln!();
    } else {
        stdin.read_line(&mut key)?;
    }
    let key = key.trim().to_owned();
    if key.is_empty() {
        return Err(Failure::usage("no API key given"));
    }

    let dir = config_dir()?;
    std::fs::create_dir_all(&dir)?;
    let mut profiles: BTreeMap<String, ProfileEntry> = read_table(&dir.join(PROFILES))?;
    profiles.insert(
        name.clone(),
        ProfileEntry {
            endpoint: Some(args.endpoint.clone()),
        },
    );
    let mut credentials: BTreeMap<String, CredentialEntry> = read_table(&dir.join(CREDENTIALS))?;
    credentials.insert(name.clone(), CredentialEntry { api_key: Some(key) });
    write_file(&dir.join(PROFILES), &to_toml(&profiles)?, false)?;
    write_file(&dir.join(CREDENTIALS), &to_toml(&credentials)?, true)?;
    eprintln!("profile {name:?} written to {}", dir.display());
    Ok(())
}

fn to_toml<T: Serialize>(value: &T) -> Result<String, Failure> {
    toml::to_string(value).map_err(|e| Failure::other(format!("cannot write the profile: {e}")))
}

/// Replaces `path` atomically (a temp file renamed over it); `private` files are created 0600.
fn write_file(path: &Path, contents: &str, private: bool) -> Result<(), Failure> {
    let temp = path.with_extension("toml.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(&temp)
        .map_err(|e| Failure::other(format!("cannot write {}: {e}", temp.display())))?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, path).map_err(|e| Failure::other(format!("cannot write {}: {e}", path.display())))?;
    Ok(())
}

/// A line from the terminal without echoing it.
#[cfg(unix)]
fn read_hidden_line() -> Result<String, Failure> {
    // `stty -echo` around the read: no extra crate for one prompt.
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
    };
    let _ = stty("-echo");
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    let _ = stty("echo");
    read?;
    Ok(line)
}

#[cfg(not(unix))]
fn read_hidden_line() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line)
}
