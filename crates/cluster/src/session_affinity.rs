//! kube-proxy's memory for Services with `sessionAffinity: ClientIP`: which
//! endpoint each client reached, per Service port (the iptables `recent` lists).
//! A client that comes back within `timeoutSeconds` of its last request goes to
//! the same endpoint while that endpoint still serves the Service; otherwise
//! kube-proxy picks afresh. The memory is node-local, like the kernel's: it is
//! not an API object and is not carried in snapshots.

use std::collections::BTreeMap;

/// Upstream's `DefaultClientIPServiceAffinitySeconds` (three hours): the timeout
/// a Service's `sessionAffinityConfig` defaults to.
pub const DEFAULT_TIMEOUT_SECONDS: i32 = 10_800;

/// The endpoint a client reached last (`ip:port`) and when (virtual ms).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Remembered {
    endpoint: String,
    last_ms: u64,
}

/// Per (Service port, client IP), the endpoint the client is stuck to.
#[derive(Clone, Debug, Default)]
pub struct SessionAffinity(BTreeMap<(String, String), Remembered>);

impl SessionAffinity {
    /// The endpoint `client` is stuck to for `service_port` at `now_ms`, when it
    /// came within `timeout_ms` of its last request.
    pub fn stuck_to(
        &self,
        service_port: &str,
        client: &str,
        now_ms: u64,
        timeout_ms: u64,
    ) -> Option<&str> {
        self.0
            .get(&(service_port.to_string(), client.to_string()))
            .filter(|r| now_ms.saturating_sub(r.last_ms) <= timeout_ms)
            .map(|r| r.endpoint.as_str())
    }

    /// Remembers that `client` reached `endpoint` of `service_port` at `now_ms`.
    pub fn remember(&mut self, service_port: &str, client: &str, endpoint: &str, now_ms: u64) {
        self.0.insert(
            (service_port.to_string(), client.to_string()),
            Remembered {
                endpoint: endpoint.to_string(),
                last_ms: now_ms,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_stays_on_its_endpoint_until_it_has_been_away_longer_than_the_timeout() {
        let mut affinity = SessionAffinity::default();
        assert_eq!(
            affinity.stuck_to("default/web:80", "10.0.0.1", 0, 1_000),
            None
        );
        affinity.remember("default/web:80", "10.0.0.1", "10.244.1.2:80", 0);
        let stuck = |a: &SessionAffinity, port: &str, client: &str, now| {
            a.stuck_to(port, client, now, 1_000).map(str::to_string)
        };
        assert_eq!(
            stuck(&affinity, "default/web:80", "10.0.0.1", 1_000).as_deref(),
            Some("10.244.1.2:80")
        );
        assert_eq!(stuck(&affinity, "default/web:80", "10.0.0.2", 500), None);
        assert_eq!(stuck(&affinity, "default/web:443", "10.0.0.1", 500), None);
        // Each request restarts the timeout.
        affinity.remember("default/web:80", "10.0.0.1", "10.244.1.2:80", 900);
        assert!(stuck(&affinity, "default/web:80", "10.0.0.1", 1_900).is_some());
        assert_eq!(stuck(&affinity, "default/web:80", "10.0.0.1", 1_901), None);
    }
}
