//! What every engine benchmark shares: mimalloc as the global allocator (as the
//! `kubecraft` binary uses natively) and the median of repeated runs.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The median of `xs` (the upper one of an even count).
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

/// Whether the workload `name` runs: every workload when the command line names none
/// (`cargo bench --bench X`), else those whose name contains a word given after `--`.
pub fn selected(name: &str) -> bool {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    only.is_empty() || only.iter().any(|o| name.contains(o.as_str()))
}
