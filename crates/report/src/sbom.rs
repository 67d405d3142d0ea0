//! Software bills of materials (CycloneDX 1.5 JSON, SPDX 2.3 JSON) of a
//! host's installed OS packages.
//!
//! Why it exists: the snapshot already holds every package database's
//! inventory (dpkg, rpm, apk); an SBOM hands that inventory to other tools
//! (dependency trackers, vulnerability scanners, licence audits) in the two
//! standard formats. Each package is identified by its package URL
//! ([`purl`]): `pkg:deb/debian/NAME@VERSION?arch=amd64&distro=debian-12`,
//! `pkg:rpm/rocky/NAME@VERSION-RELEASE?arch=x86_64&distro=rocky-9.3&epoch=1`,
//! `pkg:apk/alpine/NAME@VERSION?arch=x86_64&distro=alpine-3.20.3`.
//! Output is deterministic (packages sorted by purl) apart from the
//! timestamp and the serial number / document namespace the caller passes.

use std::io::{self, Write};

use serde_json::{Value, json};
use warden_model::{Fact, InstalledPackage, OsRelease, PackageFormat, Snapshot};

/// SBOM format (`warden sbom --format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SbomFormat {
    /// CycloneDX 1.5 JSON.
    CycloneDx,
    /// SPDX 2.3 JSON.
    Spdx,
}

/// What is not in the snapshot: when and by whom the SBOM is made.
#[derive(Clone, Debug)]
pub struct SbomMeta {
    /// Creation time, `YYYY-MM-DDTHH:MM:SSZ`.
    pub timestamp: String,
    /// A random UUID (CycloneDX serial number; SPDX document namespace).
    pub uuid: String,
    /// The Warden version.
    pub tool_version: String,
}

/// One package of the SBOM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SbomPackage {
    /// Package URL.
    pub purl: String,
    /// Binary package name.
    pub name: String,
    /// Version as the package database writes it.
    pub version: String,
    /// Architecture.
    pub arch: Option<String>,
    /// Source package name.
    pub source_name: String,
    /// Source package version.
    pub source_version: String,
    /// Which database format.
    pub format: PackageFormat,
    /// The database it was read from.
    pub database: String,
}

/// The host an SBOM describes, and its packages.
#[derive(Clone, Debug)]
pub struct SbomInventory {
    /// Host name, or the root path.
    pub asset: String,
    /// `/etc/os-release`, when read.
    pub os: Option<OsRelease>,
    /// Packages, sorted by purl, without duplicates.
    pub packages: Vec<SbomPackage>,
    /// Problems the package databases reported (the inventory may be partial).
    pub problems: Vec<String>,
}

/// Percent-encodes a purl component: RFC 3986 unreserved characters are kept.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The package URL of an installed package. `os` gives the namespace (the
/// os-release `ID`; `debian` and `alpine` when unknown) and the `distro`
/// qualifier (`ID-VERSION_ID`). rpm epochs go to the `epoch` qualifier, dpkg
/// epochs stay in the version, as the purl specification has it.
/// Qualifiers are in key order.
pub fn purl(format: PackageFormat, os: Option<&OsRelease>, p: &InstalledPackage) -> String {
    let (kind, default_ns) = match format {
        PackageFormat::Dpkg => ("deb", "debian"),
        PackageFormat::Rpm => ("rpm", "redhat"),
        PackageFormat::Apk => ("apk", "alpine"),
    };
    let namespace = os.map(|o| o.id.to_ascii_lowercase()).filter(|id| !id.is_empty()).unwrap_or(default_ns.to_string());
    let (epoch, version) = match (format, p.version.split_once(':')) {
        (PackageFormat::Rpm, Some((e, v))) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
            (Some(e.to_string()), v.to_string())
        }
        _ => (None, p.version.clone()),
    };
    let mut qualifiers: Vec<(&str, String)> = Vec::new();
    if let Some(arch) = &p.arch {
        qualifiers.push(("arch", arch.clone()));
    }
    if let Some(o) = os
        && let Some(v) = &o.version_id
    {
        qualifiers.push(("distro", format!("{}-{v}", namespace)));
    }
    if let Some(e) = epoch {
        qualifiers.push(("epoch", e));
    }
    let mut out = format!("pkg:{kind}/{}/{}@{}", encode(&namespace), encode(&p.name), encode(&version));
    for (i, (k, v)) in qualifiers.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&encode(v));
    }
    out
}

