//! `cloudnexus`: serve the API, administer its data, or use a running service from the
//! terminal (buckets, objects, tokens).

use clap::{Args, CommandFactory, Parser, Subcommand};
use cloudnexus::admin::{self, AdminCommand, Output};
use cloudnexus::config::Config;
use cloudnexus::remote::buckets::BucketCommand;
use cloudnexus::remote::objects::ObjectCommand;
use cloudnexus::remote::profile::{ConfigureArgs, ConnectionArgs};
use cloudnexus::remote::tokens::TokenCommand;
use cloudnexus::remote::{self, Context};
use cloudnexus::server::{self, Server};
use cloudnexus::telemetry;
use cloudnexus_core::SystemClock;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "cloudnexus",
    version,
    about = "CloudNexus Storage: multi-tenant object storage",
    after_help = cloudnexus::remote::EXIT_CODES_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API (by default on the embedded store: SQLite and blobs in the data folder).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
        #[arg(long, env = "CLOUDNEXUS_LISTEN")]
        listen: Option<SocketAddr>,
        /// Count rate limits in Redis, shared by every node, instead of this process's memory,
        /// e.g. redis://cache.internal:6379 (prefer the variable for a URL with a password).
        #[arg(long, env = "CLOUDNEXUS_REDIS_URL", value_name = "URL")]
        redis_url: Option<String>,
        /// Trust these certificate authorities (a PEM file) for a rediss:// Redis instead of
        /// the system's, e.g. a private authority's certificate.
        #[arg(long, env = "CLOUDNEXUS_REDIS_CA_FILE", value_name = "FILE")]
        redis_ca_file: Option<std::path::PathBuf>,
        /// Keep object bytes in an S3-compatible store instead of the data folder, e.g.
        /// s3://my-bucket/cloudnexus; endpoint, region and credentials come from AWS_ENDPOINT_URL,
        /// AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_CA_BUNDLE: a PEM file of
        /// authorities to trust for an https:// endpoint).
        #[arg(long, env = "CLOUDNEXUS_BLOB_URL", value_name = "URL")]
        blob_url: Option<String>,
        /// Also serve the S3 protocol on this address, e.g. 127.0.0.1:9000 (credentials from
        /// `cloudnexus admin s3-key create`).
        #[arg(long, env = "CLOUDNEXUS_S3_LISTEN", value_name = "ADDR")]
        s3_listen: Option<SocketAddr>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Buckets of a running service (endpoint and key from flags, variables or a profile).
    #[command(after_help = cloudnexus::remote::EXIT_CODES_HELP)]
    Buckets {
        #[command(flatten)]
        connection: ConnectionArgs,
        #[command(subcommand)]
        command: BucketCommand,
    },
    /// Objects of a running service.
    #[command(after_help = cloudnexus::remote::EXIT_CODES_HELP)]
    Objects {
        #[command(flatten)]
        connection: ConnectionArgs,
        #[command(subcommand)]
        command: ObjectCommand,
    },
    /// Access tokens for the configured API key.
    #[command(after_help = cloudnexus::remote::EXIT_CODES_HELP)]
    Tokens {
        #[command(flatten)]
        connection: ConnectionArgs,
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Write a profile (endpoint and API key) for the client commands.
    Configure(ConfigureArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  cloudnexus completions bash > ~/.local/share/bash-completion/completions/cloudnexus"
    )]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Administer the metadata store (works while servers run on it).
    Admin {
        /// Print results as text for people or JSON for scripts.
        #[arg(long, global = true, value_enum, default_value = "text")]
        output: Output,
        #[command(flatten)]
        common: CommonArgs,
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Args)]
struct CommonArgs {
    /// The data folder (metadata.db and blobs/ live here).
    #[arg(long, global = true, env = "CLOUDNEXUS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Keep the metadata in PostgreSQL instead of the data folder's SQLite, e.g.
    /// postgres://cloudnexus@db.internal:5432/cloudnexus (prefer the variable for a password).
    #[arg(long, global = true, env = "CLOUDNEXUS_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// A TOML configuration file; config/cloudnexus.toml documents every key.
    #[arg(long, global = true, env = "CLOUDNEXUS_CONFIG")]
    config: Option<PathBuf>,
    /// The file holding the master key that seals S3 secrets (64 hex characters); by default
    /// DATA_DIR/s3-master.key, created when first needed. Required with a database URL.
    #[arg(long, global = true, env = "CLOUDNEXUS_S3_MASTER_KEY_FILE", value_name = "FILE")]
    s3_master_key_file: Option<PathBuf>,
}

