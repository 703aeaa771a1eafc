//! The simulated image registry behind every node's pulls: which references
//! parse, which exist, and the errors a pull of one that does not gets — in
//! containerd's words, as the kubelet reports them.
//!
//! Docker Hub's official images (`nginx`, `docker.io/library/nginx`) are a closed
//! set, so a name outside [`OFFICIAL_IMAGES`] (`ngnix`) does not exist; their tags
//! are versions (they hold a digit), `latest`, or variant words such as `alpine`,
//! `stable` or `bookworm`, so `nginx:doesnotexist` is not found; for a few
//! images whose release lines are well known a version past the newest does not
//! exist either (the Deployments page's typo `nginx:1.161`). The sample
//! images of Kubernetes' tutorials have the tags they really have (the Basics
//! tutorial's `kubernetes-bootcamp:v10` does not exist, as it teaches). Other
//! images (`bitnami/redis`, `registry.k8s.io/pause`) cannot be checked and always pull.

/// The repositories of Docker Hub's `library` namespace (the official images).
const OFFICIAL_IMAGES: &[&str] = &[
    "adminer",
    "aerospike",
    "almalinux",
    "alpine",
    "alt",
    "amazoncorretto",
    "amazonlinux",
    "api-firewall",
    "arangodb",
    "archlinux",
    "backdrop",
    "bash",
    "bonita",
    "buildpack-deps",
    "busybox",
    "caddy",
    "cassandra",
    "centos",
    "chronograf",
    "cirros",
    "clearlinux",
    "clickhouse",
    "clojure",
    "composer",
    "consul",
    "convertigo",
    "couchbase",
    "couchdb",
    "crate",
    "dart",
    "debian",
    "docker",
    "drupal",
    "eclipse-mosquitto",
    "eclipse-temurin",
    "eggdrop",
    "elasticsearch",
    "elixir",
    "emqx",
    "erlang",
    "fedora",
    "flink",
    "fluentd",
    "friendica",
    "gazebo",
    "gcc",
    "geonetwork",
    "ghost",
    "golang",
    "gradle",
    "groovy",
    "haproxy",
    "haskell",
    "haxe",
    "hello-world",
    "hitch",
    "httpd",
    "hylang",
    "ibm-semeru-runtimes",
    "ibmjava",
    "influxdb",
    "irssi",
    "jenkins",
    "jetty",
    "joomla",
    "jruby",
    "julia",
    "kapacitor",
    "kibana",
    "kong",
    "krakend",
    "lightstreamer",
    "liquibase",
    "logstash",
    "mageia",
    "mariadb",
    "matomo",
    "maven",
    "mediawiki",
    "memcached",
    "mongo",
    "mongo-express",
    "monica",
    "mono",
    "mysql",
    "nats",
    "neo4j",
    "neurodebian",
    "nextcloud",
    "nginx",
    "node",
    "notary",
    "odoo",
    "open-liberty",
    "openjdk",
    "oraclelinux",
    "orientdb",
    "percona",
    "perl",
    "photon",
    "php",
    "phpmyadmin",
    "plone",
    "postfixadmin",
    "postgres",
    "pypy",
    "python",
    "r-base",
    "rabbitmq",
    "rakudo-star",
    "redis",
    "redmine",
    "registry",
    "rethinkdb",
    "rocket.chat",
    "rockylinux",
    "ruby",
    "rust",
    "sapmachine",
    "satosa",
    "silverpeas",
    "solr",
    "sonarqube",
    "spark",
    "spiped",
    "storm",
    "swift",
    "swipl",
    "teamspeak",
    "telegraf",
    "tomcat",
    "tomee",
    "traefik",
    "ubuntu",
    "unit",
    "varnish",
    "vault",
    "websphere-liberty",
    "wordpress",
    "xwiki",
    "yourls",
    "znc",
    "zookeeper",
];

/// Release lines of official images the documentation uses: (image, major, the
/// newest minor of that major).
const RELEASE_LINES: &[(&str, u64, u64)] = &[
    ("nginx", 1, 29),
    ("busybox", 1, 37),
    ("httpd", 2, 4),
    ("alpine", 3, 22),
    ("redis", 2, 8),
    ("redis", 3, 2),
    ("redis", 4, 0),
    ("redis", 5, 0),
    ("redis", 6, 2),
    ("redis", 7, 4),
    ("redis", 8, 2),
];

/// Repositories of Kubernetes' tutorials and the tags they have.
const TUTORIAL_IMAGES: &[(&str, &[&str])] = &[
    ("gcr.io/google-samples/kubernetes-bootcamp", &["v1"]),
    ("docker.io/jocatalin/kubernetes-bootcamp", &["v1", "v2"]),
    ("gcr.io/google-samples/hello-app", &["1.0", "2.0"]),
    (
        "us-docker.pkg.dev/google-samples/containers/gke/hello-app",
        &["1.0", "2.0"],
    ),
    ("registry.k8s.io/hpa-example", &["latest"]),
];

