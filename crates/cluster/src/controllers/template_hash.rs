//! The hash controllers put in names and labels (`pod-template-hash`,
//! `controller-revision-hash`): upstream's `ComputeHash` of a pod template and
//! its collision count.

use k8s_openapi::api::core::v1::PodTemplateSpec;

use crate::api::names::GENERATE_NAME_ALPHABET;

/// FNV-32a of the template (and the collision count), its decimal digits spelled in
/// the safe alphabet.
pub fn template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u32::from(*byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    };
    feed(
        serde_json::to_string(template)
            .unwrap_or_default()
            .as_bytes(),
    );
    if let Some(count) = collision_count {
        feed(&(count as u32).to_le_bytes());
    }
    hash.to_string()
        .bytes()
        .map(|b| GENERATE_NAME_ALPHABET[usize::from(b) % GENERATE_NAME_ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn template_hashes_are_stable_safe_and_collision_aware() {
        let t: PodTemplateSpec =
            serde_json::from_value(json!({"metadata": {"labels": {"app": "web"}}})).unwrap();
        let h = template_hash(&t, None);
        assert_eq!(h, template_hash(&t, None));
        assert!(h.bytes().all(|b| GENERATE_NAME_ALPHABET.contains(&b)) && !h.is_empty());
        assert_ne!(h, template_hash(&t, Some(1)));
    }
}
