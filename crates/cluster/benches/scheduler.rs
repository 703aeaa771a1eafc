//! Scheduler throughput, natively, on one thread: the workloads of
//! `kubecraft_cluster::scheduler::throughput` (5,000 bare nodes; pods created first,
//! then the wall time until every pod is bound gives pods/s).
//!
//! `cargo bench -p kubecraft-cluster --bench scheduler` prints, as medians of
//! several runs: 10,000 basic pods (goal ≥ 5,000 pods/s) and 1,000 pods with
//! required anti-affinity (goal ≥ 500 pods/s). `-- basic` or `-- anti` runs one
//! workload only (e.g. under a profiler). The same workloads run in the browser
//! with `npm run bench:browser`.

use std::time::Instant;

use kubecraft_cluster::scheduler::throughput::{Workload, NODES};

mod common;

use common::{median, selected};

const RUNS: usize = 3;

fn main() {
    println!("kubecraft scheduler benchmark (native, one thread, {RUNS} runs each, medians)");
    let origin = Instant::now();
    let mut seconds = || origin.elapsed().as_secs_f64();
    for workload in Workload::ALL {
        if !selected(workload.name()) {
            continue;
        }
        let rates: Vec<f64> = (0..RUNS)
            .map(|run| {
                workload
                    .run(run as u64, 1, &mut seconds)
                    .expect("the workload runs")
            })
            .collect();
        println!(
            "{NODES} nodes, {:>6} {:<13} pods: {:>7.0} pods/s   (goal >= {})",
            workload.measured(),
            workload.name(),
            median(rates),
            workload.goal()
        );
    }
}
