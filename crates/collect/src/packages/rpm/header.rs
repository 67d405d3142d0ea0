//! The rpm header blob: one installed package's metadata as rpm stores it in
//! its database (every backend, sqlite, Berkeley DB and ndb, stores the same
//! blob).
//!
//! Why it exists: Warden reads rpm databases without librpm, so it decodes
//! the few tags an inventory needs itself, from bytes that may be corrupt.
//!
//! Format (rpm `lib/header.c`, `headerImport`; the on-disk blob has no lead
//! and no magic): `il` (number of index entries, u32 big-endian), `dl` (length
//! of the data store, u32 BE), `il` index entries of 16 bytes each (tag, type,
//! offset into the data store, count; all u32 BE), then the `dl`-byte data
//! store. The blob length must be exactly `8 + 16 * il + dl`, as rpm checks
//! (`hdrblobRead`), with rpm's own limits (`il` at most 0xffff tags, `dl` at most
//! 256 MiB). The region entry (tag 63, `HEADER_IMMUTABLE`) is not needed and
//! not checked: only the tags read below are located and checked.
//!
//! Tags read: NAME (1000), VERSION (1001), RELEASE (1002) as `STRING` (or
//! the first string of an `I18NSTRING`/`STRING_ARRAY`), EPOCH (1003, `INT32`,
//! absent for most packages), ARCH (1022) and SOURCERPM (1044), both optional.
//! rpm writes `(none)` for a missing SOURCERPM in some tools' output; a
//! literal `(none)` is treated as absent too. For executable ownership,
//! [`file_paths`] reads the file list: DIRINDEXES (1116, `INT32` array),
//! BASENAMES (1117) and DIRNAMES (1118, `STRING_ARRAY`s; path = dirname of
//! the index + basename), or OLDFILENAMES (1027) in headers from before rpm
//! 4.0's compressed file names. Every offset and length is
//! checked against the data store before use: a bad blob is an `Err` with the
//! reason, never a panic or an out-of-bounds slice. Strings that are not
//! UTF-8 are converted lossily.

/// rpm's limit on index entries (`hdrchkTags`: the count must fit in 16 bits).
pub const MAX_INDEX_ENTRIES: u32 = 0xffff;
/// rpm's limit on the data store (`hdrchkData`: under 256 MiB).
pub const MAX_DATA_LEN: u32 = 256 * 1024 * 1024 - 1;

/// `RPMTAG_NAME`.
pub const TAG_NAME: u32 = 1000;
/// `RPMTAG_VERSION`.
pub const TAG_VERSION: u32 = 1001;
/// `RPMTAG_RELEASE`.
pub const TAG_RELEASE: u32 = 1002;
/// `RPMTAG_EPOCH`.
pub const TAG_EPOCH: u32 = 1003;
/// `RPMTAG_ARCH`.
pub const TAG_ARCH: u32 = 1022;
/// `RPMTAG_SOURCERPM`.
pub const TAG_SOURCERPM: u32 = 1044;
/// `RPMTAG_OLDFILENAMES` (uncompressed file names, rpm < 4.0).
pub const TAG_OLDFILENAMES: u32 = 1027;
/// `RPMTAG_DIRINDEXES`.
pub const TAG_DIRINDEXES: u32 = 1116;
/// `RPMTAG_BASENAMES`.
pub const TAG_BASENAMES: u32 = 1117;
/// `RPMTAG_DIRNAMES`.
pub const TAG_DIRNAMES: u32 = 1118;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// The tags of one header that an inventory needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpmHeader {
    /// NAME.
    pub name: String,
    /// VERSION.
    pub version: String,
    /// RELEASE.
    pub release: String,
    /// EPOCH, when the tag is present (it is absent for most packages).
    pub epoch: Option<u32>,
    /// ARCH (absent for `gpg-pubkey` pseudo-packages).
    pub arch: Option<String>,
    /// SOURCERPM, e.g. `openssl-3.0.7-27.el9.src.rpm` (absent for `gpg-pubkey`).
    pub source_rpm: Option<String>,
}

