//! Network reachability for AWS VPC networks.
//!
//! Why it exists: which port of which instance can be reached from the
//! internet, from on-premises (VGW), from peered VPCs, through transit
//! gateways and load balancers, and by which path, computed from the network
//! configuration alone. The [`model`] is Warden's own, filled from the AWS
//! CLI's describe-* JSON ([`load`]) or the AWS SDK. The [`engine`] computes
//! reachability symbolically over [`sets`] of addresses and ports; the
//! [`walker`] follows one packet at a time and is the engine's differential
//! oracle. Semantics: `docs/netreach.md`.
#![deny(missing_docs)]

pub mod engine;
pub mod findings;
pub mod hosts;
pub mod load;
pub mod model;
pub mod sets;
pub mod walker;
