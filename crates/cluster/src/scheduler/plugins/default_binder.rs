//! DefaultBinder: the Bind plugin that POSTs the pod's `binding` subresource.

use serde_json::{json, Map, Value};

use crate::api::Request;
use crate::client::pod_path;
use crate::scheduler::framework::{Code, CycleState, ExtensionPoint, Plugin, PodInfo, Status};
use crate::sim::Ctx;

pub struct DefaultBinder;

/// The cycle-state key of the annotations the Binding carries onto the pod (the
/// API server copies a Binding's annotations to the pod it binds).
pub const BINDING_ANNOTATIONS: &str = "DefaultBinder/annotations";

impl Plugin for DefaultBinder {
    fn name(&self) -> &'static str {
        "DefaultBinder"
    }

    fn extension_points(&self) -> &'static [ExtensionPoint] {
        &[ExtensionPoint::Bind]
    }

    fn bind(&self, state: &CycleState, pod: &PodInfo, node: &str, ctx: &mut Ctx) -> Status {
        let (namespace, name) = pod.key.split_once('/').unwrap_or(("default", &pod.key));
        let mut metadata = json!({"name": name, "namespace": namespace});
        if let Some(annotations) = state.read::<Map<String, Value>>(BINDING_ANNOTATIONS) {
            metadata["annotations"] = Value::Object(annotations.clone());
        }
        let binding = json!({
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": metadata,
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        });
        let response = ctx.call(Request::post(
            format!("{}/binding", pod_path(&pod.key)),
            binding.to_string(),
        ));
        if response.status == 201 {
            return Status::success();
        }
        let message = response.body_json()["message"]
            .as_str()
            .unwrap_or("")
            .to_string();
        Status::new(Code::Error, &[&message])
    }
}
