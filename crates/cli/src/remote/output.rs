//! Output for people and for scripts. `table` aligns columns, with sizes in KiB/MiB/GiB and
//! times to the minute; its header is bold only on a terminal (and never with `NO_COLOR`).
//! `json` prints the API's documents as they are, one document; `jsonl` one item per line; `csv`
//! a header and one row per item. Notes for people (page summaries) go to standard error.

use serde_json::Value;
use std::io::{IsTerminal, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
}

impl Format {
    /// Whether the output is for a person (progress bars and notes may appear).
    pub fn is_for_people(self) -> bool {
        self == Self::Table
    }
}

/// `1536` -> `1.5 KiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `2024-08-12T14:32:00Z` -> `2024-08-12 14:32` (anything else as it is).
pub fn human_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(minute)) if rfc3339.as_bytes().get(10) == Some(&b'T') => format!("{day} {minute}"),
        _ => rfc3339.to_owned(),
    }
}

/// A table: its header and rows, printed aligned.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: Vec<&'static str>) -> Self {
        Self {
            header,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Aligned columns; the header bold on a terminal.
    pub fn print(&self) -> std::io::Result<()> {
        let stdout = std::io::stdout();
        let bold = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = stdout.lock();
        let line = |cells: &[String]| {
            let last = cells.len().saturating_sub(1);
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == last {
                        c.clone()
                    } else {
                        format!("{c:<width$}", width = widths[i])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_owned()
        };
        let header: Vec<String> = self.header.iter().map(|h| (*h).to_owned()).collect();
        if bold {
            writeln!(out, "\x1b[1m{}\x1b[0m", line(&header))?;
        } else {
            writeln!(out, "{}", line(&header))?;
        }
        for row in &self.rows {
            writeln!(out, "{}", line(row))?;
        }
        Ok(())
    }

    /// The same cells as CSV (RFC 4180 quoting).
    pub fn print_csv(&self) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        let header: Vec<String> = self.header.iter().map(|h| h.to_ascii_lowercase()).collect();
        writeln!(out, "{}", csv_line(&header))?;
        for row in &self.rows {
            writeln!(out, "{}", csv_line(row))?;
        }
        Ok(())
    }
}

fn csv_line(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Prints one JSON document, pretty.
pub fn print_json(value: &Value) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)
}

/// Prints each item on a line of its own.
pub fn print_jsonl(items: &[Value]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    for item in items {
        serde_json::to_writer(&mut out, item)?;
        writeln!(out)?;
    }
    Ok(())
}

/// One value as `field  value` lines (a single resource for people).
pub fn print_fields(fields: &[(&'static str, String)]) -> std::io::Result<()> {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for (k, v) in fields {
        writeln!(out, "{k:<width$}  {v}")?;
    }
    Ok(())
}

/// A note for people, on standard error (never mixed into what scripts read).
pub fn note(format: Format, text: &str) {
    if format.is_for_people() {
        eprintln!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times_read_well() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(64 * 1024 * 1024), "64.0 MiB");
        assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5.0 GiB");
        assert_eq!(human_time("2024-08-12T14:32:00Z"), "2024-08-12 14:32");
        assert_eq!(human_time("yesterday"), "yesterday");
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(
            csv_line(&["a".into(), "b,c".into(), "say \"hi\"".into()]),
            "a,\"b,c\",\"say \"\"hi\"\"\""
        );
    }
}
