//! `kubectl diff -f`: the live objects against what applying the manifests would make
//! of them (the server's answer to the same apply, sent with `dryRun=All`), as YAML
//! through a unified diff, the way kubectl runs `diff -u -N LIVE-… MERGED-…` over two
//! directories: exit status 1 when something differs, 0 when nothing does.
//!
//! The temporary directories' numbers and the files' times come from the cluster's
//! clock (kubectl's are random and the wall clock's), so a transcript is repeatable.

use kubecraft_cluster::api::Request;
use serde_json::{json, Map, Value};
use similar::TextDiff;

use super::apply::{last_applied, modified_configuration, send_patch, with_namespace};
use super::three_way::three_way;
use crate::commands::mapping::{locate, source_error, Located};
use crate::discovery::discover;
use crate::flags::{self, boolean, value, Flag};
use crate::output::Output;
use crate::printers::structured;
use crate::transport::{response_date_ms, Transport};
use crate::Kubectl;

const FLAGS: &[Flag] = &[
    value("filename", Some('f')),
    boolean("show-secrets", None),
    boolean("show-managed-fields", None),
];

/// One object's two versions, under the file name kubectl gives it.
struct Versions {
    name: String,
    live: Option<Value>,
    merged: Value,
}

/// kubectl's file name for an object: `[group.]version.Kind.namespace.name`.
fn file_name(api_version: &str, kind: &str, namespace: &str, name: &str) -> String {
    let group_version = match api_version.split_once('/') {
        Some((group, version)) => format!("{group}.{version}"),
        None => api_version.to_string(),
    };
    format!("{group_version}.{kind}.{namespace}.{name}")
}

/// Secret values masked as kubectl masks them: `***`, or `*** (before)` and
/// `*** (after)` for a key whose value changes.
fn mask_secrets(live: &mut Option<Value>, merged: &mut Value) {
    let data = |obj: &Value| obj["data"].as_object().cloned();
    let before = live.as_ref().and_then(data);
    let after = data(merged);
    let mask =
        |own: &Option<Map<String, Value>>, other: &Option<Map<String, Value>>, changed: &str| {
            own.as_ref().map(|own| {
                own.iter()
                    .map(|(k, v)| {
                        let text = match other.as_ref().and_then(|o| o.get(k)) {
                            Some(o) if o != v => changed,
                            _ => "***",
                        };
                        (k.clone(), json!(text))
                    })
                    .collect::<Map<String, Value>>()
            })
        };
    if let (Some(live), Some(masked)) = (live.as_mut(), mask(&before, &after, "*** (before)")) {
        live["data"] = Value::Object(masked);
    }
    if let Some(masked) = mask(&after, &before, "*** (after)") {
        merged["data"] = Value::Object(masked);
    }
}

/// A unified diff of two files, as `diff -u -N` prints it; empty when they are equal.
fn unified(from: &str, to: &str, live: &str, merged: &str, stamp: &str) -> String {
    let diff = TextDiff::from_lines(live, merged);
    let hunks: String = diff
        .unified_diff()
        .context_radius(3)
        .iter_hunks()
        .map(|hunk| hunk.to_string())
        .collect();
    if hunks.is_empty() {
        return String::new();
    }
    format!("diff -u -N {from} {to}\n--- {from}\t{stamp}\n+++ {to}\t{stamp}\n{hunks}")
}

/// Runs `kubectl diff`: exit status 1 when something differs; errors exit with 2.
pub fn run(
    kubectl: &Kubectl,
    transport: &mut dyn Transport,
    args: &[String],
    stdin: Option<&str>,
) -> Output {
    diff(kubectl, transport, args, stdin).unwrap_or_else(|error| {
        let mut out = Output::default();
        out.fail(error);
        out.exit_code = 2;
        out
    })
}

