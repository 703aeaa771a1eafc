//! API server throughput, list latency and memory, on one thread, natively.
//!
//! `cargo bench -p kubecraft-cluster --bench apiserver` prints:
//! - creates/s and updates/s of pods (decode, defaulting, admission defaults,
//!   validation, storage, watch fan-out to 5 watchers);
//! - list latency by label selector and by `spec.nodeName` for a 100-pod result out
//!   of 150,000 pods;
//! - resident memory per stored pod at 150,000 pods (indexes and watch history included).
//!
//! Each timing is the median of several runs. Goals (issue 2): ≥ 50,000 mutating
//! requests/s; < 5 ms per 100-pod list; ≤ 4 KB per pod.
//!
//! `-- memory` or `-- writes` runs one part only (e.g. under a profiler).

use std::time::Instant;

use kubecraft_cluster::api::Request;
use kubecraft_cluster::apiserver::watch::WatchId;
use kubecraft_cluster::apiserver::{ApiServer, Env};
use kubecraft_cluster::sim::{SeededRng, VirtualTime};

mod common;

use common::{median, selected};

const POD_COUNT: usize = 150_000;
const NODES: usize = 1_500;
const APPS: usize = 1_500;
const WATCHERS: usize = 5;
const WRITE_BATCH: usize = 20_000;
const RUNS: usize = 5;

fn pod_body(i: usize) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"web-{i}","labels":{{"app":"app-{app}","pod-template-hash":"7d9f8c6b5"}}}},"spec":{{"nodeName":"node-{node}","containers":[{{"name":"web","image":"nginx:1.27","ports":[{{"containerPort":80}}],"resources":{{"requests":{{"cpu":"100m","memory":"128Mi"}}}}}}]}}}}"#,
        app = i % APPS,
        node = i % NODES,
    )
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

struct Bench {
    api: ApiServer,
    rng: SeededRng,
    watches: Vec<WatchId>,
}

impl Bench {
    fn new() -> Self {
        let mut bench = Bench {
            api: ApiServer::new(),
            rng: SeededRng::new(1),
            watches: Vec::new(),
        };
        for _ in 0..WATCHERS {
            let response = bench.call(&Request::get("/api/v1/pods").with_query("watch", "true"));
            bench.watches.push(response.watch_id().expect("watch"));
        }
        bench
    }

    fn call(&mut self, req: &Request) -> kubecraft_cluster::api::Response {
        let mut env = Env {
            now: VirtualTime(0),
            rng: &mut self.rng,
        };
        self.api.handle(req, &mut env).response
    }

    /// Watchers read what they were sent, as informers would.
    fn drain_watches(&mut self) -> usize {
        let ids = self.watches.clone();
        let delivered = ids
            .iter()
            .map(|id| self.api.take_watch_events(*id, VirtualTime(0)).len())
            .sum();
        self.api.drain_watch_notifications();
        delivered
    }
}

fn main() {
    println!("kubecraft API server benchmark (native, one thread, {RUNS} runs each, medians)");
    if selected("memory and lists") {
        memory_and_lists();
    }
    if selected("writes") {
        writes();
    }
}

/// Memory and lists at 150,000 pods.
fn memory_and_lists() {
    let before = resident_bytes();
    let mut bench = Bench::new();
    for i in 0..POD_COUNT {
        let r = bench.call(&Request::post(
            "/api/v1/namespaces/default/pods",
            pod_body(i),
        ));
        assert_eq!(r.status, 201);
        if i % 10_000 == 0 {
            bench.drain_watches();
        }
    }
    bench.drain_watches();
    let after = resident_bytes();
    println!(
        "resident memory per stored pod at {POD_COUNT} pods: {:>6.0} bytes   (goal <= 4096)",
        (after.saturating_sub(before)) as f64 / POD_COUNT as f64
    );

    for (what, key, value) in [
        ("label selector app=app-7", "labelSelector", "app=app-7"),
        (
            "field selector spec.nodeName=node-7",
            "fieldSelector",
            "spec.nodeName=node-7",
        ),
    ] {
        let req = Request::get("/api/v1/pods").with_query(key, value);
        let mut times = Vec::new();
        let mut items = 0;
        for _ in 0..RUNS * 4 {
            let start = Instant::now();
            let r = bench.call(&req);
            let body = r.body_json();
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            items = body["items"].as_array().map_or(0, Vec::len);
        }
        assert_eq!(items, 100);
        println!(
            "list by {what:<38} ({items} of {POD_COUNT}): {:>6.3} ms   (goal < 5 ms)",
            median(times)
        );
    }
}

/// Creates then updates of fresh pods, in batches, with watch fan-out to 5 watchers.
fn writes() {
    let mut create_rates = Vec::new();
    let mut update_rates = Vec::new();
    for run in 0..RUNS {
        let mut bench = Bench::new();
        let bodies: Vec<(String, String)> = (0..WRITE_BATCH)
            .map(|i| (format!("web-{i}"), pod_body(i)))
            .collect();
        let start = Instant::now();
        for (_, body) in &bodies {
            let r = bench.call(&Request::post(
                "/api/v1/namespaces/default/pods",
                body.clone(),
            ));
            assert_eq!(r.status, 201, "{}", r.body_text());
        }
        let created = start.elapsed().as_secs_f64();
        let delivered = bench.drain_watches();
        assert_eq!(delivered, WRITE_BATCH * WATCHERS);
        let start = Instant::now();
        for (name, _) in &bodies {
            let r = bench.call(&Request::patch(
                format!("/api/v1/namespaces/default/pods/{name}"),
                "application/merge-patch+json",
                format!(r#"{{"metadata":{{"labels":{{"run":"{run}"}}}}}}"#),
            ));
            assert_eq!(r.status, 200);
        }
        let updated = start.elapsed().as_secs_f64();
        assert_eq!(bench.drain_watches(), WRITE_BATCH * WATCHERS);
        create_rates.push(WRITE_BATCH as f64 / created);
        update_rates.push(WRITE_BATCH as f64 / updated);
    }
    println!(
        "pod creates/s  (validation, defaults, {WATCHERS} watchers): {:>9.0}   (goal >= 50000)",
        median(create_rates)
    );
    println!(
        "pod updates/s  (merge patch, {WATCHERS} watchers):          {:>9.0}   (goal >= 50000)",
        median(update_rates)
    );
}
