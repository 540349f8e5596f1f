//! `report`: the benchmark's bookkeeping, for `scripts/bench.sh`.
//!
//! - `report shapes N`: the query shapes, one `id<TAB>label<TAB>path` line each (shape g's path
//!   holds `@CURSOR@`).
//! - `report cursor-source N`: the request whose `next_cursor` shape g uses.
//! - `report collect --dir RUN --n N --out FILE [--started T] [--git REV] [--load-generator V]
//!   [--latency-seconds S] [--throughput-seconds S] [--connections C] [--server-cpu X]
//!   [--loadgen-cpu Y]`: reads what the script left in RUN (seed.json, responses/, wrk/ with
//!   wrk/uncached/ and the ratio rounds, server-vmhwm-kib, baseline-vmhwm-kib), checks the
//!   targets and writes one result file.
//! - `report markdown --doc FILE RESULT...`: rewrites the part of FILE between
//!   `<!-- results:begin -->` and `<!-- results:end -->` with the results' tables.
//! - `report compare OLD NEW`: a markdown table of what changed between two result files of
//!   the same N.
//! - `report field FILE a.b.c`: prints one value of a JSON file (strings without quotes);
//!   fails when it is missing or null.

use anyhow::{Context, bail};
use cloudnexus_bench::shapes::{self, LATENCY_TARGET_N, MEMORY_TARGET_MIB, RATIO_TARGET, RATIO_TARGET_N};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// 2: shapes measured with the list cache on and off; the ratio from interleaved rounds.
const SCHEMA: u32 = 2;
/// The markers of a results section: `<!-- {section}:begin -->` ... `<!-- {section}:end -->`.
fn markers(section: &str) -> (String, String) {
    (format!("<!-- {section}:begin -->"), format!("<!-- {section}:end -->"))
}

/// The p99 every shape must meet at a million buckets on PostgreSQL (issue 11).
const POSTGRES_P99_TARGET_MS: u32 = 10;
/// Under 1 upload per this many lists, a shape's list throughput must stay at least
/// `MIXED_TARGET` of its read-only figure (cache on).
const MIXED_TARGET_LISTS_PER_UPLOAD: u32 = 20;
const MIXED_TARGET: f64 = 0.5;
/// With the list cache off, at 1,000,000 buckets: each shape's p99 with one connection.
const UNCACHED_P99_TARGET_MS: f64 = 2.0;
const UNCACHED_P99_TARGET_MS_POSTGRES: f64 = 5.0;
/// With the list cache off, at 10,000 buckets: shape (a)'s throughput over the baseline's.
const UNCACHED_RATIO_TARGET: f64 = 0.2;

fn sqlite() -> String {
    "sqlite".to_owned()
}

/// What the wrk script (`scripts/bench.sh`'s `report.lua`) writes after each run.
#[derive(Debug, Deserialize)]
struct WrkOutput {
    duration_us: f64,
    requests: u64,
    errors: WrkErrors,
    latency_us: WrkLatency,
}

#[derive(Debug, Deserialize)]
struct WrkErrors {
    connect: u64,
    read: u64,
    write: u64,
    status: u64,
    timeout: u64,
}

#[derive(Debug, Deserialize)]
struct WrkLatency {
    mean: f64,
    max: f64,
    p50: f64,
    p90: f64,
    p99: f64,
}

