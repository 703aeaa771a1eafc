//! The Web Worker entry point: hosts the cluster engine.

fn main() {
    kubecraft_web::worker_host::run();
}
