//! `kubectl get` over a large cluster, natively, end to end (kubectl → REST →
//! API server → server-side Table → kubectl's printer).
//!
//! `cargo bench -p kubecraft-kubectl --bench get` prints the median of several runs of
//! `get pods -A` over 150,000 pods (goal < 300 ms) and `get pods -l app=web` among
//! them (goal < 10 ms).

use std::time::Instant;

use kubecraft_cluster::api::Request;
use kubecraft_cluster::sim::World;
use kubecraft_kubectl::Kubectl;

/// Native builds use mimalloc, as the `kubecraft` binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PODS: usize = 150_000;
const NAMESPACES: usize = 50;
const RUNS: usize = 5;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn main() {
    let mut world = World::new(1);
    for ns in 0..NAMESPACES {
        let body = format!(r#"{{"metadata":{{"name":"team-{ns}"}}}}"#);
        assert_eq!(
            world
                .call("setup", &Request::post("/api/v1/namespaces", body))
                .status,
            201
        );
    }
    for i in 0..PODS {
        let app = if i % 1500 == 0 { "web" } else { "batch" };
        let body = format!(
            r#"{{"metadata":{{"name":"pod-{i}","labels":{{"app":"{app}"}}}},"spec":{{"containers":[{{"name":"c","image":"nginx:1.27"}}]}}}}"#
        );
        let path = format!("/api/v1/namespaces/team-{}/pods", i % NAMESPACES);
        assert_eq!(world.call("setup", &Request::post(path, body)).status, 201);
    }
    let mut kubectl = Kubectl::default();
    println!("kubectl get over {PODS} pods (native, one thread, median of {RUNS} runs)");
    for (what, args, goal) in [
        ("get pods -A", vec!["get", "pods", "-A"], 300.0),
        (
            "get pods -A -l app=web",
            vec!["get", "pods", "-A", "-l", "app=web"],
            10.0,
        ),
    ] {
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        let mut times = Vec::new();
        let mut lines = 0;
        for _ in 0..RUNS {
            let start = Instant::now();
            let out = kubectl.run(&mut world, &args, None);
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            lines = out.combined().lines().count();
        }
        println!(
            "{what:<28} {lines:>7} lines  {:>9.1} ms   (goal < {goal} ms)",
            median(times)
        );
    }
}
