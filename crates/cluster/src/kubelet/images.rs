//! Container image names as the runtime reports them, and simulated pull times.

use super::registry;

/// The fully qualified reference: `nginx:1.27` → `docker.io/library/nginx:1.27`
/// (an image that does not parse as a reference is kept as written).
pub fn qualified(image: &str) -> String {
    registry::parse(image).map_or_else(|_| image.to_string(), |r| r.canonical())
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
    let (repository, qualified) = registry::parse(image).map_or_else(
        |_| (image.to_string(), image.to_string()),
        |r| (r.repository.clone(), r.canonical()),
    );
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
