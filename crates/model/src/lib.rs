//! Warden's data model, shared by every other crate.
//!
//! Why a crate of its own: the same values flow through the local CLI, the
//! agentless modes and (later) the fleet server. A *snapshot* of host facts is
//! written by `warden-collect`, possibly on another machine, and read back by
//! `warden-rules`; a *finding* is produced by the rules and rendered by
//! `warden-report`. Keeping the types here, free of I/O and clocks, lets the
//! core (snapshot → findings) be tested with plain values.
//!
//! - [`snapshot`]: the versioned, documented JSON snapshot of host facts.
//! - [`cis_facts`]: the parsed facts only the CIS probes read.
//! - [`finding`]: severities, rule outcomes, findings and their evidence.
//! - [`runtime`]: what a host did during a run (listeners, connections,
//!   processes, shared objects, executables), merged from sampler deltas.
//! - [`fleet`]: the agent protocol's messages (`warden serve` / `warden agent`).
#![deny(missing_docs)]

pub mod cis_facts;
pub mod finding;
pub mod fleet;
pub mod runtime;
pub mod snapshot;

pub use cis_facts::*;
pub use finding::*;
pub use snapshot::*;
