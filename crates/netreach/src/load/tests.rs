//! Unit tests: see crates/netreach/tests/load.rs for the fixture tests.
