//! The Job controller: completions with parallelism, a backoffLimit of 2 that
//! fails the Job after 3 failed pods (replacements after upstream's back-off),
//! activeDeadlineSeconds, and pods counted once through the tracking finalizer.

use crate::common;

use common::Cluster;
use kubecraft_cluster::api::Request;
use kubecraft_cluster::cluster;
use serde_json::{json, Value};

const JOBS: &str = "/apis/batch/v1/namespaces/default/jobs";

fn job(name: &str, spec: Value, command: &[&str]) -> Value {
    let mut job = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "main", "image": "busybox:1.36", "command": command}]}}},
    });
    for (k, v) in spec.as_object().unwrap() {
        job["spec"][k] = v.clone();
    }
    job
}

fn pods_of(c: &mut Cluster, job: &str) -> Vec<Value> {
    let (_, list) = c.json(Request::get("/api/v1/namespaces/default/pods").with_query(
        "labelSelector",
        format!("batch.kubernetes.io/job-name={job}"),
    ));
    list["items"].as_array().unwrap().clone()
}

fn condition_reasons(j: &Value) -> Vec<(String, String)> {
    j["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["type"].as_str().unwrap().into(),
                c["reason"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn a_job_runs_until_its_completions_succeed() {
    let mut c = Cluster::with_world(cluster::start(71));
    let (code, body) = c.post(
        JOBS,
        job(
            "batch",
            json!({"completions": 3, "parallelism": 2}),
            &["sh", "-c", "sleep 2; echo done"],
        ),
    );
    assert_eq!(code, 201, "{body}");
    c.world.advance(1_500);
    let (_, j) = c.get(&format!("{JOBS}/batch"));
    assert_eq!(j["status"]["active"], 2, "parallelism 2: {}", j["status"]);
    c.world.settle(300_000);
    let (_, j) = c.get(&format!("{JOBS}/batch"));
    assert_eq!(j["status"]["succeeded"], 3, "{}", j["status"]);
    assert!(j["status"].get("active").is_none(), "{}", j["status"]);
    assert!(j["status"]["completionTime"].is_string());
    assert_eq!(
        condition_reasons(&j),
        [
            ("SuccessCriteriaMet".into(), "CompletionsReached".into()),
            ("Complete".into(), "CompletionsReached".into())
        ]
    );
    let pods = pods_of(&mut c, "batch");
    assert_eq!(pods.len(), 3);
    assert!(pods
        .iter()
        .all(|p| p["status"]["phase"] == "Succeeded" && p["metadata"]["finalizers"].is_null()));
    assert_eq!(c.events("batch", "Completed"), ["Job completed"]);
}

#[test]
fn a_job_with_backoff_limit_two_fails_after_three_pods() {
    let mut c = Cluster::with_world(cluster::start(72));
    c.post(
        JOBS,
        job("flaky", json!({"backoffLimit": 2}), &["sh", "-c", "exit 1"]),
    );
    c.world.settle(600_000);
    let (_, j) = c.get(&format!("{JOBS}/flaky"));
    assert_eq!(j["status"]["failed"], 3, "{}", j["status"]);
    assert_eq!(
        condition_reasons(&j),
        [
            ("FailureTarget".into(), "BackoffLimitExceeded".into()),
            ("Failed".into(), "BackoffLimitExceeded".into())
        ]
    );
    let pods = pods_of(&mut c, "flaky");
    assert_eq!(
        pods.len(),
        3,
        "exactly three pods were created: {}",
        j["status"]
    );
    // Replacements waited for the back-off: 10 s after the first failure, 20 s after the second.
    let mut created: Vec<&str> = pods
        .iter()
        .map(|p| p["metadata"]["creationTimestamp"].as_str().unwrap())
        .collect();
    created.sort();
    let seconds =
        |t: &str| t[17..19].parse::<i64>().unwrap() + 60 * t[14..16].parse::<i64>().unwrap();
    assert!(
        seconds(created[1]) - seconds(created[0]) >= 10,
        "{created:?}"
    );
    assert!(
        seconds(created[2]) - seconds(created[1]) >= 20,
        "{created:?}"
    );
    assert_eq!(
        c.events("flaky", "BackoffLimitExceeded"),
        ["Job has reached the specified backoff limit"]
    );
}

#[test]
fn a_job_past_its_active_deadline_fails_and_stops_its_pods() {
    let mut c = Cluster::with_world(cluster::start(73));
    c.post(
        JOBS,
        job(
            "slow",
            json!({"activeDeadlineSeconds": 5}),
            &["sleep", "60"],
        ),
    );
    c.world.settle(300_000);
    let (_, j) = c.get(&format!("{JOBS}/slow"));
    assert_eq!(
        condition_reasons(&j)[1],
        ("Failed".into(), "DeadlineExceeded".into())
    );
    assert!(pods_of(&mut c, "slow").is_empty(), "its pod was deleted");
}

#[test]
fn a_finished_job_with_a_ttl_is_deleted_with_its_pods_when_the_ttl_passes() {
    let mut c = Cluster::with_world(cluster::start(73));
    for (name, spec) in [
        ("short", json!({"ttlSecondsAfterFinished": 100})),
        ("kept", json!({})),
    ] {
        let (code, body) = c.post(JOBS, job(name, spec, &["sh", "-c", "echo done"]));
        assert_eq!(code, 201, "{body}");
    }
    c.world.settle(120_000);
    let (code, short) = c.get(&format!("{JOBS}/short"));
    assert_eq!(code, 200);
    assert!(condition_reasons(&short).contains(&("Complete".into(), "CompletionsReached".into())));
    assert_eq!(pods_of(&mut c, "short").len(), 1);
    // Waiting for the TTL is not work: the cluster is quiet meanwhile.
    c.world.advance(60_000);
    assert_eq!(c.get(&format!("{JOBS}/short")).0, 200);
    c.world.advance(60_000);
    c.world.settle(60_000);
    assert_eq!(c.get(&format!("{JOBS}/short")).0, 404);
    assert!(pods_of(&mut c, "short").is_empty());
    assert_eq!(c.get(&format!("{JOBS}/kept")).0, 200);
    assert_eq!(pods_of(&mut c, "kept").len(), 1);
}

/// An Indexed Job runs one pod per completion index (index in an annotation, a
/// label, the hostname and JOB_COMPLETION_INDEX), lowest indexes first within
/// `parallelism`, and completes when every index has
/// succeeded, listing them in `completedIndexes`.
#[test]
fn an_indexed_job_completes_every_index() {
    let mut c = Cluster::with_world(cluster::start(72));
    let (code, body) = c.post(
        JOBS,
        job(
            "shards",
            json!({"completions": 4, "parallelism": 2, "completionMode": "Indexed"}),
            &["sh", "-c", "sleep 5"],
        ),
    );
    assert_eq!(code, 201, "{body}");
    c.world.advance(2_000);
    let running = pods_of(&mut c, "shards");
    let mut indexes: Vec<String> = running
        .iter()
        .map(|p| {
            p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    indexes.sort();
    assert_eq!(
        indexes,
        ["0", "1"],
        "the lowest indexes first, parallelism 2"
    );
    let first = running
        .iter()
        .find(|p| p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == "0")
        .unwrap();
    assert!(first["metadata"]["name"]
        .as_str()
        .unwrap()
        .starts_with("shards-0-"));
    assert_eq!(first["spec"]["hostname"], "shards-0");
    assert_eq!(
        first["spec"]["containers"][0]["env"],
        json!([{"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {"apiVersion": "v1",
            "fieldPath": "metadata.labels['batch.kubernetes.io/job-completion-index']"}}}])
    );
    // Both have slept their 5 s (image pulls take a seeded few seconds); the next two
    // started only when one of them finished (7 s at the earliest), so they cannot
    // have finished yet.
    c.world.advance(8_000);
    let (_, j) = c.get(&format!("{JOBS}/shards"));
    assert_eq!(j["status"]["completedIndexes"], "0,1");
    assert_eq!(j["status"]["succeeded"], 2);
    c.world.settle(600_000);
    let (_, j) = c.get(&format!("{JOBS}/shards"));
    assert_eq!(j["status"]["completedIndexes"], "0-3");
    assert_eq!(j["status"]["succeeded"], 4);
    assert_eq!(
        condition_reasons(&j),
        [
            (
                "SuccessCriteriaMet".to_string(),
                "CompletionsReached".to_string()
            ),
            ("Complete".to_string(), "CompletionsReached".to_string())
        ]
    );
    let (code, refused) = c.post(
        JOBS,
        job(
            "bad",
            json!({"completions": null, "parallelism": 2, "completionMode": "Indexed"}),
            &["true"],
        ),
    );
    assert_eq!(code, 422);
    assert_eq!(
        refused["message"],
        "Job.batch \"bad\" is invalid: spec.completions: Required value: when completion mode is Indexed"
    );
}

/// With `backoffLimitPerIndex`, an index that fails more often than the limit is
/// failed on its own (`failedIndexes`) while the others complete; then the Job fails
/// with FailedIndexes. Replacement pods carry their index's failures so far.
#[test]
fn an_index_past_its_backoff_limit_fails_alone() {
    let mut c = Cluster::with_world(cluster::start(73));
    let (code, body) = c.post(
        JOBS,
        job(
            "flaky",
            json!({"completions": 2, "parallelism": 2, "completionMode": "Indexed", "backoffLimitPerIndex": 1}),
            &["sh", "-c", "sleep 1; exit $JOB_COMPLETION_INDEX"],
        ),
    );
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["spec"]["backoffLimit"], i64::from(i32::MAX));
    c.world.settle(600_000);
    let (_, j) = c.get(&format!("{JOBS}/flaky"));
    assert_eq!(j["status"]["completedIndexes"], "0");
    assert_eq!(j["status"]["failedIndexes"], "1");
    assert_eq!(j["status"]["failed"], 2);
    assert_eq!(
        condition_reasons(&j),
        [
            ("FailureTarget".to_string(), "FailedIndexes".to_string()),
            ("Failed".to_string(), "FailedIndexes".to_string())
        ]
    );
    let mut counts: Vec<String> = pods_of(&mut c, "flaky")
        .iter()
        .filter(|p| p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == "1")
        .map(|p| {
            p["metadata"]["annotations"]["batch.kubernetes.io/job-index-failure-count"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    counts.sort();
    assert_eq!(counts, ["0", "1"]);
    let (code, refused) = c.post(
        JOBS,
        job(
            "plain",
            json!({"completions": 2, "backoffLimitPerIndex": 1}),
            &["true"],
        ),
    );
    assert_eq!(code, 422);
    assert_eq!(
        refused["message"],
        "Job.batch \"plain\" is invalid: spec.backoffLimitPerIndex: Forbidden: requires indexed completion mode"
    );
}

/// A pod failure policy: a failure its FailJob rule matches fails the Job at once
/// with upstream's message; failures its Ignore rule matches are not counted.
#[test]
fn pod_failure_policy_rules_decide_what_a_failure_means() {
    let mut c = Cluster::with_world(cluster::start(74));
    let rules = json!({"rules": [
        {"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}},
        {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}},
    ]});
    let (code, body) = c.post(
        JOBS,
        job(
            "fatal",
            json!({"podFailurePolicy": rules, "backoffLimit": 6}),
            &["sh", "-c", "sleep 1; exit 42"],
        ),
    );
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["spec"]["podReplacementPolicy"], "Failed");
    c.world.settle(600_000);
    let (_, j) = c.get(&format!("{JOBS}/fatal"));
    let failed = j["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Failed")
        .unwrap()
        .clone();
    assert_eq!(failed["reason"], "PodFailurePolicy");
    let pod = pods_of(&mut c, "fatal")[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        failed["message"],
        format!("Container main for pod default/{pod} failed with exit code 42 matching FailJob rule at index 1")
    );
    let (code, _) = c.post(
        JOBS,
        job(
            "retried",
            json!({"podFailurePolicy": rules, "backoffLimit": 0}),
            &["sh", "-c", "sleep 1; exit 3"],
        ),
    );
    assert_eq!(code, 201);
    c.world.advance(20_000);
    let (_, j) = c.get(&format!("{JOBS}/retried"));
    assert!(
        j["status"]["failed"].is_null(),
        "ignored failures are not counted: {}",
        j["status"]
    );
    assert!(
        pods_of(&mut c, "retried").len() >= 3,
        "each ignored failure is replaced"
    );
    let mut on_failure = job("wrong", json!({"podFailurePolicy": rules}), &["true"]);
    on_failure["spec"]["template"]["spec"]["restartPolicy"] = json!("OnFailure");
    let (code, refused) = c.post(JOBS, on_failure);
    assert_eq!(code, 422);
    assert_eq!(
        refused["message"],
        "Job.batch \"wrong\" is invalid: spec.template.spec.restartPolicy: Invalid value: \"OnFailure\": only \"Never\" is supported when podFailurePolicy is specified"
    );
}

/// Pods of `job` as (name, terminating) pairs.
fn pod_states(c: &mut Cluster, job: &str) -> Vec<(String, bool)> {
    pods_of(c, job)
        .iter()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                !p["metadata"]["deletionTimestamp"].is_null(),
            )
        })
        .collect()
}

#[test]
fn pod_replacement_policy_decides_when_a_terminating_pod_is_replaced() {
    let mut c = Cluster::with_world(cluster::start(74));
    // A preStop hook keeps a deleted pod terminating for 20 s.
    let slow_stop = |name: &str, policy: &str| {
        let mut j = job(
            name,
            json!({"podReplacementPolicy": policy}),
            &["sleep", "3600"],
        );
        j["spec"]["template"]["spec"]["containers"][0]["lifecycle"] =
            json!({"preStop": {"exec": {"command": ["sleep", "20"]}}});
        j
    };
    c.post(JOBS, slow_stop("eager", "TerminatingOrFailed"));
    c.post(JOBS, slow_stop("careful", "Failed"));
    c.world.advance(15_000);
    for name in ["eager", "careful"] {
        let pods = pod_states(&mut c, name);
        assert_eq!(pods.len(), 1, "{name}: {pods:?}");
        c.delete(&format!("/api/v1/namespaces/default/pods/{}", pods[0].0));
    }
    c.world.advance(5_000);
    // The default replaces the pod at once; Failed waits while it terminates.
    let eager = pod_states(&mut c, "eager");
    assert_eq!(
        eager.iter().filter(|(_, t)| *t).count(),
        1,
        "eager: {eager:?}"
    );
    assert_eq!(eager.len(), 2, "eager: {eager:?}");
    let careful = pod_states(&mut c, "careful");
    assert_eq!(careful.len(), 1, "careful: {careful:?}");
    assert!(careful[0].1, "careful: {careful:?}");
    let (_, j) = c.get(&format!("{JOBS}/careful"));
    assert_eq!(j["status"]["terminating"], 1, "{}", j["status"]);
    assert_eq!(j["status"]["active"], Value::Null, "{}", j["status"]);
    // Once the old pod is gone (failed), its replacement comes after the back-off.
    c.world.advance(40_000);
    let careful = pod_states(&mut c, "careful");
    assert_eq!(careful.len(), 1, "careful: {careful:?}");
    assert!(!careful[0].1, "careful: {careful:?}");
    let (_, j) = c.get(&format!("{JOBS}/careful"));
    assert_eq!(j["status"]["failed"], 1, "{}", j["status"]);
}

#[test]
fn a_job_without_completions_leaves_its_running_pods_after_one_succeeds() {
    let mut c = Cluster::with_world(cluster::start(75));
    // The three pods finish moments apart (their starts are staggered); the first
    // success must not stop the other two, which go on to succeed as well.
    c.post(
        JOBS,
        job("queue", json!({"parallelism": 3}), &["sh", "-c", "sleep 5"]),
    );
    c.world.advance(3_000);
    assert_eq!(pods_of(&mut c, "queue").len(), 3);
    c.world.settle(600_000);
    let (_, j) = c.get(&format!("{JOBS}/queue"));
    assert_eq!(j["status"]["succeeded"], 3, "{}", j["status"]);
    assert_eq!(
        condition_reasons(&j).last().map(|(t, _)| t.as_str()),
        Some("Complete")
    );
}

/// With `backoffLimitPerIndex`, each index waits out the back-off of its own
/// failures (10 s after its first), not the Job's (20 s after two failures).
#[test]
fn each_index_waits_out_its_own_back_off() {
    let mut c = Cluster::with_world(cluster::start(76));
    c.post(
        JOBS,
        job(
            "split",
            json!({"completions": 3, "parallelism": 3, "completionMode": "Indexed", "backoffLimitPerIndex": 1}),
            &["sh", "-c", "sleep 1; exit $JOB_COMPLETION_INDEX"],
        ),
    );
    c.world.settle(600_000);
    let seconds = |t: &str| t.parse::<jiff::Timestamp>().unwrap().as_second();
    for index in ["1", "2"] {
        let pods: Vec<Value> = pods_of(&mut c, "split")
            .into_iter()
            .filter(|p| {
                p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == index
            })
            .collect();
        let by_count = |count: &str| {
            pods.iter()
                .find(|p| {
                    p["metadata"]["annotations"]["batch.kubernetes.io/job-index-failure-count"]
                        == count
                })
                .unwrap_or_else(|| panic!("index {index}: no pod with failure count {count}"))
        };
        let finished = by_count("0")["status"]["containerStatuses"][0]["state"]["terminated"]
            ["finishedAt"]
            .as_str()
            .unwrap();
        let replaced = by_count("1")["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap();
        let gap = seconds(replaced) - seconds(finished);
        assert!(
            (10..20).contains(&gap),
            "index {index}: replaced {gap} s after its failure"
        );
    }
    let (_, j) = c.get(&format!("{JOBS}/split"));
    assert_eq!(j["status"]["failedIndexes"], "1,2", "{}", j["status"]);
}

#[test]
fn a_refused_create_is_retried_with_the_job_controllers_back_off() {
    let mut c = Cluster::with_world(cluster::start(79));
    let mut body = job("batch", json!({"parallelism": 2}), &["echo", "hi"]);
    body["spec"]["template"]["spec"]["serviceAccountName"] = json!("builder");
    let (code, out) = c.post(JOBS, body);
    assert_eq!(code, 201, "{out}");
    c.world.advance(30_000);
    assert_eq!(
        c.events("batch", "FailedCreate"),
        ["Error creating: pods \"batch-\" is forbidden: error looking up service account default/builder: serviceaccount \"builder\" not found"]
    );
    // Upstream's Job queue backs off from 1 s doubling to 1 min: a handful of
    // attempts in 30 s (the default 5 ms would make a dozen, none would make one).
    let attempts = c.event_count("batch", "FailedCreate");
    assert!((5..=7).contains(&attempts), "{attempts} attempts");
    assert!(pods_of(&mut c, "batch").is_empty());
    c.service_account("builder");
    c.world.settle(300_000);
    let (_, j) = c.get(&format!("{JOBS}/batch"));
    assert_eq!(j["status"]["succeeded"], 2, "{}", j["status"]);
}
