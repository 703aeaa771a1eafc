//! Container image names as the runtime reports them, and simulated pull times.

/// The fully qualified reference: `nginx:1.27` → `docker.io/library/nginx:1.27`.
pub fn qualified(image: &str) -> String {
    let (name, tag) = match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (image, None),
    };
    let (name, digest) = match name.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (name, None),
    };
    let first = name.split('/').next().unwrap_or("");
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let name = if has_registry {
        name.to_string()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    match (digest, tag) {
        (Some(d), _) => format!("{name}@{d}"),
        (None, Some(t)) => format!("{name}:{t}"),
        (None, None) => format!("{name}:latest"),
    }
}

/// A stable digest for an image name (the same image has the same ID everywhere).
pub fn digest(image: &str) -> String {
    let mut out = String::with_capacity(64);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for round in 0u64..4 {
        for b in image.bytes().chain(round.to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

/// The image's size in bytes, stable per name (between 5 and 200 MB).
pub fn size_bytes(image: &str) -> u64 {
    5_000_000 + u64::from_str_radix(&digest(image)[..8], 16).unwrap_or(0) % 195_000_000
}

/// The image ID the runtime reports: `docker.io/library/nginx@sha256:…`.
pub fn image_id(image: &str) -> String {
    let qualified = qualified(image);
    let repository = qualified
        .split_once('@')
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| match qualified.rsplit_once(':') {
            Some((n, _)) => n.to_string(),
            None => qualified.clone(),
        });
    format!("{repository}@sha256:{}", digest(&qualified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names() {
        assert_eq!(qualified("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(qualified("nginx:1.27"), "docker.io/library/nginx:1.27");
        assert_eq!(qualified("bitnami/redis:7"), "docker.io/bitnami/redis:7");
        assert_eq!(
            qualified("registry.k8s.io/pause:3.10"),
            "registry.k8s.io/pause:3.10"
        );
        assert_eq!(qualified("localhost:5000/app"), "localhost:5000/app:latest");
        assert!(image_id("nginx:1.27").starts_with("docker.io/library/nginx@sha256:"));
    }
}
