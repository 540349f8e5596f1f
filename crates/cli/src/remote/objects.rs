//! `cloudnexus objects ...`: list, put, get, remove and copy objects. Uploads stream from the
//! file (or standard input) as they are sent; downloads stream into a temporary file renamed
//! into place once whole, so a failed download never leaves a partial file behind.

use super::output::{self, Format, Table, human_size, human_time, note};
use super::progress;
use super::{CommandResult, Context, Failure};
use cloudnexus_client::{ObjectHeaders, ObjectInfo, ObjectList};
use cloudnexus_core::ContentHeaders;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// The scheme of remote paths in `objects cp`: `cnx://BUCKET/KEY`.
pub const REMOTE: &str = "cnx://";

#[derive(Debug, clap::Subcommand)]
pub enum ObjectCommand {
    /// List a bucket's objects in key order; with a delimiter, keys under it roll up into
    /// prefixes (folders).
    #[command(after_help = "Example:\n  cloudnexus objects ls web-assets --prefix img/ --delimiter /")]
    Ls(ListArgs),
    /// Store a file (or standard input, `-`) as an object.
    #[command(
        after_help = "Examples:\n  cloudnexus objects put web-assets img/logo.png ./logo.png\n  \
tar c ./site | cloudnexus objects put backups site.tar -"
    )]
    Put {
        /// The bucket's name or id.
        bucket: String,
        /// The object's key.
        key: String,
        /// The file to send, or `-` for standard input.
        file: String,
        /// The object's Content-Type (guessed from the file's extension when not given).
        #[arg(long)]
        content_type: Option<String>,
        #[command(flatten)]
        served_with: ServedWith,
    },
    /// Fetch an object into a file (by default the key's last segment) or standard output (`-`).
    #[command(
        after_help = "Examples:\n  cloudnexus objects get web-assets img/logo.png ./logo.png\n  \
cloudnexus objects get backups site.tar - | tar x"
    )]
    Get {
        /// The bucket's name or id.
        bucket: String,
        /// The object's key.
        key: String,
        /// Where to write it: a file, or `-` for standard output.
        file: Option<String>,
    },
    /// Remove an object (nothing happens when there is none).
    #[command(after_help = "Example:\n  cloudnexus objects rm web-assets img/old-logo.png")]
    Rm {
        /// The bucket's name or id.
        bucket: String,
        /// The object's key.
        key: String,
    },
    /// Copy files to objects or objects to files; a folder with --recursive. Remote paths are
    /// cnx://BUCKET/KEY (a key ending in / is a folder).
    #[command(
        after_help = "Examples:\n  cloudnexus objects cp ./site cnx://web-assets/site/ --recursive\n  \
cloudnexus objects cp cnx://web-assets/site/ ./restored --recursive\n  \
cloudnexus objects cp ./logo.png cnx://web-assets/img/"
    )]
    Cp {
        /// A local path or cnx://BUCKET/KEY.
        source: String,
        /// A local path or cnx://BUCKET/KEY.
        destination: String,
        /// Copy every file under a folder, or every object under a prefix.
        #[arg(long, short = 'r')]
        recursive: bool,
        /// The Content-Type of uploaded objects (guessed from each file's extension otherwise).
        #[arg(long)]
        content_type: Option<String>,
        #[command(flatten)]
        served_with: ServedWith,
    },
}

/// The headers an uploaded object is kept and served with, besides its Content-Type.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServedWith {
    /// The Cache-Control every read of the object answers, e.g. "public, max-age=3600".
    #[arg(long)]
    cache_control: Option<String>,
    /// The Content-Disposition every read answers, e.g. 'attachment; filename="report.pdf"'.
    #[arg(long)]
    content_disposition: Option<String>,
    /// The Content-Encoding of the bytes as sent (stored as they are, not decoded), e.g. gzip.
    #[arg(long)]
    content_encoding: Option<String>,
    /// The Content-Language every read answers, e.g. en-GB.
    #[arg(long)]
    content_language: Option<String>,
}

