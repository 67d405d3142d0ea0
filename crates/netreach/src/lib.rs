//! Network reachability for AWS VPC networks.
//!
//! Why it exists: which port of which instance can be reached from the
//! internet, from on-premises (VGW), from peered VPCs, through transit
//! gateways and load balancers, and by which path, computed from the network
//! configuration alone. The [`model`] is Warden's own, filled from the AWS
//! CLI's describe-* JSON or the AWS SDK.
#![deny(missing_docs)]

pub mod engine;
pub mod model;
pub mod sets;
pub mod walker;
