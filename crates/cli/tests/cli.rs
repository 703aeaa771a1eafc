//! The native binary, run as a user runs it.

use std::process::Command;

fn kubecraft(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubecraft"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn version_names_the_kubernetes_version() {
    let (ok, out, _) = kubecraft(&["version"]);
    assert!(ok);
    assert_eq!(out, "kubecraft 0.1.0 (Kubernetes v1.35.0)\n");
}

#[test]
fn raw_requests_print_the_body_or_the_servers_error() {
    let (ok, out, _) = kubecraft(&["raw", "GET", "/api/v1/namespaces/kube-system"]);
    assert!(ok);
    let ns: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(ns["status"]["phase"], "Active");
    let (ok, _, err) = kubecraft(&["raw", "GET", "/api/v1/namespaces/default/pods/x"]);
    assert!(!ok);
    assert_eq!(err, "Error from server (NotFound): pods \"x\" not found\n");
    let (ok, out, _) = kubecraft(&[
        "raw",
        "--seed",
        "5",
        "POST",
        "/api/v1/namespaces/default/configmaps",
        r#"{"metadata":{"name":"cfg"},"data":{"a":"1"}}"#,
    ]);
    assert!(ok);
    assert!(out.contains("\"name\":\"cfg\""));
}

#[test]
fn bad_commands_fail_with_a_message() {
    let (ok, _, err) = kubecraft(&["frobnicate"]);
    assert!(!ok);
    assert!(err.starts_with("error: unknown command \"frobnicate\" for \"kubecraft\""));
    let (ok, _, err) = kubecraft(&["raw", "FETCH", "/api"]);
    assert!(!ok);
    assert_eq!(err, "error: unknown method \"FETCH\"\n");
}

fn shell_with_state(state: &std::path::Path, input: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubecraft"))
        .args(["shell", "--state", state.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A shell that rejects its state file exits at once; a broken pipe is expected then.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn state_files_carry_the_cluster_between_runs_and_bad_ones_are_left_alone() {
    let dir = std::env::temp_dir().join(format!("kubecraft-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("cluster.json");
    let _ = std::fs::remove_file(&state);
    let (ok, out, _) = shell_with_state(&state, "kubectl create namespace team\nsim advance 2m\n");
    assert!(ok);
    assert_eq!(out, "namespace/team created\n");
    let (ok, out, _) = shell_with_state(&state, "kubectl get ns team\n");
    assert!(ok);
    assert_eq!(out, "NAME   STATUS   AGE\nteam   Active   2m\n");
    std::fs::write(&state, "{not json").unwrap();
    let (ok, _, err) = shell_with_state(&state, "kubectl get ns\n");
    assert!(!ok);
    assert!(
        err.starts_with(&format!(
            "error: cannot load state from {:?}:",
            state.to_str().unwrap()
        )),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&state).unwrap(),
        "{not json",
        "a bad state file is not overwritten"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