impl ServedWith {
    /// The headers to send, checked first by the service's own rules, so that a refused value
    /// is a usage error naming its flag (a value that is not ASCII could not even be sent).
    fn headers(&self, content_type: String) -> Result<ObjectHeaders, Failure> {
        let checked = ContentHeaders::new(
            self.cache_control.clone(),
            self.content_disposition.clone(),
            self.content_encoding.clone(),
            self.content_language.clone(),
        )
        .map_err(|e| Failure::usage(format!("--{}: {e}", e.header().to_ascii_lowercase())))?;
        Ok(ObjectHeaders {
            content_type,
            cache_control: checked.cache_control,
            content_disposition: checked.content_disposition,
            content_encoding: checked.content_encoding,
            content_language: checked.content_language,
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The bucket's name or id.
    bucket: String,
    /// Only keys starting with this.
    #[arg(long)]
    prefix: Option<String>,
    /// Roll keys up to the first occurrence of this after the prefix (usually /).
    #[arg(long)]
    delimiter: Option<String>,
    /// Entries per page (1-1000; the service's default is 100).
    #[arg(long)]
    limit: Option<u32>,
    /// Start at this `next_cursor` of an earlier page.
    #[arg(long, conflicts_with = "all")]
    cursor: Option<String>,
    /// Follow `next_cursor` to the last page.
    #[arg(long)]
    all: bool,
}

/// A Content-Type for a file name, for the common cases.
pub fn guess_content_type(path: &str) -> &'static str {
    let extension = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "txt" | "log" => "text/plain",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "csv" => "text/csv",
        "js" | "mjs" => "text/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

pub async fn run(cx: &Context, command: ObjectCommand) -> CommandResult {
    match command {
        ObjectCommand::Ls(args) => list(cx, args).await,
        ObjectCommand::Put {
            bucket,
            key,
            file,
            content_type,
            served_with,
        } => {
            let headers = served_with.headers(content_type.unwrap_or_else(|| guess_content_type(&file).to_owned()))?;
            let info = if file == "-" {
                put_stdin(cx, &bucket, &key, &headers).await?
            } else {
                put_file(cx, &bucket, &key, Path::new(&file), &headers).await?
            };
            print_object(cx.format, &info)?;
            Ok(())
        }
        ObjectCommand::Get { bucket, key, file } => {
            let target = file.unwrap_or_else(|| key.rsplit('/').next().unwrap_or(&key).to_owned());
            if target.is_empty() {
                return Err(Failure::usage("the key ends with /: name the file to write"));
            }
            if target == "-" {
                get_to_stdout(cx, &bucket, &key).await
            } else {
                let written = get_to_file(cx, &bucket, &key, Path::new(&target)).await?;
                note(cx.format, &format!("wrote {} to {target}", human_size(written)));
                if !cx.format.is_for_people() {
                    print_transfer(cx.format, &bucket, &key, &target, written)?;
                }
                Ok(())
            }
        }
        ObjectCommand::Rm { bucket, key } => {
            cx.client.delete_object(&bucket, &key).await?;
            match cx.format {
                Format::Table => note(cx.format, &format!("removed {key} from {bucket}")),
                Format::Json => output::print_json(&json!({"bucket": bucket, "key": key, "deleted": true}))?,
                Format::Jsonl => output::print_jsonl(&[json!({"bucket": bucket, "key": key, "deleted": true})])?,
                Format::Csv => {
                    let mut t = Table::new(vec!["bucket", "key", "deleted"]);
                    t.row(vec![bucket, key, "true".to_owned()]);
                    t.print_csv()?;
                }
            }
            Ok(())
        }
        ObjectCommand::Cp {
            source,
            destination,
            recursive,
            content_type,
            served_with,
        } => {
            let upload = Upload {
                content_type: content_type.as_deref(),
                served_with: &served_with,
            };
            copy(cx, &source, &destination, recursive, upload).await
        }
    }
}

fn object_json(o: &ObjectInfo) -> Value {
    serde_json::to_value(o).expect("client types serialize")
}

fn print_object(format: Format, o: &ObjectInfo) -> std::io::Result<()> {
    match format {
        Format::Json => output::print_json(&object_json(o)),
        Format::Jsonl => output::print_jsonl(&[object_json(o)]),
        Format::Csv => csv_of(std::slice::from_ref(o), &[]).print_csv(),
        Format::Table => output::print_fields(&[
            ("key", o.key.clone()),
            ("size", format!("{} ({} bytes)", human_size(o.size_bytes), o.size_bytes)),
            ("etag", o.etag.clone()),
            ("content type", o.content_type.clone()),
            ("modified", human_time(&o.last_modified)),
        ]),
    }
}

/// A download's summary, for scripts.
fn print_transfer(format: Format, bucket: &str, key: &str, file: &str, bytes: u64) -> std::io::Result<()> {
    let value = json!({"bucket": bucket, "key": key, "file": file, "size_bytes": bytes});
    match format {
        Format::Json => output::print_json(&value),
        Format::Jsonl => output::print_jsonl(&[value]),
        Format::Csv => {
            let mut t = Table::new(vec!["bucket", "key", "file", "size_bytes"]);
            t.row(vec![
                bucket.to_owned(),
                key.to_owned(),
                file.to_owned(),
                bytes.to_string(),
            ]);
            t.print_csv()
        }
        Format::Table => Ok(()),
    }
}

fn csv_of(objects: &[ObjectInfo], prefixes: &[String]) -> Table {
    let mut t = Table::new(vec![
        "type",
        "key",
        "size_bytes",
        "etag",
        "content_type",
        "last_modified",
    ]);
    for p in prefixes {
        t.row(vec![
            "prefix".to_owned(),
            p.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    for o in objects {
        t.row(vec![
            "object".to_owned(),
            o.key.clone(),
            o.size_bytes.to_string(),
            o.etag.clone(),
            o.content_type.clone(),
            o.last_modified.clone(),
        ]);
    }
    t
}

fn table_of(objects: &[ObjectInfo], prefixes: &[String]) -> Table {
    let mut t = Table::new(vec!["KEY", "SIZE", "MODIFIED", "TYPE"]);
    for p in prefixes {
        t.row(vec![p.clone(), "PRE".to_owned(), String::new(), String::new()]);
    }
    for o in objects {
        t.row(vec![
            o.key.clone(),
            human_size(o.size_bytes),
            human_time(&o.last_modified),
            o.content_type.clone(),
        ]);
    }
    t
}

/// Every page's objects and prefixes under a query, following cursors.
async fn list_all(
    cx: &Context,
    bucket: &str,
    base: &[(&str, String)],
) -> Result<(Vec<ObjectInfo>, Vec<String>), Failure> {
    let mut objects = Vec::new();
    let mut prefixes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(c) = &cursor {
            query.push(("cursor", c));
        }
        let page = cx.client.list_objects(bucket, &query).await?;
        objects.extend(page.data);
        prefixes.extend(page.common_prefixes);
        match page.pagination.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok((objects, prefixes)),
        }
    }
}

async fn list(cx: &Context, args: ListArgs) -> CommandResult {
    let mut base: Vec<(&str, String)> = Vec::new();
    if let Some(p) = &args.prefix {
        base.push(("prefix", p.clone()));
    }
    if let Some(d) = &args.delimiter {
        base.push(("delimiter", d.clone()));
    }
    if let Some(l) = args.limit {
        base.push(("limit", l.to_string()));
    }
    let items = |objects: &[ObjectInfo], prefixes: &[String]| -> Vec<Value> {
        prefixes
            .iter()
            .map(|p| json!({"prefix": p}))
            .chain(objects.iter().map(object_json))
            .collect()
    };
    if args.all {
        let (objects, prefixes) = list_all(cx, &args.bucket, &base).await?;
        match cx.format {
            Format::Json => output::print_json(&Value::Array(items(&objects, &prefixes)))?,
            Format::Jsonl => output::print_jsonl(&items(&objects, &prefixes))?,
            Format::Csv => csv_of(&objects, &prefixes).print_csv()?,
            Format::Table => {
                table_of(&objects, &prefixes).print()?;
                note(
                    cx.format,
                    &format!("{} objects, {} prefixes", objects.len(), prefixes.len()),
                );
            }
        }
        return Ok(());
    }
    let mut query: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if let Some(c) = &args.cursor {
        query.push(("cursor", c));
    }
    let page: ObjectList = cx.client.list_objects(&args.bucket, &query).await?;
    match cx.format {
        Format::Json => output::print_json(&serde_json::to_value(&page).expect("serializes"))?,
        Format::Jsonl => output::print_jsonl(&items(&page.data, &page.common_prefixes))?,
        Format::Csv => csv_of(&page.data, &page.common_prefixes).print_csv()?,
        Format::Table => {
            table_of(&page.data, &page.common_prefixes).print()?;
            if let Some(cursor) = &page.pagination.next_cursor {
                note(cx.format, &format!("more: --cursor {cursor} (or --all)"));
            }
        }
    }
    Ok(())
}

/// Uploads a file, streamed from disk (opened again if a 429 makes the client retry).
async fn put_file(
    cx: &Context,
    bucket: &str,
    key: &str,
    path: &Path,
    headers: &ObjectHeaders,
) -> Result<ObjectInfo, Failure> {
    let length = std::fs::metadata(path)
        .map_err(|e| Failure::other(format!("cannot read {}: {e}", path.display())))?
        .len();
    let bar = progress::bar(cx.format, Some(length), key);
    let info = cx
        .client
        .put_object_with(bucket, key, Some(length), headers, || {
            let file = tokio::fs::File::from_std(std::fs::File::open(path)?);
            bar.set_position(0);
            let bar = bar.clone();
            let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024).inspect(move |chunk| {
                if let Ok(bytes) = chunk {
                    bar.inc(bytes.len() as u64);
                }
            });
            Ok(reqwest::Body::wrap_stream(stream))
        })
        .await;
    bar.finish_and_clear();
    Ok(info?)
}

/// Uploads standard input as it is read (sent once: it cannot be read again).
async fn put_stdin(cx: &Context, bucket: &str, key: &str, headers: &ObjectHeaders) -> Result<ObjectInfo, Failure> {
    let bar = progress::bar(cx.format, None, key);
    let sent = std::sync::Mutex::new(Some(tokio::io::stdin()));
    let reporter = bar.clone();
    let info = cx
        .client
        .put_object_with(bucket, key, None, headers, || {
            let stdin = sent
                .lock()
                .map_err(|_| std::io::Error::other("lock"))?
                .take()
                .ok_or_else(|| std::io::Error::other("standard input was already sent once"))?;
            let bar = reporter.clone();
            let stream = tokio_util::io::ReaderStream::with_capacity(stdin, 256 * 1024).inspect(move |chunk| {
                if let Ok(bytes) = chunk {
                    bar.inc(bytes.len() as u64);
                }
            });
            Ok(reqwest::Body::wrap_stream(stream))
        })
        .await;
    bar.finish_and_clear();
    Ok(info?)
}

async fn get_to_stdout(cx: &Context, bucket: &str, key: &str) -> CommandResult {
    let mut response = cx.client.get_object_response(bucket, key).await?;
    let mut out = tokio::io::stdout();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Failure::other(format!("the download broke off: {e}")))?
    {
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    Ok(())
}

/// Downloads into `path` through a temporary file beside it; returns the bytes written.
async fn get_to_file(cx: &Context, bucket: &str, key: &str, path: &Path) -> Result<u64, Failure> {
    let mut response = cx.client.get_object_response(bucket, key).await?;
    let expected = response.content_length();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir).await?;
    let temp = dir.join(format!(
        ".{}.cloudnexus-partial",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("download")
    ));
    let bar = progress::bar(cx.format, expected, key);
    let result = async {
        let mut file = tokio::fs::File::create(&temp).await?;
        let mut written = 0u64;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Failure::other(format!("the download broke off: {e}")))?
        {
            file.write_all(&chunk).await?;
            written += chunk.len() as u64;
            bar.inc(chunk.len() as u64);
        }
        file.sync_all().await?;
        if expected.is_some_and(|e| e != written) {
            return Err(Failure::other(format!(
                "the download ended after {written} of {} bytes",
                expected.unwrap_or_default()
            )));
        }
        tokio::fs::rename(&temp, path).await?;
        Ok::<u64, Failure>(written)
    }
    .await;
    bar.finish_and_clear();
    if result.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    result
}

/// A side of `objects cp`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    Local(PathBuf),
    Remote { bucket: String, key: String },
}