impl RpmHeader {
    /// `[epoch:]version-release`; the epoch is shown whenever the tag is
    /// present, even `0`, so nothing in the header is lost.
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(e) => format!("{e}:{}-{}", self.version, self.release),
            None => format!("{}-{}", self.version, self.release),
        }
    }
}

/// Decodes a header blob (see the module docs). `Err` says what is wrong.
pub fn parse(blob: &[u8]) -> Result<RpmHeader, String> {
    let blob = Blob::new(blob)?;
    let name = blob.string(TAG_NAME)?.ok_or("no NAME tag")?;
    let version = blob.string(TAG_VERSION)?.ok_or("no VERSION tag")?;
    let release = blob.string(TAG_RELEASE)?.ok_or("no RELEASE tag")?;
    if name.is_empty() {
        return Err("empty NAME".to_string());
    }
    let epoch = blob.int32(TAG_EPOCH)?;
    let arch = blob.string(TAG_ARCH)?;
    let source_rpm = blob.string(TAG_SOURCERPM)?.filter(|s| !s.is_empty() && s != "(none)");
    Ok(RpmHeader { name, version, release, epoch, arch, source_rpm })
}

/// The absolute paths of the files the header lists (empty for a package
/// without files). `Err` when the lists are malformed or inconsistent.
pub fn file_paths(blob: &[u8]) -> Result<Vec<String>, String> {
    let blob = Blob::new(blob)?;
    let Some(basenames) = blob.strings(TAG_BASENAMES)? else {
        return Ok(blob.strings(TAG_OLDFILENAMES)?.unwrap_or_default());
    };
    let dirnames = blob.strings(TAG_DIRNAMES)?.ok_or("BASENAMES without DIRNAMES")?;
    let indexes = blob.int32s(TAG_DIRINDEXES)?.ok_or("BASENAMES without DIRINDEXES")?;
    if indexes.len() != basenames.len() {
        return Err(format!("{} BASENAMES but {} DIRINDEXES", basenames.len(), indexes.len()));
    }
    basenames
        .iter()
        .zip(indexes)
        .map(|(base, i)| {
            let dir = dirnames
                .get(i as usize)
                .ok_or_else(|| format!("DIRINDEXES {i} past the {} DIRNAMES", dirnames.len()))?;
            Ok(format!("{dir}{base}"))
        })
        .collect()
}

/// A checked view of a blob: index and data store within bounds.
struct Blob<'a> {
    index: &'a [u8],
    data: &'a [u8],
}

struct Entry {
    kind: u32,
    offset: usize,
    count: u32,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let bytes = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

impl<'a> Blob<'a> {
    fn new(blob: &'a [u8]) -> Result<Self, String> {
        let il = be32(blob, 0).ok_or("blob shorter than its 8-byte preamble")?;
        let dl = be32(blob, 4).ok_or("blob shorter than its 8-byte preamble")?;
        if il == 0 || il > MAX_INDEX_ENTRIES {
            return Err(format!("index entry count {il} out of range (1 to {MAX_INDEX_ENTRIES})"));
        }
        if dl > MAX_DATA_LEN {
            return Err(format!("data length {dl} over rpm's {MAX_DATA_LEN} byte limit"));
        }
        // il <= 0xffff and dl <= 256 MiB: no overflow in usize (>= 32 bits).
        let index_len = il as usize * 16;
        let expected = 8 + index_len + dl as usize;
        if blob.len() != expected {
            return Err(format!(
                "blob is {} bytes but its preamble says {expected} (8 + 16 * {il} index entries + {dl} data bytes)",
                blob.len()
            ));
        }
        Ok(Blob { index: &blob[8..8 + index_len], data: &blob[8 + index_len..] })
    }

