//! Annotations controllers keep numbers in (a ReplicaSet's revision, a pod's
//! deletion cost, a Job pod's index failure count).

use std::str::FromStr;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The number in annotation `key` of `meta`; zero when it is unset or not a number
/// (as upstream's controllers read these annotations).
pub fn numeric_annotation<T: FromStr + Default>(meta: &ObjectMeta, key: &str) -> T {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_unreadable_annotations_read_as_zero() {
        let mut meta = ObjectMeta::default();
        assert_eq!(numeric_annotation::<i64>(&meta, "n"), 0);
        meta.annotations = Some([("n".to_string(), "x".to_string())].into());
        assert_eq!(numeric_annotation::<i32>(&meta, "n"), 0);
        meta.annotations = Some([("n".to_string(), "-7".to_string())].into());
        assert_eq!(numeric_annotation::<i32>(&meta, "n"), -7);
    }
}