/// Words official images' tags are made of besides versions (`stable-alpine`,
/// `bookworm-slim`, `mainline-perl`).
const TAG_WORDS: &[&str] = &[
    "alpine",
    "apache",
    "bookworm",
    "bullseye",
    "buster",
    "cli",
    "community",
    "current",
    "edge",
    "enterprise",
    "focal",
    "fpm",
    "glibc",
    "jammy",
    "jdk",
    "jre",
    "latest",
    "lts",
    "mainline",
    "management",
    "minimal",
    "musl",
    "nanoserver",
    "noble",
    "oracle",
    "otel",
    "perl",
    "rc",
    "rolling",
    "slim",
    "stable",
    "trixie",
    "uclibc",
    "unstable",
    "windowsservercore",
    "zts",
];

/// An image reference split as the runtime reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// `docker.io/library/nginx`.
    pub repository: String,
    /// `1.27` (`latest` when none is given and there is no digest).
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    /// The reference the runtime pulls: `docker.io/library/nginx:latest`.
    pub fn canonical(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => format!("{}@{digest}", self.repository),
            (None, Some(tag)) => format!("{}:{tag}", self.repository),
            (None, None) => format!("{}:latest", self.repository),
        }
    }
}

/// Why a pull failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PullError {
    /// The reference does not parse (the kubelet's `InvalidImageName`): the error
    /// as the reference parser words it.
    InvalidName(String),
    /// The registry refused or does not have it (`ErrImagePull`): the runtime's error.
    Failed(String),
}

/// Whether `c` may appear in a repository path component.
fn is_path_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
}

/// Whether `component` is a valid path component: lowercase alphanumerics
/// separated by `.`, `_`, `__` or dashes.
fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(alnum) || !bytes.last().is_some_and(alnum) {
        return false;
    }
    !component.contains("..") && !component.contains("___") && component.chars().all(is_path_char)
}

/// Whether `tag` is a valid tag: a word character, then up to 127 of words, `.` and `-`.
fn is_tag(tag: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    tag.len() <= 128
        && tag.chars().next().is_some_and(word)
        && tag.chars().all(|c| word(c) || c == '.' || c == '-')
}

/// Whether `digest` is `algorithm:hex` as references carry it.
fn is_digest(digest: &str) -> bool {
    digest.split_once(':').is_some_and(|(algorithm, hex)| {
        !algorithm.is_empty()
            && algorithm.chars().all(|c| {
                c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || c == '+'
                    || c == '.'
                    || c == '_'
                    || c == '-'
            })
            && hex.len() >= 32
            && hex.chars().all(|c| c.is_ascii_hexdigit())
    })
}

/// Parses `image` as the runtime does (Docker's normalized names: `nginx` is
/// `docker.io/library/nginx`); the error is the parser's.
pub fn parse(image: &str) -> Result<Reference, String> {
    const INVALID: &str = "invalid reference format";
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) if is_digest(digest) => (rest, Some(digest.to_string())),
        Some(_) => return Err(INVALID.into()),
        None => (image, None),
    };
    let (name, tag) = match rest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (rest, None),
    };
    if tag.is_some_and(|t| !is_tag(t)) || name.is_empty() {
        return Err(INVALID.into());
    }
    let (domain, path) = match name.split_once('/') {
        Some((first, path))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), path.to_string())
        }
        _ if name.contains('/') => ("docker.io".to_string(), name.to_string()),
        _ => ("docker.io".to_string(), format!("library/{name}")),
    };
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "{INVALID}: repository name ({path}) must be lowercase"
        ));
    }
    let host_ok = domain
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok || !path.split('/').all(is_path_component) {
        return Err(INVALID.into());
    }
    Ok(Reference {
        repository: format!("{domain}/{path}"),
        tag: tag.map(String::from),
        digest,
    })
}

/// Whether the official image `name` has `tag`: a version (within its known
/// release lines, for the images in [`RELEASE_LINES`]), or variant words.
fn official_tag_exists(name: &str, tag: &str) -> bool {
    if !tag.chars().any(|c| c.is_ascii_digit()) {
        return tag
            .split(['-', '.', '_'])
            .all(|word| TAG_WORDS.contains(&word));
    }
    let lines: Vec<(u64, u64)> = RELEASE_LINES
        .iter()
        .filter(|(image, _, _)| *image == name)
        .map(|(_, major, minor)| (*major, *minor))
        .collect();
    if lines.is_empty() {
        return true;
    }
    let version = tag.split('-').next().unwrap_or("");
    let mut numbers = version.split('.').map(|n| n.parse::<u64>().ok());
    match (numbers.next().flatten(), numbers.next()) {
        (Some(major), None) => lines.iter().any(|(m, _)| *m == major),
        (Some(major), Some(Some(minor))) => lines
            .iter()
            .any(|(m, newest)| *m == major && minor <= *newest),
        _ => true,
    }
}

