//! The ServiceAccount describer, as upstream's `describeServiceAccount`: its image
//! pull secrets, mountable secrets (those missing marked `(not found)`) and token
//! secrets, each list `<none>` when empty, then its events.

use serde_json::Value;

use super::{annotations, events, labels, text, Writer};

/// The headers upstream pads to one width, in its (sorted) order.
const PULL_HEADER: &str = "Image pull secrets:";
const MOUNT_HEADER: &str = "Mountable secrets: ";
const TOKEN_HEADER: &str = "Tokens:            ";
const EMPTY_HEADER: &str = "                   ";

/// `kubectl describe serviceaccount`; `secrets` are the namespace's Secrets.
pub(super) fn describe_service_account(
    account: &Value,
    secrets: &[Value],
    event_list: &[Value],
    now_ms: i64,
) -> String {
    let name = text(account, "/metadata/name");
    let mut w = Writer::default();
    w.write(0, &format!("Name:\t{name}\n"));
    w.write(
        0,
        &format!("Namespace:\t{}\n", text(account, "/metadata/namespace")),
    );
    labels(&mut w, "Labels", account.pointer("/metadata/labels"));
    annotations(&mut w, account.pointer("/metadata/annotations"));
    let names = |list: &str| -> Vec<&str> {
        account[list]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["name"].as_str())
            .collect()
    };
    let tokens: Vec<&str> = secrets
        .iter()
        .filter(|s| text(s, "/type") == "kubernetes.io/service-account-token")
        .filter(|s| s["metadata"]["annotations"]["kubernetes.io/service-account.name"] == name)
        .map(|s| text(s, "/metadata/name"))
        .collect();
    let exists = |secret: &str| secrets.iter().any(|s| text(s, "/metadata/name") == secret);
    for (header, list, check) in [
        (PULL_HEADER, names("imagePullSecrets"), false),
        (MOUNT_HEADER, names("secrets"), true),
        (TOKEN_HEADER, tokens, false),
    ] {
        if list.is_empty() {
            w.write(0, &format!("{header}\t<none>\n"));
            continue;
        }
        let mut prefix = header;
        for secret in list {
            let missing = if check && !exists(secret) {
                " (not found)"
            } else {
                ""
            };
            w.write(0, &format!("{prefix}\t{secret}{missing}\n"));
            prefix = EMPTY_HEADER;
        }
    }
    events(&mut w, event_list, now_ms);
    w.finish()
}
