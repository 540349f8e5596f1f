//! Progress bars for transfers larger than [`SHOWN_ABOVE`], on standard error, only when it is
//! a terminal and the output is for people: never in piped, JSON, JSON-lines or CSV output.

use super::output::Format;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// Transfers at least this large show a bar.
pub const SHOWN_ABOVE: u64 = 4 * 1024 * 1024;

/// A bar for a transfer of `total` bytes (`None`: unknown), or a hidden one.
pub fn bar(format: Format, total: Option<u64>, label: &str) -> ProgressBar {
    let visible = format.is_for_people() && std::io::stderr().is_terminal() && total.is_none_or(|t| t >= SHOWN_ABOVE);
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::new_spinner(),
    };
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(label.to_owned());
    // Drawn at once: a fast transfer would otherwise finish before the first refresh.
    bar.tick();
    bar
}