/// The snapshot's package inventory, or why there is none.
pub fn inventory(snapshot: &Snapshot) -> Result<SbomInventory, String> {
    let inventories = match &snapshot.packages {
        Fact::Collected { value } => value,
        other => {
            let why = other.reason().unwrap_or_default();
            return Err(format!("the snapshot has no package inventory: {why}"));
        }
    };
    let os = snapshot.host.os.value().cloned();
    let mut packages = Vec::new();
    let mut problems = Vec::new();
    for inv in inventories {
        problems.extend(inv.problems.iter().map(|p| p.to_string()));
        for p in &inv.packages {
            packages.push(SbomPackage {
                purl: purl(inv.format, os.as_ref(), p),
                name: p.name.clone(),
                version: p.version.clone(),
                arch: p.arch.clone(),
                source_name: p.source_name.clone(),
                source_version: p.source_version.clone(),
                format: inv.format,
                database: inv.database.clone(),
            });
        }
    }
    packages.sort_by(|a, b| a.purl.cmp(&b.purl));
    packages.dedup_by(|a, b| a.purl == b.purl);
    let asset = snapshot.host.hostname.clone().unwrap_or_else(|| snapshot.root.clone());
    Ok(SbomInventory { asset, os, packages, problems })
}

fn format_name(f: PackageFormat) -> &'static str {
    match f {
        PackageFormat::Dpkg => "dpkg",
        PackageFormat::Rpm => "rpm",
        PackageFormat::Apk => "apk",
    }
}

/// The inventory as a CycloneDX 1.5 document.
pub fn cyclonedx(inv: &SbomInventory, meta: &SbomMeta) -> Value {
    let os_ref = "warden:operating-system";
    let os_name = inv.os.as_ref().map(|o| o.id.clone()).unwrap_or_else(|| "unknown".to_string());
    let mut os_component = json!({
        "type": "operating-system",
        "bom-ref": os_ref,
        "name": os_name,
        "properties": [{ "name": "warden:asset", "value": inv.asset }],
    });
    if let Some(o) = &inv.os {
        if let Some(v) = &o.version_id {
            os_component["version"] = json!(v);
        }
        if let Some(p) = &o.pretty_name {
            os_component["description"] = json!(p);
        }
    }
    let components: Vec<Value> = inv
        .packages
        .iter()
        .map(|p| {
            let mut properties = vec![
                json!({ "name": "warden:package_format", "value": format_name(p.format) }),
                json!({ "name": "warden:package_database", "value": p.database }),
                json!({ "name": "warden:source_name", "value": p.source_name }),
                json!({ "name": "warden:source_version", "value": p.source_version }),
            ];
            if let Some(a) = &p.arch {
                properties.push(json!({ "name": "warden:arch", "value": a }));
            }
            json!({
                "type": "library",
                "bom-ref": p.purl,
                "name": p.name,
                "version": p.version,
                "purl": p.purl,
                "properties": properties,
            })
        })
        .collect();
    let mut metadata = json!({
        "timestamp": meta.timestamp,
        "tools": { "components": [{ "type": "application", "name": "warden", "version": meta.tool_version }] },
        "component": os_component,
    });
    if !inv.problems.is_empty() {
        metadata["properties"] = Value::Array(
            inv.problems.iter().map(|p| json!({ "name": "warden:inventory_problem", "value": p })).collect(),
        );
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": format!("urn:uuid:{}", meta.uuid),
        "version": 1,
        "metadata": metadata,
        "components": components,
        "dependencies": [{ "ref": os_ref, "dependsOn": inv.packages.iter().map(|p| p.purl.clone()).collect::<Vec<_>>() }],
    })
}

/// Letters, digits, `.` and `-` only, as SPDX identifiers allow.
fn spdx_id_part(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' }).collect()
}