fn location(s: &str) -> Result<Location, Failure> {
    match s.strip_prefix(REMOTE) {
        None => Ok(Location::Local(PathBuf::from(s))),
        Some(rest) => {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(Failure::usage(format!("{s:?} names no bucket: write cnx://BUCKET/KEY")));
            }
            Ok(Location::Remote {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            })
        }
    }
}

/// The files under `dir`, with their paths relative to it (using `/`), sorted.
fn files_under(dir: &Path) -> Result<Vec<(PathBuf, String)>, Failure> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)
            .map_err(|e| Failure::other(format!("cannot read {}: {e}", current.display())))?
        {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                let relative = entry
                    .path()
                    .strip_prefix(dir)
                    .expect("under the folder")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                found.push((entry.path(), relative));
            }
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(found)
}

/// How `objects cp` uploads: the Content-Type given (else guessed per file) and the rest.
struct Upload<'a> {
    content_type: Option<&'a str>,
    served_with: &'a ServedWith,
}

impl Upload<'_> {
    /// The headers of the object uploaded as `key`.
    fn headers(&self, key: &str) -> Result<ObjectHeaders, Failure> {
        let content_type = self
            .content_type
            .map_or_else(|| guess_content_type(key).to_owned(), str::to_owned);
        self.served_with.headers(content_type)
    }
}