/// Pulls `image`: Ok when the registry has it, else the error the kubelet
/// reports (containerd's, through the CRI).
pub fn pull(image: &str) -> Result<(), PullError> {
    let reference = parse(image)
        .map_err(|e| PullError::InvalidName(format!("couldn't parse image name {image:?}: {e}")))?;
    let canonical = reference.canonical();
    let not_found = || {
        PullError::Failed(format!(
            "rpc error: code = NotFound desc = failed to pull and unpack image {canonical:?}: failed to resolve reference {canonical:?}: {canonical}: not found"
        ))
    };
    let tutorial = TUTORIAL_IMAGES
        .iter()
        .find(|(repository, _)| *repository == reference.repository);
    if let Some((_, tags)) = tutorial {
        let tag = reference.tag.as_deref().unwrap_or("latest");
        return match reference.digest {
            None if !tags.contains(&tag) => Err(not_found()),
            _ => Ok(()),
        };
    }
    let Some(official) = reference.repository.strip_prefix("docker.io/library/") else {
        return Ok(());
    };
    if !OFFICIAL_IMAGES.contains(&official) {
        return Err(PullError::Failed(format!(
            "rpc error: code = Unknown desc = failed to pull and unpack image {canonical:?}: failed to resolve reference {canonical:?}: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed"
        )));
    }
    match &reference.tag {
        Some(tag) if reference.digest.is_none() && !official_tag_exists(official, tag) => {
            Err(not_found())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_as_docker_normalizes_them() {
        let nginx = parse("nginx").unwrap();
        assert_eq!(nginx.canonical(), "docker.io/library/nginx:latest");
        assert_eq!(
            parse("bitnami/redis:7.2").unwrap().canonical(),
            "docker.io/bitnami/redis:7.2"
        );
        assert_eq!(
            parse("localhost:5000/app").unwrap().canonical(),
            "localhost:5000/app:latest"
        );
        assert_eq!(
            parse("registry.k8s.io/pause:3.10").unwrap().repository,
            "registry.k8s.io/pause"
        );
        let digest = format!("nginx@sha256:{}", "a".repeat(64));
        assert_eq!(parse(&digest).unwrap().digest.unwrap().len(), 71);
        assert_eq!(
            parse("Nginx").unwrap_err(),
            "invalid reference format: repository name (library/Nginx) must be lowercase"
        );
        for bad in [
            "nginx:",
            "nginx:-1",
            "ngi nx",
            "nginx@sha256:zz",
            "a//b",
            "-nginx",
        ] {
            assert_eq!(parse(bad).unwrap_err(), "invalid reference format", "{bad}");
        }
    }

    #[test]
    fn official_images_exist_with_version_and_variant_tags() {
        for image in [
            "nginx",
            "nginx:1.27",
            "nginx:stable-alpine",
            "docker.io/library/redis:7",
            "busybox:latest",
            "python:3.12-slim-bookworm",
            "bitnami/anything:whatever",
            "registry.k8s.io/e2e-test-images/agnhost:2.39",
        ] {
            assert_eq!(pull(image), Ok(()), "{image}");
        }
    }

    #[test]
    fn unknown_official_images_and_tags_fail_as_containerd_reports_them() {
        assert_eq!(
            pull("ngnix"),
            Err(PullError::Failed("rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/ngnix:latest\": failed to resolve reference \"docker.io/library/ngnix:latest\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed".into()))
        );
        assert_eq!(
            pull("nginx:doesnotexist"),
            Err(PullError::Failed("rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:doesnotexist\": failed to resolve reference \"docker.io/library/nginx:doesnotexist\": docker.io/library/nginx:doesnotexist: not found".into()))
        );
        assert_eq!(
            pull("gcr.io/google-samples/kubernetes-bootcamp:v10"),
            Err(PullError::Failed("rpc error: code = NotFound desc = failed to pull and unpack image \"gcr.io/google-samples/kubernetes-bootcamp:v10\": failed to resolve reference \"gcr.io/google-samples/kubernetes-bootcamp:v10\": gcr.io/google-samples/kubernetes-bootcamp:v10: not found".into()))
        );
        assert_eq!(pull("gcr.io/google-samples/kubernetes-bootcamp:v1"), Ok(()));
        assert_eq!(pull("jocatalin/kubernetes-bootcamp:v2"), Ok(()));
        for (image, exists) in [
            ("nginx:1.161", false),
            ("nginx:1.16.1", true),
            ("nginx:1.14.2", true),
            ("nginx:2.0", false),
            ("nginx:1", true),
            ("nginx:1.27.3-alpine", true),
            ("busybox:1.36", true),
            ("redis:7.2.4", true),
            ("redis:9", false),
        ] {
            assert_eq!(pull(image).is_ok(), exists, "{image}");
        }
        assert_eq!(
            pull("Nginx:1.27"),
            Err(PullError::InvalidName("couldn't parse image name \"Nginx:1.27\": invalid reference format: repository name (library/Nginx) must be lowercase".into()))
        );
    }
}