/// The inventory as an SPDX 2.3 document.
pub fn spdx(inv: &SbomInventory, meta: &SbomMeta) -> Value {
    let os_id = "SPDXRef-OperatingSystem";
    let os_name = inv.os.as_ref().map(|o| o.id.clone()).unwrap_or_else(|| "unknown".to_string());
    let mut os_package = json!({
        "SPDXID": os_id,
        "name": os_name,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "OPERATING-SYSTEM",
    });
    if let Some(o) = &inv.os {
        if let Some(v) = &o.version_id {
            os_package["versionInfo"] = json!(v);
        }
        if let Some(p) = &o.pretty_name {
            os_package["description"] = json!(p);
        }
    }
    let mut packages = vec![os_package];
    let mut relationships = vec![
        json!({ "spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": os_id }),
    ];
    for (i, p) in inv.packages.iter().enumerate() {
        let id = format!("SPDXRef-Package-{}-{}-{}", format_name(p.format), i + 1, spdx_id_part(&p.name));
        packages.push(json!({
            "SPDXID": id,
            "name": p.name,
            "versionInfo": p.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "sourceInfo": format!("built package from: {} {}", p.source_name, p.source_version),
            "primaryPackagePurpose": "LIBRARY",
            "externalRefs": [{ "referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p.purl }],
        }));
        relationships.push(json!({ "spdxElementId": os_id, "relationshipType": "CONTAINS", "relatedSpdxElement": id }));
    }
    let name = format!("warden-sbom-{}", inv.asset);
    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": format!("https://spdx.org/spdxdocs/{}-{}", spdx_id_part(&name), meta.uuid),
        "creationInfo": { "created": meta.timestamp, "creators": [format!("Tool: warden-{}", meta.tool_version)] },
        "documentDescribes": [os_id],
        "packages": packages,
        "relationships": relationships,
    });
    if !inv.problems.is_empty() {
        doc["comment"] = json!(format!("The package inventory may be partial: {}", inv.problems.join("; ")));
    }
    doc
}

/// Writes the SBOM as pretty JSON with a trailing newline.
pub fn write_sbom<W: Write>(inv: &SbomInventory, format: SbomFormat, meta: &SbomMeta, out: &mut W) -> io::Result<()> {
    let doc = match format {
        SbomFormat::CycloneDx => cyclonedx(inv, meta),
        SbomFormat::Spdx => spdx(inv, meta),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_model::{OsFamily, Source};

    fn os(id: &str, version: &str) -> OsRelease {
        OsRelease {
            path: "/etc/os-release".into(),
            id: id.into(),
            id_like: vec![],
            version_id: Some(version.into()),
            version_codename: None,
            pretty_name: None,
            family: OsFamily::Other,
        }
    }

    fn pkg(name: &str, version: &str, arch: &str) -> InstalledPackage {
        InstalledPackage {
            name: name.into(),
            version: version.into(),
            arch: Some(arch.into()),
            source_name: name.into(),
            source_version: version.into(),
            running_kernel: false,
            source: Source::file("/var/lib/dpkg/status", 1),
        }
    }

    #[test]
    fn purls_per_format() {
        let deb = os("debian", "12");
        assert_eq!(
            purl(PackageFormat::Dpkg, Some(&deb), &pkg("libc6", "2.36-9+deb12u4", "amd64")),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
        );
        assert_eq!(
            purl(PackageFormat::Dpkg, Some(&deb), &pkg("login", "1:4.13+dfsg1-1", "amd64")),
            "pkg:deb/debian/login@1%3A4.13%2Bdfsg1-1?arch=amd64&distro=debian-12"
        );
        assert_eq!(
            purl(PackageFormat::Rpm, Some(&os("rocky", "9.3")), &pkg("openssl-libs", "1:3.0.7-25.el9_3", "x86_64")),
            "pkg:rpm/rocky/openssl-libs@3.0.7-25.el9_3?arch=x86_64&distro=rocky-9.3&epoch=1"
        );
        assert_eq!(
            purl(PackageFormat::Apk, Some(&os("alpine", "3.20.3")), &pkg("musl", "1.2.5-r0", "x86_64")),
            "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3"
        );
        assert_eq!(
            purl(PackageFormat::Apk, None, &pkg("musl", "1.2.5-r0", "x86_64")),
            "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64"
        );
    }

    #[test]
    fn spdx_ids_are_valid() {
        assert_eq!(spdx_id_part("libstdc++6:amd64"), "libstdc--6-amd64");
    }
}
