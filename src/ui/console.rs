//! The kubectl console: each line goes to the worker's shell (the same one
//! `kubecraft shell` runs) and what it prints is shown as plain text. While a
//! `kubectl edit` waits, the editor pane shows the object; Save hands the text back,
//! Cancel hands back what was opened (upstream's "Edit cancelled, no changes made.").

use leptos::prelude::*;

use super::worker_client::WorkerClient;

/// A terminal-like console over the cluster, with the editor pane `kubectl edit` opens.
#[component]
pub fn Console(client: StoredValue<Option<WorkerClient>, LocalStorage>) -> impl IntoView {
    let (log, set_log) = signal(String::new());
    let (input, set_input) = signal(String::new());
    // The text the editor pane opened with, and what is in it now.
    let (opened, set_opened) = signal(None::<String>);
    let (draft, set_draft) = signal(String::new());
    let shown = move |output: String, editor: Option<String>| {
        set_log.update(|l| l.push_str(&output));
        set_draft.set(editor.clone().unwrap_or_default());
        set_opened.set(editor);
    };
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
                c.run_line(line, shown);
            }
        });
    };
    let save = move |text: String| {
        set_opened.set(None);
        client.with_value(|c| {
            if let Some(c) = c {
                c.save_edit(text, shown);
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
            <Show when=move || opened.with(Option::is_some)>
                <div class="editor" data-testid="editor-pane">
                    <textarea
                        data-testid="editor"
                        spellcheck="false"
                        rows="24"
                        prop:value=move || draft.get()
                        on:input=move |ev| set_draft.set(event_target_value(&ev))
                    ></textarea>
                    <button data-testid="editor-save" on:click=move |_| save(draft.get_untracked())>
                        "Save"
                    </button>
                    <button
                        data-testid="editor-cancel"
                        on:click=move |_| save(opened.get_untracked().unwrap_or_default())
                    >
                        "Cancel"
                    </button>
                </div>
            </Show>
        </section>
    }
}
