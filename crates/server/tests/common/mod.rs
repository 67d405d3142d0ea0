//! Pieces the server's end-to-end tests share: a topic map file and a
//! template over a real fleet store.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use warden_store::{FleetStore, NewTemplate, Template};

/// Writes a one-topic map (mode 0600, as `TopicMap::load` demands) and returns its path.
pub fn write_topic_map(dir: &Path, topic_arn: &str, url: &str, secret: &str) -> PathBuf {
    let path = dir.join("topics.toml");
    std::fs::write(&path, format!("[[topic]]\narn = \"{topic_arn}\"\nurl = \"{url}\"\nsecret = \"{secret}\"\n"))
        .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

/// A template named `nightly` of `packages` on the target.
pub fn nightly_template(store: &dyn FleetStore, target_id: &str, packages: &[&str]) -> Template {
    store
        .create_template(
            &NewTemplate {
                target_id: target_id.into(),
                name: "nightly".into(),
                duration_seconds: 3600,
                sampling_interval_seconds: 30,
                packages: packages.iter().map(|p| p.to_string()).collect(),
                user_attributes: vec![],
            },
            1,
        )
        .unwrap()
}
