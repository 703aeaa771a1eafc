//! The kubectl console: each line goes to the worker's shell (the same one
//! `kubecraft shell` runs) and what it prints is shown as plain text.

use leptos::prelude::*;

use super::worker_client::WorkerClient;

/// A terminal-like console over the cluster.
#[component]
pub fn Console(client: StoredValue<Option<WorkerClient>, LocalStorage>) -> impl IntoView {
    let (log, set_log) = signal(String::new());
    let (input, set_input) = signal(String::new());
    let run = move || {
        let line = input.get_untracked();
        set_input.set(String::new());
        set_log.update(|l| {
            l.push_str("$ ");
            l.push_str(&line);
            l.push('\n');
        });
        client.with_value(|c| {
            if let Some(c) = c {
                c.run_line(line, move |out| set_log.update(|l| l.push_str(&out)));
            }
        });
    };
    view! {
        <section class="console">
            <h2>"Console"</h2>
            <pre data-testid="console-output">{move || log.get()}</pre>
            <input
                data-testid="console-input"
                placeholder="kubectl get pods"
                prop:value=move || input.get()
                on:input=move |ev| set_input.set(event_target_value(&ev))
                on:keydown=move |ev: web_sys::KeyboardEvent| {
                    if ev.key() == "Enter" {
                        run();
                    }
                }
            />
        </section>
    }
}