    /// The first index entry with this tag, its offset checked against the data store.
    fn find(&self, tag: u32) -> Result<Option<Entry>, String> {
        for raw in self.index.chunks_exact(16) {
            if be32(raw, 0) != Some(tag) {
                continue;
            }
            let kind = be32(raw, 4).unwrap_or(0);
            let offset = be32(raw, 8).unwrap_or(u32::MAX);
            let count = be32(raw, 12).unwrap_or(0);
            let offset = offset as usize;
            if offset >= self.data.len() {
                return Err(format!("tag {tag}: offset {offset} outside the {}-byte data store", self.data.len()));
            }
            if count == 0 {
                return Err(format!("tag {tag}: count 0"));
            }
            return Ok(Some(Entry { kind, offset, count }));
        }
        Ok(None)
    }

    fn string(&self, tag: u32) -> Result<Option<String>, String> {
        let Some(e) = self.find(tag)? else { return Ok(None) };
        match e.kind {
            TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING => {}
            other => return Err(format!("tag {tag}: type {other}, expected a string")),
        }
        if e.kind == TYPE_STRING && e.count != 1 {
            return Err(format!("tag {tag}: STRING with count {}", e.count));
        }
        let rest = &self.data[e.offset..];
        let end = rest.iter().position(|&b| b == 0).ok_or_else(|| format!("tag {tag}: string not terminated"))?;
        Ok(Some(String::from_utf8_lossy(&rest[..end]).into_owned()))
    }

    /// Every string of a `STRING_ARRAY` (or the one of a `STRING`), each
    /// NUL-terminated inside the data store.
    fn strings(&self, tag: u32) -> Result<Option<Vec<String>>, String> {
        let Some(e) = self.find(tag)? else { return Ok(None) };
        if e.kind != TYPE_STRING_ARRAY && e.kind != TYPE_STRING {
            return Err(format!("tag {tag}: type {}, expected a string array", e.kind));
        }
        let mut rest = &self.data[e.offset..];
        // Each string takes at least its NUL: a count beyond the bytes left is corrupt (and bounds the allocation).
        if e.count as usize > rest.len() {
            return Err(format!("tag {tag}: {} strings in {} bytes", e.count, rest.len()));
        }
        let mut out = Vec::with_capacity(e.count as usize);
        for n in 0..e.count {
            let end =
                rest.iter().position(|&b| b == 0).ok_or_else(|| format!("tag {tag}: string {n} not terminated"))?;
            out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
            rest = &rest[end + 1..];
        }
        Ok(Some(out))
    }

    /// Every value of an `INT32` array.
    fn int32s(&self, tag: u32) -> Result<Option<Vec<u32>>, String> {
        let Some(e) = self.find(tag)? else { return Ok(None) };
        if e.kind != TYPE_INT32 {
            return Err(format!("tag {tag}: type {}, expected INT32", e.kind));
        }
        if !e.offset.is_multiple_of(4) {
            return Err(format!("tag {tag}: INT32 at unaligned offset {}", e.offset));
        }
        let bytes = (e.count as usize)
            .checked_mul(4)
            .and_then(|len| self.data.get(e.offset..e.offset.checked_add(len)?))
            .ok_or_else(|| format!("tag {tag}: {} INT32 values past the data store", e.count))?;
        Ok(Some(bytes.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect()))
    }