fn diff(
    kubectl: &Kubectl,
    transport: &mut dyn Transport,
    args: &[String],
    stdin: Option<&str>,
) -> Result<Output, String> {
    let mut out = Output::default();
    let parsed = flags::parse(args, FLAGS, "diff")?;
    if !parsed.positional.is_empty() {
        return Err(flags::usage_error(
            "diff",
            &format!("Unexpected args: [{}]", parsed.positional.join(" ")),
        ));
    }
    let Some(file) = parsed.get("filename") else {
        return Err("error: must specify one of -f and -k\n".into());
    };
    let (read, source) = super::read_manifests(kubectl, file, stdin)?;
    if let Some(e) = read.error {
        return Err(e);
    }
    let namespace = kubectl.namespace_for(&parsed);
    let resources = discover(transport);
    let mut versions = Vec::new();
    let mut now_ms = 0;
    for obj in &read.objects {
        let Located {
            resource,
            namespace: ns,
            name,
            path,
        } = locate(&resources, obj, &source, &namespace)?;
        let current = transport.send(Request::get(path.clone()));
        now_ms = response_date_ms(&current);
        let live = match current.status {
            404 => None,
            _ if current.is_success() => Some(current.body_json()),
            _ => {
                return Err(source_error(
                    &current,
                    "retrieving current configuration of",
                    &source,
                ))
            }
        };
        let namespaced = resource.namespaced().then_some(ns.as_str());
        let file = file_name(
            &resource.api_version(),
            &resource.kind,
            namespaced.unwrap_or(""),
            &name,
        );
        let modified = modified_configuration(obj, namespaced, false);
        let merged = match &live {
            None => {
                let local = with_namespace(obj, namespaced);
                let req = Request::post(resource.collection_path(Some(&ns)), local.to_string())
                    .with_query("dryRun", "All");
                transport.send(req)
            }
            Some(live) => {
                let patch = three_way(last_applied(live).as_ref(), &modified, live);
                if patch.as_object().is_some_and(Map::is_empty) {
                    versions.push(Versions {
                        name: file,
                        live: Some(live.clone()),
                        merged: live.clone(),
                    });
                    continue;
                }
                send_patch(transport, &path, &patch, "Strict", true)
            }
        };
        if !merged.is_success() {
            let doing = if live.is_some() {
                "patching"
            } else {
                "creating"
            };
            return Err(source_error(&merged, doing, &source));
        }
        versions.push(Versions {
            name: file,
            live,
            merged: merged.body_json(),
        });
    }
    versions.sort_by(|a, b| a.name.cmp(&b.name));
    let (live_dir, merged_dir) = directories(now_ms);
    let stamp = file_time(now_ms);
    let mut differs = false;
    for Versions {
        name,
        mut live,
        mut merged,
    } in versions
    {
        if !parsed.is_set("show-managed-fields") {
            for obj in live.iter_mut().chain(std::iter::once(&mut merged)) {
                if let Some(meta) = obj["metadata"].as_object_mut() {
                    meta.remove("managedFields");
                }
            }
        }
        if merged["kind"] == "Secret"
            && merged["apiVersion"] == "v1"
            && !parsed.is_set("show-secrets")
        {
            mask_secrets(&mut live, &mut merged);
        }
        let live_text = live.as_ref().map(structured::yaml).unwrap_or_default();
        let text = unified(
            &format!("{live_dir}/{name}"),
            &format!("{merged_dir}/{name}"),
            &live_text,
            &structured::yaml(&merged),
            &stamp,
        );
        differs |= !text.is_empty();
        out.out(text);
    }
    if differs {
        out.exit_code = 1;
    }
    Ok(out)
}

/// The two temporary directories, numbered from the cluster's clock.
fn directories(now_ms: i64) -> (String, String) {
    let seed = now_ms as u64;
    let number = |salt: u64| {
        let mixed = (seed ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (mixed >> 32) as u32
    };
    (
        format!("/tmp/LIVE-{}", number(0x4C49_5645)),
        format!("/tmp/MERGED-{}", number(0x4D45_5247)),
    )
}

/// A file time as GNU diff prints it: `2026-01-01 00:00:00.000000000 +0000`.
fn file_time(now_ms: i64) -> String {
    let time = jiff::Timestamp::from_millisecond(now_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    format!(
        "{}.{:09} +0000",
        time.strftime("%Y-%m-%d %H:%M:%S"),
        time.subsec_nanosecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_and_headers_as_gnu_diff_prints_them() {
        let live = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let merged = "a\nb\nc\nD\ne\nf\ng\nh\n";
        assert_eq!(
            unified("L/x", "M/x", live, merged, "T"),
            "diff -u -N L/x M/x\n--- L/x\tT\n+++ M/x\tT\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"
        );
        assert_eq!(
            unified("L/x", "M/x", "", "a\nb\n", "T"),
            "diff -u -N L/x M/x\n--- L/x\tT\n+++ M/x\tT\n@@ -0,0 +1,2 @@\n+a\n+b\n"
        );
        assert_eq!(unified("L/x", "M/x", live, live, "T"), "");
        assert_eq!(
            file_name("apps/v1", "Deployment", "default", "web"),
            "apps.v1.Deployment.default.web"
        );
        assert_eq!(
            file_name("v1", "Namespace", "", "team"),
            "v1.Namespace..team"
        );
    }

    #[test]
    fn secrets_are_masked_as_kubectl_masks_them() {
        let mut live = Some(json!({"data": {"same": "YQ==", "changed": "Yg==", "gone": "Yw=="}}));
        let mut merged = json!({"data": {"same": "YQ==", "changed": " Yg==", "new": "ZA=="}});
        mask_secrets(&mut live, &mut merged);
        assert_eq!(
            live.unwrap()["data"],
            json!({"same": "***", "changed": "*** (before)", "gone": "***"})
        );
        assert_eq!(
            merged["data"],
            json!({"same": "***", "changed": "*** (after)", "new": "***"})
        );
    }
}
