//! The list-endpoint benchmark of CloudNexus Storage: the data set it seeds, the query shapes
//! it measures and their targets. `scripts/bench.sh` drives the three binaries:
//!
//! - `seed` fills a data folder with one project of N buckets through the store's bulk path;
//! - `baseline` is a bare hyper server answering fixed bytes, the HTTP ceiling of the machine;
//! - `report` turns the load generator's output into `bench/results/*.json` and the table of
//!   `docs/benchmarks.md`, and compares two runs.

pub mod dataset;
pub mod shapes;
