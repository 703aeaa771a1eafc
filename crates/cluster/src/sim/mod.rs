//! The deterministic simulation core: one [`World`] owns the virtual clock, the
//! seeded RNG, the event queue and the trace; components see time and randomness
//! only through it.

pub mod clock;
pub mod component;
pub mod queue;
pub mod rng;
pub mod shared_objects;
pub mod trace;
mod watch_receivers;
pub mod world;

pub use clock::{Duration, VirtualTime};
pub use component::{Component, Ctx};
pub use rng::SeededRng;
pub use trace::{Trace, TraceEntry, TraceId, TraceKind};
pub use world::World;