async fn copy(cx: &Context, source: &str, destination: &str, recursive: bool, upload: Upload<'_>) -> CommandResult {
    let mut copied = 0u64;
    let mut bytes = 0u64;
    match (location(source)?, location(destination)?) {
        (Location::Local(from), Location::Remote { bucket, key }) if recursive => {
            if !from.is_dir() {
                return Err(Failure::usage(format!("{} is not a folder", from.display())));
            }
            let prefix = if key.is_empty() || key.ends_with('/') {
                key
            } else {
                format!("{key}/")
            };
            for (path, relative) in files_under(&from)? {
                let key = format!("{prefix}{relative}");
                let info = put_file(cx, &bucket, &key, &path, &upload.headers(&relative)?).await?;
                note(
                    cx.format,
                    &format!("upload: {} -> {REMOTE}{bucket}/{key}", path.display()),
                );
                copied += 1;
                bytes += info.size_bytes;
            }
        }
        (Location::Remote { bucket, key }, Location::Local(to)) if recursive => {
            let prefix = if key.is_empty() || key.ends_with('/') {
                key
            } else {
                format!("{key}/")
            };
            let (objects, _) = list_all(cx, &bucket, &[("prefix", prefix.clone())]).await?;
            for object in objects {
                let relative = &object.key[prefix.len()..];
                let unsafe_path = relative.is_empty()
                    || relative
                        .split('/')
                        .any(|segment| segment.is_empty() || segment == "." || segment == "..");
                if unsafe_path {
                    note(cx.format, &format!("skipped {}: not a safe file path", object.key));
                    continue;
                }
                let path = to.join(relative);
                bytes += get_to_file(cx, &bucket, &object.key, &path).await?;
                note(
                    cx.format,
                    &format!("download: {REMOTE}{bucket}/{} -> {}", object.key, path.display()),
                );
                copied += 1;
            }
        }
        (Location::Local(from), Location::Remote { bucket, key }) => {
            let name = from.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let key = if key.is_empty() || key.ends_with('/') {
                format!("{key}{name}")
            } else {
                key
            };
            let info = put_file(cx, &bucket, &key, &from, &upload.headers(&key)?).await?;
            copied = 1;
            bytes = info.size_bytes;
        }
        (Location::Remote { bucket, key }, Location::Local(to)) => {
            if key.is_empty() || key.ends_with('/') {
                return Err(Failure::usage(
                    "the source is a prefix: add --recursive to copy every object under it",
                ));
            }
            let path = if to.is_dir() {
                to.join(key.rsplit('/').next().unwrap_or(&key))
            } else {
                to
            };
            bytes = get_to_file(cx, &bucket, &key, &path).await?;
            copied = 1;
        }
        (Location::Local(_), Location::Local(_)) => {
            return Err(Failure::usage("one side of cp must be cnx://BUCKET/KEY"));
        }
        (Location::Remote { .. }, Location::Remote { .. }) => {
            return Err(Failure::usage(
                "copies between objects are not supported; copy to a local file and back, or use the S3 protocol's CopyObject",
            ));
        }
    }
    let summary = json!({"copied": copied, "size_bytes": bytes});
    match cx.format {
        Format::Table => note(cx.format, &format!("copied {copied} file(s), {}", human_size(bytes))),
        Format::Json => output::print_json(&summary)?,
        Format::Jsonl => output::print_jsonl(&[summary])?,
        Format::Csv => {
            let mut t = Table::new(vec!["copied", "size_bytes"]);
            t.row(vec![copied.to_string(), bytes.to_string()]);
            t.print_csv()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_paths_name_a_bucket_and_a_key() {
        assert_eq!(
            location("cnx://photos/2024/a.jpg").unwrap(),
            Location::Remote {
                bucket: "photos".into(),
                key: "2024/a.jpg".into()
            }
        );
        assert_eq!(
            location("cnx://photos").unwrap(),
            Location::Remote {
                bucket: "photos".into(),
                key: String::new()
            }
        );
        assert_eq!(location("./a/b").unwrap(), Location::Local(PathBuf::from("./a/b")));
        assert!(location("cnx:///key").is_err());
    }

    #[test]
    fn content_types_are_guessed_from_extensions() {
        assert_eq!(guess_content_type("index.HTML"), "text/html");
        assert_eq!(guess_content_type("a/b.tar.gz"), "application/gzip");
        assert_eq!(guess_content_type("no-extension"), "application/octet-stream");
    }
}
