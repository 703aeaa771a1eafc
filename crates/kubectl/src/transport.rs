//! How kubectl reaches an API server: anything that answers a [`Request`].

use kubecraft_cluster::api::{Request, Response};
use kubecraft_cluster::sim::World;

/// A connection to an API server.
pub trait Transport {
    /// Sends one request and returns the answer.
    fn send(&mut self, request: Request) -> Response;
}

/// An in-process cluster: requests are traced as the `kubectl` actor.
impl Transport for World {
    fn send(&mut self, request: Request) -> Response {
        self.call("kubectl", &request)
    }
}