    fn int32(&self, tag: u32) -> Result<Option<u32>, String> {
        let Some(e) = self.find(tag)? else { return Ok(None) };
        if e.kind != TYPE_INT32 {
            return Err(format!("tag {tag}: type {}, expected INT32", e.kind));
        }
        if !e.offset.is_multiple_of(4) {
            return Err(format!("tag {tag}: INT32 at unaligned offset {}", e.offset));
        }
        be32(self.data, e.offset).map(Some).ok_or_else(|| format!("tag {tag}: INT32 past the data store"))
    }
}

/// Splits a source rpm file name `name-version-release.src.rpm` (or
/// `.nosrc.rpm`) into name, version and release. `None` when it does not have
/// that shape.
pub fn split_source_rpm(file: &str) -> Option<(&str, &str, &str)> {
    let stem = file.strip_suffix(".rpm")?;
    let (nvr, _arch) = stem.rsplit_once('.')?;
    let (nv, release) = nvr.rsplit_once('-')?;
    let (name, version) = nv.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name, version, release))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a blob from (tag, type, count, data) entries, laid out as rpm
    /// does (each entry aligned for its type).
    pub(crate) fn build(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data: Vec<u8> = Vec::new();
        for (tag, kind, count, bytes) in entries {
            if *kind == TYPE_INT32 {
                while !data.len().is_multiple_of(4) {
                    data.push(0);
                }
            }
            index.extend_from_slice(&tag.to_be_bytes());
            index.extend_from_slice(&kind.to_be_bytes());
            index.extend_from_slice(&(data.len() as u32).to_be_bytes());
            index.extend_from_slice(&count.to_be_bytes());
            data.extend_from_slice(bytes);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(&index);
        out.extend_from_slice(&data);
        out
    }

    pub(crate) fn s(text: &str) -> (u32, Vec<u8>) {
        let mut v = text.as_bytes().to_vec();
        v.push(0);
        (TYPE_STRING, v)
    }

    fn string_entry(tag: u32, text: &str) -> (u32, u32, u32, Vec<u8>) {
        let (kind, bytes) = s(text);
        (tag, kind, 1, bytes)
    }

    #[test]
    fn decodes_the_needed_tags() {
        let blob = build(&[
            string_entry(TAG_NAME, "openssl-libs"),
            string_entry(TAG_VERSION, "3.0.7"),
            string_entry(TAG_RELEASE, "27.el9"),
            (TAG_EPOCH, TYPE_INT32, 1, 1u32.to_be_bytes().to_vec()),
            string_entry(TAG_ARCH, "x86_64"),
            string_entry(TAG_SOURCERPM, "openssl-3.0.7-27.el9.src.rpm"),
        ]);
        let h = parse(&blob).unwrap();
        assert_eq!(h.name, "openssl-libs");
        assert_eq!(h.evr(), "1:3.0.7-27.el9");
        assert_eq!(h.arch.as_deref(), Some("x86_64"));
        assert_eq!(h.source_rpm.as_deref(), Some("openssl-3.0.7-27.el9.src.rpm"));
    }

    #[test]
    fn bad_blobs_are_errors() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[0, 0, 0, 1, 0, 0, 0, 0]).is_err());
        let good =
            build(&[string_entry(TAG_NAME, "a"), string_entry(TAG_VERSION, "1"), string_entry(TAG_RELEASE, "1")]);
        assert!(parse(&good).is_ok());
        // Truncated, extended, unterminated string, offset out of range.
        assert!(parse(&good[..good.len() - 1]).unwrap_err().contains("preamble says"));
        let mut longer = good.clone();
        longer.push(0);
        assert!(parse(&longer).is_err());
        let mut unterminated = good.clone();
        let last = unterminated.len() - 1;
        unterminated[last] = b'x';
        assert!(parse(&unterminated).unwrap_err().contains("not terminated"));
        let mut far = good.clone();
        far[8 + 8..8 + 12].copy_from_slice(&1000u32.to_be_bytes());
        assert!(parse(&far).unwrap_err().contains("outside"));
        // Missing VERSION.
        let no_version = build(&[string_entry(TAG_NAME, "a"), string_entry(TAG_RELEASE, "1")]);
        assert_eq!(parse(&no_version).unwrap_err(), "no VERSION tag");
        // An EPOCH of the wrong type.
        let bad_epoch = build(&[
            string_entry(TAG_NAME, "a"),
            string_entry(TAG_VERSION, "1"),
            string_entry(TAG_RELEASE, "1"),
            string_entry(TAG_EPOCH, "1"),
        ]);
        assert!(parse(&bad_epoch).unwrap_err().contains("expected INT32"));
    }

    fn strings_entry(tag: u32, texts: &[&str]) -> (u32, u32, u32, Vec<u8>) {
        let bytes = texts.iter().flat_map(|t| t.bytes().chain([0])).collect();
        (tag, TYPE_STRING_ARRAY, texts.len() as u32, bytes)
    }

    fn int32s_entry(tag: u32, values: &[u32]) -> (u32, u32, u32, Vec<u8>) {
        (tag, TYPE_INT32, values.len() as u32, values.iter().flat_map(|v| v.to_be_bytes()).collect())
    }

    #[test]
    fn file_lists_join_dirnames_and_basenames() {
        let blob = build(&[
            string_entry(TAG_NAME, "tools"),
            strings_entry(TAG_BASENAMES, &["tool", "daemon", "lib.so"]),
            strings_entry(TAG_DIRNAMES, &["/usr/bin/", "/usr/sbin/", "/usr/lib64/"]),
            int32s_entry(TAG_DIRINDEXES, &[0, 1, 2]),
        ]);
        assert_eq!(file_paths(&blob).unwrap(), ["/usr/bin/tool", "/usr/sbin/daemon", "/usr/lib64/lib.so"]);
        let old = build(&[string_entry(TAG_NAME, "old"), strings_entry(TAG_OLDFILENAMES, &["/bin/old"])]);
        assert_eq!(file_paths(&old).unwrap(), ["/bin/old"]);
        assert_eq!(file_paths(&build(&[string_entry(TAG_NAME, "empty")])).unwrap(), Vec::<String>::new());
        // Inconsistent lists are errors, not panics.
        let past = build(&[
            strings_entry(TAG_BASENAMES, &["a"]),
            strings_entry(TAG_DIRNAMES, &["/x/"]),
            int32s_entry(TAG_DIRINDEXES, &[3]),
        ]);
        assert!(file_paths(&past).unwrap_err().contains("past the 1 DIRNAMES"));
        let short = build(&[
            strings_entry(TAG_BASENAMES, &["a", "b"]),
            strings_entry(TAG_DIRNAMES, &["/x/"]),
            int32s_entry(TAG_DIRINDEXES, &[0]),
        ]);
        assert!(file_paths(&short).unwrap_err().contains("2 BASENAMES but 1 DIRINDEXES"));
        let no_dirs = build(&[strings_entry(TAG_BASENAMES, &["a"]), int32s_entry(TAG_DIRINDEXES, &[0])]);
        assert_eq!(file_paths(&no_dirs).unwrap_err(), "BASENAMES without DIRNAMES");
        let mut too_many = build(&[strings_entry(TAG_BASENAMES, &["a"])]);
        too_many[8 + 12..8 + 16].copy_from_slice(&1000u32.to_be_bytes());
        assert!(file_paths(&too_many).unwrap_err().contains("strings in"));
    }

    #[test]
    fn source_rpm_names_split_from_the_right() {
        assert_eq!(split_source_rpm("openssl-3.0.7-27.el9.src.rpm"), Some(("openssl", "3.0.7", "27.el9")));
        assert_eq!(
            split_source_rpm("python-pip-21.3.1-1.amzn2.0.5.src.rpm"),
            Some(("python-pip", "21.3.1", "1.amzn2.0.5"))
        );
        assert_eq!(split_source_rpm("tzdata-2024a~rc1-1.fc40.nosrc.rpm"), Some(("tzdata", "2024a~rc1", "1.fc40")));
        assert_eq!(split_source_rpm("garbage"), None);
        assert_eq!(split_source_rpm("a-1.src.rpm"), None);
        assert_eq!(split_source_rpm("-1-2.src.rpm"), None);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse(&bytes);
            let _ = file_paths(&bytes);
        }

        #[test]
        fn parse_never_panics_on_plausible_preambles(
            il in 0u32..40, dl in 0u32..600, rest in proptest::collection::vec(proptest::num::u8::ANY, 0..1200)
        ) {
            let mut blob = Vec::new();
            blob.extend_from_slice(&il.to_be_bytes());
            blob.extend_from_slice(&dl.to_be_bytes());
            blob.extend_from_slice(&rest);
            let _ = parse(&blob);
            let _ = file_paths(&blob);
        }
    }
}