/// One load-generator run, summarised.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LoadRun {
    connections: u32,
    seconds: f64,
    requests: u64,
    rps: f64,
    mean_ms: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Socket errors, timeouts and non-2xx answers: a run with any is not a valid measurement.
    errors: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Machine {
    nproc: usize,
    cpu_model: String,
    memory_mib: u64,
    kernel: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Setup {
    n: u64,
    /// The metadata store: `sqlite` (the embedded default) or `postgres`.
    #[serde(default = "sqlite")]
    backend: String,
    seed: u64,
    load_generator: String,
    latency_seconds: u32,
    throughput_seconds: u32,
    connections: u32,
    server_cpu: String,
    loadgen_cpu: String,
    /// `/proc/loadavg`'s 1-minute figure before seeding and after the last run of this N: well
    /// above 2 on a 2-core machine means something else was competing for the CPUs.
    #[serde(default)]
    load_before: f64,
    #[serde(default)]
    load_after: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Seeding {
    buckets: u64,
    soft_deleted: u64,
    insert_seconds: f64,
    delete_seconds: f64,
    seed_seconds: f64,
    db_mib: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Measured {
    path: String,
    status: u16,
    response_bytes: u64,
    latency: LoadRun,
    throughput: LoadRun,
}

/// A shape's runs on the server with the list cache off.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Runs {
    latency: LoadRun,
    throughput: LoadRun,
}

/// A shape listed while uploads go to random buckets of the project: of every
/// `lists_per_upload + 1` requests, one is a 1 KiB upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MixedRun {
    lists_per_upload: u32,
    /// Lists and uploads together (latency percentiles are of both).
    run: LoadRun,
    /// The lists' share of the requests per second.
    list_rps: f64,
    upload_rps: f64,
}

/// One round of the ratio: shape (a), then the baseline, back to back.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RatioRound {
    shape_a_rps: f64,
    baseline_rps: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ShapeResult {
    id: String,
    label: String,
    /// With the list cache on (the default configuration).
    #[serde(flatten)]
    measured: Measured,
    /// With the list cache off: every request renders its page from the database.
    #[serde(default)]
    uncached: Option<Runs>,
    /// Many-connection runs with uploads mixed in, list cache on (one per ratio).
    #[serde(default)]
    mixed: Vec<MixedRun>,
    /// `pagination.total` and the number of buckets on the page measured.
    total: u64,
    returned: u64,
    p99_target_ms: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Target {
    name: String,
    limit: f64,
    value: f64,
    unit: String,
    passed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunResult {
    schema: u32,
    started_at: String,
    git_commit: String,
    machine: Machine,
    setup: Setup,
    seeding: Seeding,
    server_peak_rss_mib: f64,
    baseline_peak_rss_mib: f64,
    baseline: Measured,
    shapes: Vec<ShapeResult>,
    /// Interleaved throughput rounds of shape (a) and the baseline.
    #[serde(default)]
    ratio_rounds: Vec<RatioRound>,
    /// Shape (a)'s throughput over the baseline's: the ratio of the rounds' medians.
    ratio_to_baseline: f64,
    targets: Vec<Target>,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("shapes") => {
            let n = parse_n(args.get(1))?;
            for s in shapes::shapes(n) {
                println!("{}\t{}\t{}", s.id, s.label, s.path());
            }
            Ok(())
        }
        Some("cursor-source") => {
            println!("{}", shapes::cursor_source(parse_n(args.get(1))?));
            Ok(())
        }
        Some("collect") => collect(&Flags::parse(&args[1..])?),
        Some("markdown") => {
            let usage = "usage: report markdown --doc FILE [--section NAME] RESULT.json...";
            let (doc, rest) = match args.get(1..) {
                Some([flag, doc, rest @ ..]) if flag == "--doc" => (doc, rest),
                _ => bail!(usage),
            };
            let (section, files) = match rest {
                [flag, section, files @ ..] if flag == "--section" => (section.as_str(), files),
                files => ("results", files),
            };
            if files.is_empty() {
                bail!(usage);
            }
            markdown(Path::new(doc), section, files)
        }
        Some("compare") => match args.get(1..) {
            Some([old, new]) => {
                print!("{}", compare(&load(Path::new(old))?, &load(Path::new(new))?));
                Ok(())
            }
            _ => bail!("usage: report compare OLD.json NEW.json"),
        },
        Some("field") => match args.get(1..) {
            Some([file, path]) => {
                let value: serde_json::Value =
                    serde_json::from_str(&read(Path::new(file))?).with_context(|| format!("{file} is not JSON"))?;
                let found = path.split('.').fold(&value, |v, part| &v[part]);
                match found {
                    serde_json::Value::Null => bail!("{file} has no {path}"),
                    serde_json::Value::String(s) => println!("{s}"),
                    other => println!("{other}"),
                }
                Ok(())
            }
            _ => bail!("usage: report field FILE a.b.c"),
        },
        _ => bail!(
            "usage: report shapes N | cursor-source N | collect --dir RUN --n N --out FILE ... | markdown --doc FILE RESULT... | compare OLD NEW | field FILE PATH"
        ),
    }
}

fn parse_n(arg: Option<&String>) -> anyhow::Result<u64> {
    arg.context("N is missing")?.parse().context("N must be a whole number")
}

/// `--name value` pairs.
struct Flags(HashMap<String, String>);

impl Flags {
    fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut map = HashMap::new();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let name = flag
                .strip_prefix("--")
                .with_context(|| format!("expected a --flag, got {flag}"))?;
            let value = it.next().with_context(|| format!("--{name} needs a value"))?;
            map.insert(name.to_owned(), value.clone());
        }
        Ok(Self(map))
    }

    fn get(&self, name: &str) -> anyhow::Result<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .with_context(|| format!("--{name} is required"))
    }

    fn or(&self, name: &str, default: &str) -> String {
        self.0.get(name).cloned().unwrap_or_else(|| default.to_owned())
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> anyhow::Result<T> {
        match self.0.get(name) {
            Some(v) => v.parse().map_err(|_| anyhow::anyhow!("--{name} must be a number")),
            None => Ok(default),
        }
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn load(path: &Path) -> anyhow::Result<RunResult> {
    serde_json::from_str(&read(path)?).with_context(|| format!("parsing {}", path.display()))
}

fn load_run(path: &Path, connections: u32) -> anyhow::Result<LoadRun> {
    let w: WrkOutput = serde_json::from_str(&read(path)?).with_context(|| format!("parsing {}", path.display()))?;
    let seconds = w.duration_us / 1e6;
    let e = &w.errors;
    Ok(LoadRun {
        connections,
        seconds,
        requests: w.requests,
        rps: if seconds > 0.0 {
            w.requests as f64 / seconds
        } else {
            0.0
        },
        mean_ms: w.latency_us.mean / 1e3,
        p50_ms: w.latency_us.p50 / 1e3,
        p90_ms: w.latency_us.p90 / 1e3,
        p99_ms: w.latency_us.p99 / 1e3,
        max_ms: w.latency_us.max / 1e3,
        errors: e.connect + e.read + e.write + e.status + e.timeout,
    })
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')))
        .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Machine {
        nproc: std::thread::available_parallelism().map_or(0, usize::from),
        cpu_model,
        memory_mib: memory_kib / 1024,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned()),
    }
}

/// The 1-minute load average now.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(-1.0)
}

