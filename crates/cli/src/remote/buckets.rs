//! `cloudnexus buckets ...`: list, create, get, update, soft-delete and restore buckets.

use super::output::{self, Format, Table, human_size, human_time, note};
use super::{CommandResult, Context, Failure};
use cloudnexus_client::{Bucket, CreateBucket, ListBuckets, UpdateBucket};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, clap::Subcommand)]
pub enum BucketCommand {
    /// List the project's buckets, newest last; one page, or every page with --all.
    #[command(
        after_help = "Examples:\n  cloudnexus buckets ls --region eu-west-1 --tag env:production\n  \
cloudnexus buckets ls --all --output jsonl | jq -r .name"
    )]
    Ls(ListArgs),
    /// Create a bucket (names are unique across all projects).
    #[command(
        after_help = "Example:\n  cloudnexus buckets create web-assets --region us-east-1 --tag env=prod --public"
    )]
    Create(CreateArgs),
    /// Show one live bucket, by name or id (a soft-deleted one is shown by `ls --include-deleted`).
    #[command(after_help = "Example:\n  cloudnexus buckets get web-assets --output json")]
    Get {
        /// The bucket's name or id.
        bucket: String,
    },
    /// Change a bucket's tags (replaced whole), public flag or storage class.
    #[command(after_help = "Example:\n  cloudnexus buckets update web-assets --tag env=staging --public false")]
    Update(UpdateArgs),
    /// Soft-delete a bucket: it keeps its name and objects until its purge date.
    #[command(after_help = "Example:\n  cloudnexus buckets rm web-assets")]
    Rm {
        /// The bucket's name or id.
        bucket: String,
    },
    /// Bring a soft-deleted bucket back, with its objects.
    #[command(after_help = "Example:\n  cloudnexus buckets restore web-assets")]
    Restore {
        /// The bucket's name or id.
        bucket: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only buckets in this region.
    #[arg(long)]
    region: Option<String>,
    /// Only buckets whose name starts with this.
    #[arg(long)]
    prefix: Option<String>,
    /// `key` or `key:value`; repeat to require several.
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Include soft-deleted buckets.
    #[arg(long)]
    include_deleted: bool,
    /// Buckets per page (1-100; the service's default is 25).
    #[arg(long)]
    limit: Option<u32>,
    /// Start at this `next_cursor` of an earlier page.
    #[arg(long, conflicts_with = "all")]
    cursor: Option<String>,
    /// Follow `next_cursor` to the last page and print every bucket.
    #[arg(long)]
    all: bool,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The bucket's name: 3-63 of a-z 0-9 . -
    name: String,
    /// One of the service's regions.
    #[arg(long)]
    region: String,
    /// STANDARD, INFREQUENT or GLACIER.
    #[arg(long)]
    storage_class: Option<String>,
    /// Let anyone read its objects without a key.
    #[arg(long)]
    public: bool,
    /// A tag as key=value; repeat for several.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    tags: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The bucket's name or id.
    bucket: String,
    /// The bucket's tags from now on, as key=value; repeat for several (replaces all tags).
    #[arg(long = "tag", value_name = "KEY=VALUE", conflicts_with = "clear_tags")]
    tags: Vec<String>,
    /// Remove every tag.
    #[arg(long)]
    clear_tags: bool,
    /// true or false.
    #[arg(long)]
    public: Option<bool>,
    /// STANDARD, INFREQUENT or GLACIER.
    #[arg(long)]
    storage_class: Option<String>,
}

fn parse_tags(pairs: &[String]) -> Result<BTreeMap<String, String>, Failure> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| Failure::usage(format!("--tag {pair:?} must be key=value")))
        })
        .collect()
}

fn tags_text(tags: &BTreeMap<String, String>) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

const COLUMNS: [&str; 8] = [
    "NAME", "REGION", "CLASS", "CREATED", "SIZE", "OBJECTS", "PUBLIC", "TAGS",
];

fn table_of(buckets: &[Bucket], show_deleted: bool) -> Table {
    let mut header = COLUMNS.to_vec();
    if show_deleted {
        header.push("DELETED");
    }
    let mut table = Table::new(header);
    for b in buckets {
        let mut row = vec![
            b.name.clone(),
            b.region.clone(),
            b.storage_class.clone(),
            human_time(&b.created_at),
            human_size(b.size_bytes),
            b.object_count.to_string(),
            if b.public { "yes" } else { "no" }.to_owned(),
            tags_text(&b.tags),
        ];
        if show_deleted {
            row.push(b.deleted_at.as_deref().map(human_time).unwrap_or_default());
        }
        table.row(row);
    }
    table
}

/// The same rows for CSV: exact numbers and times.
fn csv_of(buckets: &[Bucket]) -> Table {
    let mut table = Table::new(vec![
        "id",
        "name",
        "region",
        "storage_class",
        "created_at",
        "size_bytes",
        "object_count",
        "public",
        "tags",
        "deleted_at",
        "purge_at",
    ]);
    for b in buckets {
        table.row(vec![
            b.id.clone(),
            b.name.clone(),
            b.region.clone(),
            b.storage_class.clone(),
            b.created_at.clone(),
            b.size_bytes.to_string(),
            b.object_count.to_string(),
            b.public.to_string(),
            tags_text(&b.tags),
            b.deleted_at.clone().unwrap_or_default(),
            b.purge_at.clone().unwrap_or_default(),
        ]);
    }
    table
}

fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("client types serialize")
}

/// One bucket, in the chosen format.
fn print_bucket(format: Format, b: &Bucket) -> std::io::Result<()> {
    match format {
        Format::Json => output::print_json(&json(b)),
        Format::Jsonl => output::print_jsonl(&[json(b)]),
        Format::Csv => csv_of(std::slice::from_ref(b)).print_csv(),
        Format::Table => {
            let mut fields = vec![
                ("name", b.name.clone()),
                ("id", b.id.clone()),
                ("region", b.region.clone()),
                ("storage class", b.storage_class.clone()),
                ("created", human_time(&b.created_at)),
                ("size", format!("{} ({} bytes)", human_size(b.size_bytes), b.size_bytes)),
                ("objects", b.object_count.to_string()),
                ("public", if b.public { "yes" } else { "no" }.to_owned()),
                ("tags", tags_text(&b.tags)),
            ];
            if let Some(deleted) = &b.deleted_at {
                fields.push(("deleted", human_time(deleted)));
            }
            if let Some(purge) = &b.purge_at {
                fields.push(("purged on", human_time(purge)));
            }
            output::print_fields(&fields)
        }
    }
}

pub async fn run(cx: &Context, command: BucketCommand) -> CommandResult {
    match command {
        BucketCommand::Ls(args) => list(cx, args).await,
        BucketCommand::Create(args) => {
            let mut body = CreateBucket::new(&args.name, &args.region);
            body.storage_class = args.storage_class;
            body.public = args.public.then_some(true);
            if !args.tags.is_empty() {
                body.tags = Some(parse_tags(&args.tags)?);
            }
            let bucket = cx.client.create_bucket(&body).await?;
            print_bucket(cx.format, &bucket)?;
            Ok(())
        }
        BucketCommand::Get { bucket } => {
            print_bucket(cx.format, &cx.client.get_bucket(&bucket).await?)?;
            Ok(())
        }
        BucketCommand::Update(args) => {
            let tags = if args.clear_tags {
                Some(BTreeMap::new())
            } else if args.tags.is_empty() {
                None
            } else {
                Some(parse_tags(&args.tags)?)
            };
            if tags.is_none() && args.public.is_none() && args.storage_class.is_none() {
                return Err(Failure::usage(
                    "nothing to change: give --tag, --clear-tags, --public or --storage-class",
                ));
            }
            let body = UpdateBucket {
                tags,
                public: args.public,
                storage_class: args.storage_class,
            };
            print_bucket(cx.format, &cx.client.update_bucket(&args.bucket, &body).await?)?;
            Ok(())
        }
        BucketCommand::Rm { bucket } => {
            let deleted = cx.client.delete_bucket(&bucket).await?;
            print_bucket(cx.format, &deleted)?;
            if let Some(purge) = &deleted.purge_at {
                note(
                    cx.format,
                    &format!(
                        "{} is soft-deleted; `cloudnexus buckets restore {}` brings it back until {}",
                        deleted.name,
                        deleted.name,
                        human_time(purge)
                    ),
                );
            }
            Ok(())
        }
        BucketCommand::Restore { bucket } => {
            print_bucket(cx.format, &cx.client.restore_bucket(&bucket).await?)?;
            Ok(())
        }
    }
}

async fn list(cx: &Context, args: ListArgs) -> CommandResult {
    let query = ListBuckets {
        limit: args.limit,
        offset: None,
        cursor: args.cursor,
        prefix: args.prefix,
        region: args.region,
        tags: args.tags,
        include_deleted: args.include_deleted,
    };
    if args.all {
        let buckets = cx.client.list_all_buckets(&query).await?;
        match cx.format {
            Format::Json => output::print_json(&Value::Array(buckets.iter().map(json).collect()))?,
            Format::Jsonl => output::print_jsonl(&buckets.iter().map(json).collect::<Vec<_>>())?,
            Format::Csv => csv_of(&buckets).print_csv()?,
            Format::Table => {
                table_of(&buckets, args.include_deleted).print()?;
                note(cx.format, &format!("{} buckets", buckets.len()));
            }
        }
        return Ok(());
    }
    let page = cx.client.list_buckets(&query).await?;
    match cx.format {
        Format::Json => output::print_json(&json(&page))?,
        Format::Jsonl => output::print_jsonl(&page.data.iter().map(json).collect::<Vec<_>>())?,
        Format::Csv => csv_of(&page.data).print_csv()?,
        Format::Table => {
            table_of(&page.data, args.include_deleted).print()?;
            let p = &page.pagination;
            let shown = page.data.len() as u64;
            let first = if shown == 0 { 0 } else { p.offset + 1 };
            let mut summary = format!("buckets {first}-{} of {}", p.offset + shown, p.total);
            if let Some(cursor) = &p.next_cursor {
                summary.push_str(&format!("; next page: --cursor {cursor} (or --all)"));
            }
            note(cx.format, &summary);
        }
    }
    Ok(())
}
