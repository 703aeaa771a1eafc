//! The CronJob controller on the virtual clock: `*/5 * * * *` makes 12 Jobs in an
//! hour, finished Jobs beyond the history limit go, Forbid skips a run while one
//! is active, and waiting for the next run never keeps the cluster busy.

use crate::common;

use common::Cluster;
use kubecraft_cluster::cluster;
use serde_json::{json, Value};

const CRONJOBS: &str = "/apis/batch/v1/namespaces/default/cronjobs";

fn cronjob(name: &str, schedule: &str, command: &[&str], extra: Value) -> Value {
    let mut cj = json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "busybox:1.36", "command": command}]}}}}},
    });
    for (k, v) in extra.as_object().unwrap() {
        cj["spec"][k] = v.clone();
    }
    cj
}

fn jobs(c: &mut Cluster) -> Vec<Value> {
    c.get("/apis/batch/v1/namespaces/default/jobs").1["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn every_five_minutes_makes_twelve_jobs_an_hour_and_keeps_three() {
    let mut c = Cluster::with_world(cluster::start(81));
    let (code, body) = c.post(
        CRONJOBS,
        cronjob("tick", "*/5 * * * *", &["echo", "tick"], json!({})),
    );
    assert_eq!(code, 201, "{body}");
    assert!(
        c.world.settle(60_000),
        "waiting for the schedule is not work"
    );
    assert!(jobs(&mut c).is_empty());
    // Upstream looks again 100 ms after each scheduled time: the 01:00 run starts at 01:00:00.1.
    c.world.advance(3_600_000 + 1_000);
    c.world.settle(60_000);
    // Twelve creations: nine events of their own, then (ten different messages
    // within ten minutes of each other) one combined event counted three times.
    assert_eq!(c.event_count("tick", "SuccessfulCreate"), 12);
    let created = c.events("tick", "SuccessfulCreate");
    assert_eq!(created.len(), 10, "{created:?}");
    assert!(created[0].starts_with("Created job tick-"));
    assert!(created[9].starts_with("(combined from similar events): Created job tick-"));
    let left = jobs(&mut c);
    assert_eq!(left.len(), 3, "successfulJobsHistoryLimit");
    assert!(left.iter().all(|j| j["metadata"]["annotations"]
        ["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        .is_string()));
    let (_, cj) = c.get(&format!("{CRONJOBS}/tick"));
    assert_eq!(cj["status"]["lastScheduleTime"], "2026-01-01T01:00:00Z");
    assert!(cj["status"]["lastSuccessfulTime"].is_string());
    assert_eq!(
        c.event_count("tick", "SawCompletedJob"),
        12 - i64::from(cj["status"]["active"].is_array())
    );
}

#[test]
fn forbid_skips_runs_while_a_job_is_active() {
    let mut c = Cluster::with_world(cluster::start(82));
    c.post(
        CRONJOBS,
        cronjob(
            "long",
            "* * * * *",
            &["sleep", "150"],
            json!({"concurrencyPolicy": "Forbid"}),
        ),
    );
    c.world.advance(300_000);
    // Runs at minutes 1..5; each job lasts 2.5 minutes, so only every third minute starts one.
    let created = c.events("long", "SuccessfulCreate");
    assert_eq!(created.len(), 2, "{created:?}");
}

#[test]
fn a_run_missed_while_suspended_starts_on_resume_unless_past_its_starting_deadline() {
    let mut c = Cluster::with_world(cluster::start(83));
    let suspended = json!({"suspend": true});
    let strict = json!({"suspend": true, "startingDeadlineSeconds": 60});
    c.post(
        CRONJOBS,
        cronjob("late", "*/5 * * * *", &["true"], suspended),
    );
    c.post(
        CRONJOBS,
        cronjob("strict", "*/5 * * * *", &["true"], strict),
    );
    // 00:07: the 00:05 run was missed while suspended.
    c.world.advance(7 * 60_000);
    assert!(jobs(&mut c).is_empty(), "a suspended CronJob runs nothing");
    for name in ["late", "strict"] {
        let (code, body) = c.patch(
            &format!("{CRONJOBS}/{name}"),
            "application/merge-patch+json",
            json!({"spec": {"suspend": false}}),
        );
        assert_eq!(code, 200, "{body}");
    }
    c.world.advance(1_000);
    // Without a deadline the missed run starts at once; 120 s late is past 60 s.
    assert_eq!(
        c.events("late", "SuccessfulCreate"),
        ["Created job late-29453765"]
    );
    assert!(c.events("strict", "SuccessfulCreate").is_empty());
    assert_eq!(
        c.events("strict", "MissSchedule"),
        ["Missed scheduled time to start a job: Thu, 01 Jan 2026 00:05:00 +0000"]
    );
    // The next run (00:10) is on time.
    c.world.advance(3 * 60_000);
    assert_eq!(
        c.events("strict", "SuccessfulCreate"),
        ["Created job strict-29453770"]
    );
}
