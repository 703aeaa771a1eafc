//! The top-level component: starts the engine's worker, offers the kubectl console,
//! and shows what the cluster serves (its discovery documents), read through the API.

use kubecraft_cluster::api::Request;
use leptos::prelude::*;
use serde_json::Value;

use super::console::Console;
use super::discovery::{group_versions, resource_rows, ResourceRow};
use super::worker_client::WorkerClient;

/// The application root.
#[component]
pub fn App() -> impl IntoView {
    let (status, set_status) = signal("Starting the cluster…".to_string());
    let (version, set_version) = signal(String::new());
    let (rows, set_rows) = signal(Vec::<ResourceRow>::new());
    let client_slot = StoredValue::new_local(None::<WorkerClient>);

    let add_rows = move |body: String| {
        let list: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        set_rows.update(|all| all.extend(resource_rows(&list)));
    };
    let started = WorkerClient::start(move |client| {
        client_slot.set_value(Some(client.clone()));
        set_status.set("Cluster ready".into());
        client.call(Request::get("/version"), move |_, body| {
            let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            set_version.set(v["gitVersion"].as_str().unwrap_or("").to_string());
        });
        client.call(Request::get("/api/v1"), move |_, body| add_rows(body));
        let follow_up = client.clone();
        client.call(Request::get("/apis"), move |_, body| {
            let groups: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            for gv in group_versions(&groups) {
                follow_up.call(Request::get(format!("/apis/{gv}")), move |_, body| {
                    add_rows(body)
                });
            }
        });
    });
    if let Err(e) = started {
        set_status.set(format!("Could not start the cluster worker: {e:?}"));
    }

    view! {
        <header>
            <h1>"kubecraft"</h1>
            <p data-testid="status">{move || status.get()}</p>
            <p data-testid="version">{move || {
                let v = version.get();
                if v.is_empty() { String::new() } else { format!("Server Version: {v}") }
            }}</p>
        </header>
        <main>
            <Console client=client_slot />
            <h2>"API resources"</h2>
            <table data-testid="discovery">
                <thead>
                    <tr>
                        <th>"NAME"</th>
                        <th>"SHORTNAMES"</th>
                        <th>"APIVERSION"</th>
                        <th>"NAMESPACED"</th>
                        <th>"KIND"</th>
                        <th>"VERBS"</th>
                    </tr>
                </thead>
                <tbody>
                    <For
                        each=move || rows.get()
                        key=|row| format!("{}/{}", row.group_version, row.name)
                        children=move |row| {
                            let testid = format!("resource-{}", row.qualified_name());
                            view! {
                                <tr data-testid=testid>
                                    <td>{row.name.clone()}</td>
                                    <td>{row.short_names.clone()}</td>
                                    <td>{row.group_version.clone()}</td>
                                    <td>{row.namespaced.to_string()}</td>
                                    <td>{row.kind.clone()}</td>
                                    <td>{row.verbs.clone()}</td>
                                </tr>
                            }
                        }
                    />
                </tbody>
            </table>
        </main>
    }
}