impl CommonArgs {
    fn load(&self) -> anyhow::Result<Config> {
        let mut config = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        config.apply_env()?;
        if let Some(dir) = &self.data_dir {
            config.data_dir.clone_from(dir);
        }
        if let Some(url) = &self.database_url {
            config.metadata.url = Some(url.clone());
        }
        if let Some(path) = &self.s3_master_key_file {
            config.s3.master_key_file = Some(path.clone());
        }
        Ok(config)
    }
}

/// mimalloc: requests allocate and free many small values, which it does faster than glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A worker per core the process may use; on one core, the current-thread scheduler, which
    // has no work stealing to pay for.
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut builder = if cores > 1 {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cli = match cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "cloudnexus", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Command::Configure(args) => return remote::exit(remote::profile::configure(&args)),
        Command::Buckets { .. } | Command::Objects { .. } | Command::Tokens { .. } => {
            return remote::exit(runtime.block_on(run_remote(cli.command)));
        }
        _ => cli,
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// `error` and its causes on one line, leaving out a cause whose text the line already holds
/// (the store's errors name their cause in their own message).
fn one_line(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

/// A client command against a running service.
async fn run_remote(command: Command) -> remote::CommandResult {
    match command {
        Command::Buckets { connection, command } => remote::buckets::run(&Context::new(&connection)?, command).await,
        Command::Objects { connection, command } => remote::objects::run(&Context::new(&connection)?, command).await,
        Command::Tokens { connection, command } => remote::tokens::run(&Context::new(&connection)?, command).await,
        _ => unreachable!("only client commands come here"),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            listen,
            redis_url,
            redis_ca_file,
            blob_url,
            s3_listen,
            common,
        } => {
            let mut config = common.load()?;
            if let Some(addr) = listen {
                config.listen = addr;
            }
            if let Some(url) = redis_url {
                config.rate_limits.redis_url = Some(url);
            }
            if let Some(file) = redis_ca_file {
                config.rate_limits.redis_ca_file = Some(file);
            }
            if let Some(url) = blob_url {
                config.blobs.url = Some(url);
            }
            if let Some(addr) = s3_listen {
                config.s3.listen = Some(addr);
            }
            telemetry::init_logging(&config.log);
            // The embedded database's folder is served by one process (see `serve_lock`).
            let _claim = match config.metadata.url {
                None => Some(cloudnexus::serve_lock::claim(&config.data_dir)?),
                Some(_) => None,
            };
            let (server, first_run) = Server::start(&config, Arc::new(SystemClock)).await?;
            if let Some(first) = first_run {
                println!(
                    "Created project {:?} ({}) and its first API key, with every scope.\n\
                     The key is shown only this once; keep it safe:\n\n    {}\n\n\
                     Try:  curl -H \"Authorization: Bearer {}\" http://{}/v1/buckets\n",
                    first.project.name.as_str(),
                    first.project.id,
                    first.secret.expose(),
                    first.secret.expose(),
                    server.addr()
                );
            }
            // The S3 line first: scripts wait for "listening on" as the sign that all is up.
            if let Some(addr) = server.s3_addr() {
                println!("cloudnexus serving the S3 protocol on http://{addr}");
            }
            println!("cloudnexus listening on http://{}", server.addr());
            server::termination_signal().await;
            tracing::info!("shutting down");
            server.shutdown().await
        }
        Command::Admin {
            output,
            common,
            command,
        } => {
            let config = common.load()?;
            // Commands on the data folder as a whole open what they need themselves.
            let (json, text) = match &command {
                AdminCommand::Migrate {
                    to_database_url,
                    to_blob_url,
                } => admin::migrate(&config, to_database_url, to_blob_url).await?,
                AdminCommand::Backup { to } => admin::backup(&config, to).await?,
                AdminCommand::Restore { from } => admin::restore(&config, from).await?,
                _ => {
                    let store = cloudnexus_store::open_metadata(&config.backends()).await?;
                    let result = admin::run(store.as_ref(), &config, command).await;
                    store.close().await;
                    result?
                }
            };
            match output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&json)?),
                Output::Text => println!("{text}"),
            }
            Ok(())
        }
        Command::Buckets { .. }
        | Command::Objects { .. }
        | Command::Tokens { .. }
        | Command::Configure(_)
        | Command::Completions { .. } => {
            unreachable!("handled before the runtime")
        }
    }
}
