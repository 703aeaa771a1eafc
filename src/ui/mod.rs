//! The Leptos UI.

mod app;
mod console;
pub mod discovery;
mod worker_client;

pub use app::App;
