//! Hosts the cluster inside the Web Worker: answers API requests and console lines
//! from the UI, and runs benchmark workloads timed with the worker's clock.

use std::cell::RefCell;
use std::rc::Rc;

use kubecraft_cli::shell::Shell;
use kubecraft_cluster::scheduler::throughput::Workload;
use kubecraft_kubectl::Output;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::protocol::{FromWorker, ToWorker};

/// The seed of the browser's cluster until snapshots and `sim seed` exist.
pub const BROWSER_SEED: u64 = 1;

/// Answers one message from the UI: API requests go to the cluster, console lines
/// to the same shell `kubecraft shell` runs; benchmarks read `seconds`, the wall clock.
pub fn answer(shell: &mut Shell, text: &str, seconds: &mut dyn FnMut() -> f64) -> FromWorker {
    match serde_json::from_str::<ToWorker>(text) {
        Ok(ToWorker::Api { id, request }) => {
            let response = shell.world_mut().call("ui", &request);
            FromWorker::Api {
                id,
                status: response.status,
                body: response.body_text().to_string(),
            }
        }
        Ok(ToWorker::Shell { id, line }) => {
            let output = shell.feed(&line);
            shell_reply(shell, id, output)
        }
        Ok(ToWorker::EditorSave { id, text }) => {
            let output = shell.save_edit(text);
            shell_reply(shell, id, output)
        }
        Ok(ToWorker::Bench { id, workload, seed }) => {
            let result = match Workload::named(&workload) {
                Some(workload) => workload.run(seed, 1, seconds),
                None => Err(format!("unknown workload {workload:?}")),
            };
            FromWorker::Bench { id, result }
        }
        Err(e) => FromWorker::BadMessage {
            error: e.to_string(),
        },
    }
}

/// What a shell step printed, with the editor pane's text if an edit waits for it.
fn shell_reply(shell: &Shell, id: u64, output: Output) -> FromWorker {
    FromWorker::Shell {
        id,
        output: output.combined(),
        exit_code: output.exit_code,
        editor: shell.pending_editor().map(String::from),
    }
}

/// Starts the engine in this worker and tells the UI it is ready.
pub fn run() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let shell = Rc::new(RefCell::new(Shell::in_browser(BROWSER_SEED)));
    let reply_scope = scope.clone();
    let performance = scope.performance();
    let mut seconds = move || performance.as_ref().map_or(0.0, |p| p.now() / 1000.0);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let text = event.data().as_string().unwrap_or_default();
        let reply = answer(&mut shell.borrow_mut(), &text, &mut seconds);
        let _ = reply_scope.post_message(&JsValue::from_str(&reply.to_text()));
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let _ = scope.post_message(&JsValue::from_str(&FromWorker::Ready.to_text()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubecraft_cluster::api::Request;

    /// A clock for messages that read none.
    fn no_clock() -> f64 {
        0.0
    }

    #[test]
    fn an_unknown_benchmark_workload_is_refused_and_the_cluster_untouched() {
        let mut shell = Shell::in_browser(BROWSER_SEED);
        let bench = ToWorker::Bench {
            id: 4,
            workload: "fastest".into(),
            seed: 1,
        };
        assert_eq!(
            answer(&mut shell, &bench.to_text(), &mut no_clock),
            FromWorker::Bench {
                id: 4,
                result: Err("unknown workload \"fastest\"".into()),
            }
        );
    }

    #[test]
    fn answers_api_requests_console_lines_and_reports_bad_messages() {
        let mut world = Shell::in_browser(BROWSER_SEED);
        let msg = ToWorker::Api {
            id: 9,
            request: Request::get("/api/v1/namespaces/default"),
        };
        match answer(&mut world, &msg.to_text(), &mut no_clock) {
            FromWorker::Api { id, status, body } => {
                assert_eq!((id, status), (9, 200));
                assert!(body.contains("\"name\":\"default\""));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            answer(&mut world, "nonsense", &mut no_clock),
            FromWorker::BadMessage { .. }
        ));
    }

    #[test]
    fn an_edit_opens_the_editor_pane_and_its_save_finishes_it() {
        let mut shell = Shell::in_browser(BROWSER_SEED);
        let line = |id, line: &str| ToWorker::Shell {
            id,
            line: line.into(),
        };
        answer(
            &mut shell,
            &line(1, "kubectl create deployment web --image=nginx").to_text(),
            &mut no_clock,
        );
        let FromWorker::Shell {
            editor: Some(text), ..
        } = answer(
            &mut shell,
            &line(2, "kubectl edit deploy web").to_text(),
            &mut no_clock,
        )
        else {
            panic!("the editor pane should open");
        };
        assert!(text.starts_with("# Please edit the object below."));
        let save = ToWorker::EditorSave {
            id: 3,
            text: text.replace("replicas: 1\n", "replicas: 2\n"),
        };
        assert_eq!(
            answer(&mut shell, &save.to_text(), &mut no_clock),
            FromWorker::Shell {
                id: 3,
                output: "deployment.apps/web edited\n".into(),
                exit_code: 0,
                editor: None,
            }
        );
    }
}
