//! `warden sbom`: a software bill of materials of a root filesystem or a
//! snapshot, as CycloneDX 1.5 or SPDX 2.3 JSON.
//!
//! Why it exists: the package inventory Warden collects for the CVE package
//! is also what dependency trackers and other scanners take in. The
//! documents are made by `warden_report::sbom`; this module chooses the
//! input, supplies the clock and a random serial, and writes the file.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use warden_report::sbom::{SbomFormat, SbomMeta};

use crate::report_cmd::Output;

/// `warden sbom` arguments.
#[derive(Args)]
pub struct SbomArgs {
    /// Root filesystem to read the package databases from.
    #[arg(long, default_value = "/", conflicts_with = "snapshot")]
    root: PathBuf,
    /// A snapshot written by `warden collect` instead of a root.
    #[arg(long)]
    snapshot: Option<PathBuf>,
    /// SBOM format.
    #[arg(long, value_enum)]
    format: SbomFormatArg,
    /// Write the SBOM here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SbomFormatArg {
    /// CycloneDX 1.5 JSON.
    Cyclonedx,
    /// SPDX 2.3 JSON.
    Spdx,
}

/// A random (version 4) UUID from the kernel's random source.
fn random_uuid() -> Result<String, String> {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| format!("/dev/urandom: cannot read: {e}"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        h[0..4].concat(),
        h[4..6].concat(),
        h[6..8].concat(),
        h[8..10].concat(),
        h[10..].concat()
    ))
}

/// Runs `warden sbom`.
pub fn run(args: SbomArgs) -> Result<(), String> {
    let snapshot = match &args.snapshot {
        Some(path) => crate::read_snapshot(path)?,
        None => crate::collect(&args.root, false)?,
    };
    let inventory = warden_report::sbom::inventory(&snapshot)?;
    for p in &inventory.problems {
        eprintln!("warden: warning: {p} (the SBOM may be incomplete)");
    }
    let meta = SbomMeta {
        timestamp: warden_collect::now_rfc3339(),
        uuid: random_uuid()?,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let format = match args.format {
        SbomFormatArg::Cyclonedx => SbomFormat::CycloneDx,
        SbomFormatArg::Spdx => SbomFormat::Spdx,
    };
    let mut out = Output::open(args.output.as_deref())?;
    match warden_report::sbom::write_sbom(&inventory, format, &meta, &mut out) {
        Ok(()) => out.commit(),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && args.output.is_none() => Ok(()),
        Err(e) => Err(out.fail(e)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuids_are_version_4_and_differ() {
        let a = super::random_uuid().unwrap();
        let b = super::random_uuid().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}
