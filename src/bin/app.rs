//! The UI entry point: mounts the Leptos app.

fn main() {
    leptos::mount::mount_to_body(kubecraft_web::ui::App);
}
