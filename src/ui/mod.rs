//! The Leptos UI.

mod app;
pub mod discovery;
mod worker_client;

pub use app::App;