/// `1000000` as `1,000,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib_from_kib_file(path: &Path) -> anyhow::Result<f64> {
    let kib: f64 = read(path)?
        .trim()
        .parse()
        .with_context(|| format!("{} should hold a number of KiB", path.display()))?;
    Ok(kib / 1024.0)
}

fn collect(flags: &Flags) -> anyhow::Result<()> {
    let dir = PathBuf::from(flags.get("dir")?);
    let n: u64 = flags.get("n")?.parse().context("--n must be a whole number")?;
    let out = PathBuf::from(flags.get("out")?);
    let connections: u32 = flags.number("connections", 32)?;
    let seed: serde_json::Value = serde_json::from_str(&read(&dir.join("seed.json"))?)?;
    let num = |k: &str| seed.get(k).and_then(serde_json::Value::as_f64).unwrap_or(0.0);

    let measured = |name: &str, path: String| -> anyhow::Result<(Measured, serde_json::Value)> {
        let body = std::fs::read(dir.join("responses").join(format!("{name}.json")))
            .with_context(|| format!("the response of {name}"))?;
        let status: u16 = read(&dir.join("responses").join(format!("{name}.status")))?
            .trim()
            .parse()
            .context("HTTP status")?;
        let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        let m = Measured {
            path,
            status,
            response_bytes: body.len() as u64,
            latency: load_run(&dir.join("wrk").join(format!("{name}-lat.json")), 1)?,
            throughput: load_run(&dir.join("wrk").join(format!("{name}-thr.json")), connections)?,
        };
        Ok((m, json))
    };

    let wrk = dir.join("wrk");
    let uncached = |id: &str| -> anyhow::Result<Option<Runs>> {
        let latency = wrk.join("uncached").join(format!("{id}-lat.json"));
        if !latency.exists() {
            return Ok(None);
        }
        Ok(Some(Runs {
            latency: load_run(&latency, 1)?,
            throughput: load_run(&wrk.join("uncached").join(format!("{id}-thr.json")), connections)?,
        }))
    };
    let mut ratios: Vec<u32> = std::fs::read_dir(&wrk)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.strip_prefix("mixed-")?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    ratios.sort_unstable_by(|a, b| b.cmp(a));
    let mixed = |id: &str| -> anyhow::Result<Vec<MixedRun>> {
        ratios
            .iter()
            .map(|&every| {
                let run = load_run(
                    &wrk.join(format!("mixed-{every}")).join(format!("{id}.json")),
                    connections,
                )?;
                let list_share = f64::from(every) / f64::from(every + 1);
                Ok(MixedRun {
                    lists_per_upload: every,
                    list_rps: run.rps * list_share,
                    upload_rps: run.rps * (1.0 - list_share),
                    run,
                })
            })
            .collect()
    };
    let backend = flags.or("backend", "sqlite");
    let on_postgres = backend == "postgres";
    let mut results = Vec::new();
    for s in shapes::shapes(n) {
        let (m, json) = measured(s.id, s.path())?;
        let page = &json["pagination"];
        results.push(ShapeResult {
            id: s.id.to_owned(),
            label: s.label.to_owned(),
            total: page["total"].as_u64().unwrap_or(0),
            returned: json["data"].as_array().map_or(0, |d| d.len() as u64),
            measured: m,
            uncached: uncached(s.id)?,
            mixed: mixed(s.id)?,
            p99_target_ms: if on_postgres {
                POSTGRES_P99_TARGET_MS
            } else {
                s.p99_target_ms
            },
        });
    }
    let (baseline, _) = measured("baseline", "(any path)".to_owned())?;
    let server_peak_rss_mib = mib_from_kib_file(&dir.join("server-vmhwm-kib"))?;
    let baseline_peak_rss_mib = mib_from_kib_file(&dir.join("baseline-vmhwm-kib")).unwrap_or(0.0);
    let mut ratio_rounds = Vec::new();
    for round in 1.. {
        let a = wrk.join(format!("ratio-a-{round}.json"));
        if !a.exists() {
            break;
        }
        ratio_rounds.push(RatioRound {
            shape_a_rps: load_run(&a, connections)?.rps,
            baseline_rps: load_run(&wrk.join(format!("ratio-baseline-{round}.json")), connections)?.rps,
        });
    }
    let ratio_to_baseline = if ratio_rounds.is_empty() {
        results[0].measured.throughput.rps / baseline.throughput.rps.max(f64::MIN_POSITIVE)
    } else {
        median(ratio_rounds.iter().map(|r| r.shape_a_rps))
            / median(ratio_rounds.iter().map(|r| r.baseline_rps)).max(f64::MIN_POSITIVE)
    };

    let mut targets = Vec::new();
    if n == LATENCY_TARGET_N {
        for s in &results {
            // The worse of the two configurations: a page rendered from the database must meet
            // the target too, not only a page served again.
            let (p99, errors, which) = match &s.uncached {
                Some(u) if u.latency.p99_ms > s.measured.latency.p99_ms => {
                    (u.latency.p99_ms, u.latency.errors, "list cache off")
                }
                Some(u) => (
                    s.measured.latency.p99_ms,
                    s.measured.latency.errors + u.latency.errors,
                    "list cache on",
                ),
                None => (s.measured.latency.p99_ms, s.measured.latency.errors, "list cache on"),
            };
            targets.push(Target {
                name: format!("({}) {} p99, 1 connection (worse: {which})", s.id, s.label),
                limit: f64::from(s.p99_target_ms),
                value: p99,
                unit: "ms".to_owned(),
                passed: p99 <= f64::from(s.p99_target_ms) && errors == 0,
            });
        }
    }
    // The ratio target is the embedded default's (the HTTP path is the same on both).
    if n == RATIO_TARGET_N && !on_postgres {
        targets.push(Target {
            name: "(a) throughput / baseline".to_owned(),
            limit: RATIO_TARGET,
            value: ratio_to_baseline,
            unit: "ratio (at least)".to_owned(),
            passed: ratio_to_baseline >= RATIO_TARGET,
        });
    }
    // The uncached path on its own (every request after a change takes it): at 1,000,000 each
    // shape's p99 with one connection, and at 10,000 shape (a)'s throughput against the baseline.
    if n == LATENCY_TARGET_N {
        let limit = if on_postgres {
            UNCACHED_P99_TARGET_MS_POSTGRES
        } else {
            UNCACHED_P99_TARGET_MS
        };
        for s in &results {
            if let Some(u) = &s.uncached {
                targets.push(Target {
                    name: format!("({}) {} p99, 1 connection, list cache off", s.id, s.label),
                    limit,
                    value: u.latency.p99_ms,
                    unit: "ms".to_owned(),
                    passed: u.latency.p99_ms <= limit && u.latency.errors == 0,
                });
            }
        }
    }
    if n == RATIO_TARGET_N
        && !on_postgres
        && let Some(u) = &results[0].uncached
    {
        let baseline_rps = if ratio_rounds.is_empty() {
            baseline.throughput.rps
        } else {
            median(ratio_rounds.iter().map(|r| r.baseline_rps))
        };
        let value = u.throughput.rps / baseline_rps.max(f64::MIN_POSITIVE);
        targets.push(Target {
            name: "(a) throughput with the list cache off / baseline".to_owned(),
            limit: UNCACHED_RATIO_TARGET,
            value,
            unit: "ratio (at least)".to_owned(),
            passed: value >= UNCACHED_RATIO_TARGET && u.throughput.errors == 0,
        });
    }
    // Lists under the lighter mixed workload keep at least half the read-only cached figure.
    if n == RATIO_TARGET_N {
        let a = &results[0];
        if let Some(m) = a
            .mixed
            .iter()
            .find(|m| m.lists_per_upload == MIXED_TARGET_LISTS_PER_UPLOAD)
        {
            let value = m.list_rps / a.measured.throughput.rps.max(f64::MIN_POSITIVE);
            targets.push(Target {
                name: format!(
                    "(a) list throughput with 1 upload per {MIXED_TARGET_LISTS_PER_UPLOAD} lists / read-only, cache on"
                ),
                limit: MIXED_TARGET,
                value,
                unit: "ratio (at least)".to_owned(),
                passed: value >= MIXED_TARGET && m.run.errors == 0,
            });
        }
    }
    targets.push(Target {
        name: "server peak RSS".to_owned(),
        limit: MEMORY_TARGET_MIB,
        value: server_peak_rss_mib,
        unit: "MiB".to_owned(),
        passed: server_peak_rss_mib <= MEMORY_TARGET_MIB,
    });

    let result = RunResult {
        schema: SCHEMA,
        started_at: flags.or("started", "unknown"),
        git_commit: flags.or("git", "unknown"),
        machine: machine(),
        setup: Setup {
            n,
            backend,
            seed: seed["seed"].as_u64().unwrap_or(0),
            load_generator: flags.or("load-generator", "wrk"),
            latency_seconds: flags.number("latency-seconds", 0)?,
            throughput_seconds: flags.number("throughput-seconds", 0)?,
            connections,
            server_cpu: flags.or("server-cpu", "0"),
            loadgen_cpu: flags.or("loadgen-cpu", "1"),
            load_before: read(&dir.join("loadavg-before"))
                .ok()
                .and_then(|l| l.split_whitespace().next()?.parse().ok())
                .unwrap_or(-1.0),
            load_after: load_average(),
        },
        seeding: Seeding {
            buckets: seed["created"].as_u64().unwrap_or(0),
            soft_deleted: seed["soft_deleted"].as_u64().unwrap_or(0),
            insert_seconds: num("insert_seconds"),
            delete_seconds: num("delete_seconds"),
            seed_seconds: num("seed_seconds"),
            db_mib: num("db_bytes") / 1_048_576.0,
        },
        server_peak_rss_mib,
        baseline_peak_rss_mib,
        baseline,
        shapes: results,
        ratio_rounds,
        ratio_to_baseline,
        targets,
    };
    let invalid: Vec<&str> = result
        .shapes
        .iter()
        .filter(|s| {
            let uncached_errors = s
                .uncached
                .as_ref()
                .map_or(0, |u| u.latency.errors + u.throughput.errors);
            let mixed_errors: u64 = s.mixed.iter().map(|m| m.run.errors).sum();
            s.measured.status != 200
                || s.measured.latency.errors + s.measured.throughput.errors + uncached_errors + mixed_errors > 0
        })
        .map(|s| s.id.as_str())
        .collect();
    if !invalid.is_empty() {
        eprintln!("report: warning: shapes with errors or a non-200 answer: {invalid:?}");
    }
    std::fs::write(&out, serde_json::to_string_pretty(&result)? + "\n")
        .with_context(|| format!("writing {}", out.display()))?;
    for t in &result.targets {
        eprintln!(
            "report: N={n} {}: {:.2} {} (limit {}) {}",
            t.name,
            t.value,
            t.unit,
            t.limit,
            if t.passed { "pass" } else { "MISS" }
        );
    }
    Ok(())
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn rps(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn verdict(value: f64, limit: f64, at_most: bool) -> String {
    let passed = if at_most { value <= limit } else { value >= limit };
    if passed {
        "pass".to_owned()
    } else if at_most {
        format!("**miss** ({:.1}x the target)", value / limit)
    } else {
        format!("**miss** ({:.0}% of the target)", value / limit * 100.0)
    }
}

fn table(r: &RunResult) -> String {
    let mut s = String::new();
    let n = r.setup.n;
    let latency_targets = n == LATENCY_TARGET_N;
    let on = match r.setup.backend.as_str() {
        "postgres" => ", on PostgreSQL",
        _ => "",
    };
    let _ = writeln!(s, "### N = {} buckets{on}\n", thousands(n));
    let _ = writeln!(
        s,
        "Seeded in {:.1} s ({:.1} s to insert {} buckets in chunks, {:.1} s to soft-delete {} one by one); \
         database {:.0} MiB. Load average {:.1} before seeding, {:.1} after the last run. \
         Server peak RSS (VmHWM) **{:.1} MiB**{}.\n",
        r.seeding.seed_seconds,
        r.seeding.insert_seconds,
        thousands(r.seeding.buckets),
        r.seeding.delete_seconds,
        thousands(r.seeding.soft_deleted),
        r.seeding.db_mib,
        r.setup.load_before,
        r.setup.load_after,
        r.server_peak_rss_mib,
        if r.server_peak_rss_mib <= MEMORY_TARGET_MIB {
            format!(" (target {MEMORY_TARGET_MIB:.0} MiB: pass)")
        } else {
            format!(" (target {MEMORY_TARGET_MIB:.0} MiB: **miss**)")
        },
    );
    let c = r.setup.connections;
    let _ = writeln!(
        s,
        "| shape | request | total | bytes | cache on: p50 ms (1 conn) | p99 ms (1 conn) | req/s ({c} conn) | cache off: p50 ms (1 conn) | p99 ms (1 conn) | req/s ({c} conn) | p99 target{} |",
        if latency_targets {
            " (worse of on/off)"
        } else {
            " (applies at 1,000,000)"
        }
    );
    let _ = writeln!(s, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|");
    for sh in &r.shapes {
        let m = &sh.measured;
        let u = sh.uncached.as_ref();
        let worse = u.map_or(m.latency.p99_ms, |u| u.latency.p99_ms.max(m.latency.p99_ms));
        let target = if latency_targets {
            format!(
                "{} ms: {}",
                sh.p99_target_ms,
                verdict(worse, f64::from(sh.p99_target_ms), true)
            )
        } else {
            format!("{} ms", sh.p99_target_ms)
        };
        let errors = m.latency.errors + m.throughput.errors + u.map_or(0, |u| u.latency.errors + u.throughput.errors);
        let flag = if m.status != 200 || errors > 0 {
            format!(" (HTTP {}, {errors} errors: invalid)", m.status)
        } else {
            String::new()
        };
        let off = |f: fn(&Runs) -> String| u.map_or_else(|| "-".to_owned(), f);
        let _ = writeln!(
            s,
            "| ({}) {}{flag} | `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {target} |",
            sh.id,
            sh.label,
            shorten(&m.path),
            sh.total,
            m.response_bytes,
            ms(m.latency.p50_ms),
            ms(m.latency.p99_ms),
            rps(m.throughput.rps),
            off(|u| ms(u.latency.p50_ms)),
            off(|u| ms(u.latency.p99_ms)),
            off(|u| rps(u.throughput.rps)),
        );
    }
    let b = &r.baseline;
    let _ = writeln!(
        s,
        "| baseline (bare hyper, shape (a)'s bytes) | any | | {} | {} | {} | {} | | | | |",
        b.response_bytes,
        ms(b.latency.p50_ms),
        ms(b.latency.p99_ms),
        rps(b.throughput.rps),
    );
    mixed_table(&mut s, r);
    let rounds = if r.ratio_rounds.is_empty() {
        String::new()
    } else {
        format!(
            " (medians of {} interleaved rounds: shape (a) {} req/s, baseline {} req/s)",
            r.ratio_rounds.len(),
            r.ratio_rounds
                .iter()
                .map(|x| rps(x.shape_a_rps))
                .collect::<Vec<_>>()
                .join(", "),
            r.ratio_rounds
                .iter()
                .map(|x| rps(x.baseline_rps))
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    let _ = writeln!(
        s,
        "\nShape (a) throughput / baseline: **{:.0}%**{rounds}{}.\n",
        r.ratio_to_baseline * 100.0,
        if n == RATIO_TARGET_N && r.setup.backend != "postgres" {
            format!(
                "; target at least {:.0}%: {}",
                RATIO_TARGET * 100.0,
                verdict(r.ratio_to_baseline, RATIO_TARGET, false)
            )
        } else {
            String::new()
        }
    );
    s
}

/// The mixed workload beside the read-only figures: list throughput with uploads going on.
fn mixed_table(s: &mut String, r: &RunResult) {
    let Some(first) = r.shapes.iter().find(|sh| !sh.mixed.is_empty()) else {
        return;
    };
    let c = r.setup.connections;
    let mut header = format!("\n| shape | read-only req/s ({c} conn, cache on) |");
    let mut rule = "|---|--:|".to_owned();
    for m in &first.mixed {
        let k = m.lists_per_upload;
        let _ = write!(
            header,
            " 1 upload per {k} lists: list req/s | share of read-only | uploads/s | p99 ms (all) |"
        );
        rule.push_str("--:|--:|--:|--:|");
    }
    let _ = writeln!(s, "{header}\n{rule}");
    for sh in &r.shapes {
        let read_only = sh.measured.throughput.rps;
        let mut row = format!("| ({}) {} | {} |", sh.id, sh.label, rps(read_only));
        for m in &sh.mixed {
            let flag = if m.run.errors > 0 { " (errors: invalid)" } else { "" };
            let _ = write!(
                row,
                " {}{flag} | {:.0}% | {} | {} |",
                rps(m.list_rps),
                100.0 * m.list_rps / read_only.max(f64::MIN_POSITIVE),
                rps(m.upload_rps),
                ms(m.run.p99_ms)
            );
        }
        let _ = writeln!(s, "{row}");
    }
}

/// Shape (g)'s cursor is long and different every run: show where it goes, not its bytes.
fn shorten(path: &str) -> String {
    match path.split_once("cursor=") {
        Some((head, _)) => format!("{head}cursor=<page {} of the walk>", "N/2"),
        None => path.to_owned(),
    }
}

fn markdown(doc: &Path, section: &str, files: &[String]) -> anyhow::Result<()> {
    let mut results = files
        .iter()
        .map(|f| load(Path::new(f)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    results.sort_by_key(|r| r.setup.n);
    let first = &results[0];
    let m = &first.machine;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "_Generated by `scripts/bench.sh` (`report markdown`) from {}; do not edit by hand._\n",
        files
            .iter()
            .map(|f| format!("`{}`", f.rsplit_once("bench/").map_or(f.as_str(), |(_, t)| t)))
            .map(|f| f.replace("`results/", "`bench/results/"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        s,
        "Run of {} at commit `{}`. Machine: {} cores ({}), {:.1} GiB of memory, Linux {}. \
         Server on CPU {}, {} on CPU {}; latency: 1 connection for {} s; throughput: {} connections for {} s.\n",
        first.started_at,
        first.git_commit,
        m.nproc,
        m.cpu_model,
        m.memory_mib as f64 / 1024.0,
        m.kernel,
        first.setup.server_cpu,
        first.setup.load_generator,
        first.setup.loadgen_cpu,
        first.setup.latency_seconds,
        first.setup.connections,
        first.setup.throughput_seconds,
    );
    for r in &results {
        s.push_str(&table(r));
    }
    let misses: Vec<String> = results
        .iter()
        .flat_map(|r| {
            r.targets.iter().filter(|t| !t.passed).map(move |t| {
                format!(
                    "- N = {}: {}: {:.2} {} against {} ({})",
                    thousands(r.setup.n),
                    t.name,
                    t.value,
                    t.unit,
                    t.limit,
                    if t.unit.contains("at least") {
                        format!("{:.0}% of it", t.value / t.limit * 100.0)
                    } else {
                        format!("{:+.2} over, {:.1}x", t.value - t.limit, t.value / t.limit)
                    }
                )
            })
        })
        .collect();
    let checked: usize = results.iter().map(|r| r.targets.len()).sum();
    let _ = writeln!(
        s,
        "**Targets:** {} of {checked} checked in this run pass.{}",
        checked - misses.len(),
        if misses.is_empty() {
            String::new()
        } else {
            format!(" Missed:\n\n{}", misses.join("\n"))
        }
    );

    let text = read(doc)?;
    let (begin, end) = markers(section);
    let (Some(b), Some(e)) = (text.find(&begin), text.find(&end)) else {
        bail!("{} has no {begin} ... {end} section", doc.display());
    };
    if e < b {
        bail!("{end} comes before {begin} in {}", doc.display());
    }
    let updated = format!("{}{begin}\n{}\n{}", &text[..b], s.trim_end(), &text[e..]);
    std::fs::write(doc, updated).with_context(|| format!("writing {}", doc.display()))
}

fn change(old: f64, new: f64) -> String {
    if old == 0.0 {
        return "n/a".to_owned();
    }
    format!("{:+.0}%", (new - old) / old * 100.0)
}

fn compare(old: &RunResult, new: &RunResult) -> String {
    let mut s = String::new();
    if old.setup.n != new.setup.n {
        let _ = writeln!(
            s,
            "warning: comparing N={} with N={}; the numbers are not comparable\n",
            old.setup.n, new.setup.n
        );
    }
    let _ = writeln!(
        s,
        "N = {}: {} ({}) -> {} ({})\n",
        thousands(new.setup.n),
        old.started_at,
        old.git_commit,
        new.started_at,
        new.git_commit
    );
    let _ = writeln!(
        s,
        "| shape | p99 ms old | p99 ms new | change | req/s old | req/s new | change |"
    );
    let _ = writeln!(s, "|---|--:|--:|--:|--:|--:|--:|");
    let mut rows: Vec<(String, &Measured, &Measured)> = Vec::new();
    for n in &new.shapes {
        if let Some(o) = old.shapes.iter().find(|o| o.id == n.id) {
            rows.push((format!("({}) {}", n.id, n.label), &o.measured, &n.measured));
        }
    }
    rows.push(("baseline".to_owned(), &old.baseline, &new.baseline));
    for (label, o, n) in rows {
        let _ = writeln!(
            s,
            "| {label} | {} | {} | {} | {} | {} | {} |",
            ms(o.latency.p99_ms),
            ms(n.latency.p99_ms),
            change(o.latency.p99_ms, n.latency.p99_ms),
            rps(o.throughput.rps),
            rps(n.throughput.rps),
            change(o.throughput.rps, n.throughput.rps),
        );
    }
    let _ = writeln!(
        s,
        "\nSeeding {:.1} s -> {:.1} s; server peak RSS {:.1} MiB -> {:.1} MiB; (a)/baseline {:.0}% -> {:.0}%",
        old.seeding.seed_seconds,
        new.seeding.seed_seconds,
        old.server_peak_rss_mib,
        new.server_peak_rss_mib,
        old.ratio_to_baseline * 100.0,
        new.ratio_to_baseline * 100.0
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0, 3.0, 2.0].into_iter()), 2.5);
        assert_eq!(median(std::iter::empty()), 0.0);
    }

    #[test]
    fn misses_say_by_how_much() {
        assert_eq!(verdict(4.0, 5.0, true), "pass");
        assert_eq!(verdict(12.5, 5.0, true), "**miss** (2.5x the target)");
        assert_eq!(verdict(0.25, 0.5, false), "**miss** (50% of the target)");
    }
}
