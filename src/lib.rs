//! kubecraft in the browser: the Leptos UI (bin `app`) and the Web Worker that
//! hosts the engine (bin `worker`). Only this crate touches the DOM and the Worker.

pub mod protocol;
pub mod ui;
pub mod worker_host;
