//! The UI's side of the worker protocol: start the worker, wait for Ready, send
//! API requests and route answers to their callbacks.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use kubecraft_cluster::api::Request;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use crate::protocol::{FromWorker, ToWorker};

type Callback = Box<dyn FnOnce(FromWorker)>;

struct State {
    worker: Worker,
    next_id: u64,
    pending: BTreeMap<u64, Callback>,
}

/// A handle on the engine's worker.
#[derive(Clone)]
pub struct WorkerClient {
    state: Rc<RefCell<State>>,
}

impl WorkerClient {
    /// Starts the worker; `on_ready` runs once the engine has loaded.
    pub fn start(on_ready: impl Fn(WorkerClient) + 'static) -> Result<Self, JsValue> {
        let worker = Worker::new("./worker_loader.js")?;
        let client = WorkerClient {
            state: Rc::new(RefCell::new(State {
                worker: worker.clone(),
                next_id: 0,
                pending: BTreeMap::new(),
            })),
        };
        let handle = client.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let text = event.data().as_string().unwrap_or_default();
            match serde_json::from_str::<FromWorker>(&text) {
                Ok(FromWorker::Ready) => on_ready(handle.clone()),
                Ok(FromWorker::BadMessage { error }) => {
                    web_sys::console::error_1(&JsValue::from_str(&error));
                }
                Ok(reply) => {
                    let id = reply.id();
                    let callback = id.and_then(|id| handle.state.borrow_mut().pending.remove(&id));
                    if let Some(callback) = callback {
                        callback(reply);
                    }
                }
                Err(e) => web_sys::console::error_1(&JsValue::from_str(&e.to_string())),
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        Ok(client)
    }

    /// Sends a message built for a fresh id; `done` gets the worker's reply.
    fn send(&self, message: impl FnOnce(u64) -> ToWorker, done: Callback) {
        let mut state = self.state.borrow_mut();
        let id = state.next_id;
        state.next_id += 1;
        state.pending.insert(id, done);
        let text = message(id).to_text();
        let _ = state.worker.post_message(&JsValue::from_str(&text));
    }

    /// Sends an API request; `done` gets the status code and body.
    pub fn call(&self, request: Request, done: impl FnOnce(u16, String) + 'static) {
        self.send(
            |id| ToWorker::Api { id, request },
            Box::new(move |reply| {
                if let FromWorker::Api { status, body, .. } = reply {
                    done(status, body);
                }
            }),
        );
    }

    /// Runs a console line in the worker's shell; `done` gets what it printed and,
    /// while a `kubectl edit` waits, the text for the editor pane.
    pub fn run_line(&self, line: String, done: impl FnOnce(String, Option<String>) + 'static) {
        self.send(|id| ToWorker::Shell { id, line }, shell_reply(done));
    }

    /// Hands the editor pane's saved text to the waiting `kubectl edit`; `done` as
    /// for [`WorkerClient::run_line`].
    pub fn save_edit(&self, text: String, done: impl FnOnce(String, Option<String>) + 'static) {
        self.send(|id| ToWorker::EditorSave { id, text }, shell_reply(done));
    }
}

/// A callback for a shell reply: what it printed and the editor pane's text.
fn shell_reply(done: impl FnOnce(String, Option<String>) + 'static) -> Callback {
    Box::new(move |reply| {
        if let FromWorker::Shell { output, editor, .. } = reply {
            done(output, editor);
        }
    })
}
