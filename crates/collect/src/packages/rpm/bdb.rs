//! A reader for rpm's Berkeley DB `Packages` file (rpm before 4.16: RHEL and
//! CentOS 7 and 8, Amazon Linux 2, older Fedora and SUSE), without libdb.
//!
//! Why it exists: Warden reads an image or a mounted disk that has no rpm and
//! no libdb (and libdb is not a Rust dependency anyone wants). The file is
//! only read, page by page, never locked or written.
//!
//! What is read (layouts from Berkeley DB's `dbinc/db_page.h`; verified
//! against files written by Berkeley DB 5.3's `db_load` and read back by rpm
//! 4.18's `bdb_ro` backend, see the fixtures' `generate.sh`):
//! - Page 0 is the metadata page: magic at byte 12 (`0x061561` hash,
//!   `0x053162` btree), page size at byte 20, encryption algorithm at 24
//!   (must be 0: encrypted databases are refused), meta flags at 26 (bit 0:
//!   pages carry a checksum, and their items start at byte 32 instead of right
//!   after the 26-byte page header; measured on files written by db_load with
//!   `chksum=1`, rpm itself never asks for checksums), last page number at 32. All integers are in the writer's byte order: the magic
//!   tells which (a database written on a big-endian host reads swapped).
//! - Every page is then visited in file order, and the key/data pairs of the
//!   hash pages (type 13, and 2 for the unsorted pages of old releases) or
//!   btree leaf pages (type 5) are collected: the item offsets follow the page
//!   header, keys at even and data at odd positions. An item is stored on the
//!   page (hash `H_KEYDATA` 1 / btree `B_KEYDATA` 1) or, when it is big (every
//!   real rpm header), on a chain of overflow pages (`H_OFFPAGE`/`B_OVERFLOW`
//!   3: first page number and total length; each overflow page, type 7,
//!   holds `hf_offset` bytes and links to the next). Deleted btree items
//!   (flag 0x80) are skipped; duplicate sets (rpm never creates them) are
//!   reported.
//! - rpm's keys are the record number (header instance), a 4-byte integer in
//!   the writer's byte order; key 0 holds rpm's "last instance used" counter
//!   and is not a package. Records are returned sorted by record number (the
//!   file's own order is hash order, which means nothing).
//!
//! Every page number, offset and length is checked: a corrupt file gives
//! errors naming the page or record, never a panic, an out-of-bounds read or
//! an endless overflow chain (a chain longer than the file's page count is a
//! loop). A page that cannot be read is a problem and the walk goes on.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Hash database magic.
pub const HASH_MAGIC: u32 = 0x061561;
/// Btree database magic.
pub const BTREE_MAGIC: u32 = 0x053162;
/// Size of every page header (`SIZEOF_PAGE`).
const PAGE_HEADER: usize = 26;
/// Meta flag: pages carry a checksum after the header (`DBMETA_CHKSUM`).
/// Page contents then start at byte 32.
const META_CHKSUM: u8 = 0x01;
/// Bytes between the page header and the items on a checksummed page.
const CHKSUM_EXTRA: usize = 6;
/// rpm's limit on one header (`headerMaxbytes`, 256 MiB): longer items are corrupt.
const MAX_ITEM: u64 = 256 * 1024 * 1024;

const P_HASH_UNSORTED: u8 = 2;
const P_LBTREE: u8 = 5;
const P_OVERFLOW: u8 = 7;
const P_HASH: u8 = 13;

const KEYDATA: u8 = 1;
const DUPLICATE: u8 = 2;
const OFFPAGE: u8 = 3;
const OFFDUP: u8 = 4;
const B_DELETE: u8 = 0x80;

/// Random access to the database bytes (a file, or memory in tests).
pub trait ReadAt {
    /// Total length in bytes.
    fn size(&self) -> u64;
    /// Fills `buf` from byte `offset`; an error when it is past the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
}

impl ReadAt for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let src =
            start.checked_add(buf.len()).and_then(|end| self.get(start..end)).ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// An opened file with its length taken once.
pub struct FileAt {
    file: File,
    len: u64,
}

impl FileAt {
    /// Wraps a file opened for reading.
    pub fn new(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(FileAt { file, len })
    }
}

impl ReadAt for FileAt {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }
}

/// What a walk found: the values by record number, and page-level problems.
#[derive(Debug, Default)]
pub struct Contents {
    /// `(record number, value or why it could not be read)`, sorted by record number.
    pub records: Vec<(u32, Result<Vec<u8>, String>)>,
    /// Problems with whole pages (the walk went on).
    pub problems: Vec<String>,
}

struct Meta {
    big_endian: bool,
    page_size: usize,
    overhead: usize,
    pages: u64,
}

impl Meta {
    fn u16(&self, b: &[u8], at: usize) -> Option<u16> {
        let x: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big_endian { u16::from_be_bytes(x) } else { u16::from_le_bytes(x) })
    }
    fn u32(&self, b: &[u8], at: usize) -> Option<u32> {
        let x: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big_endian { u32::from_be_bytes(x) } else { u32::from_le_bytes(x) })
    }
}

/// Reads every record of a Berkeley DB hash or btree database. `Err` when the
/// file is not such a database at all (bad metadata page).
pub fn read<R: ReadAt + ?Sized>(src: &R) -> Result<Contents, String> {
    let meta = read_meta(src)?;
    let mut contents = Contents::default();
    let mut page = vec![0u8; meta.page_size];
    for pgno in 1..meta.pages {
        let offset = pgno * meta.page_size as u64;
        if let Err(e) = src.read_at(&mut page, offset) {
            contents.problems.push(format!("page {pgno}: cannot read: {e}"));
            continue;
        }
        let kind = page[25];
        let hash = match kind {
            P_HASH | P_HASH_UNSORTED => true,
            P_LBTREE => false,
            _ => continue,
        };
        if let Err(e) = read_page(src, &meta, &page, hash, &mut contents.records) {
            contents.problems.push(format!("page {pgno}: {e}"));
        }
    }
    contents.records.sort_by_key(|(key, _)| *key);
    Ok(contents)
}

fn read_meta<R: ReadAt + ?Sized>(src: &R) -> Result<Meta, String> {
    let mut head = [0u8; 72];
    src.read_at(&mut head, 0).map_err(|_| "file too short for a Berkeley DB metadata page".to_string())?;
    let magic_le = u32::from_le_bytes([head[12], head[13], head[14], head[15]]);
    let magic_be = u32::from_be_bytes([head[12], head[13], head[14], head[15]]);
    let (big_endian, magic) = if magic_le == HASH_MAGIC || magic_le == BTREE_MAGIC {
        (false, magic_le)
    } else if magic_be == HASH_MAGIC || magic_be == BTREE_MAGIC {
        (true, magic_be)
    } else {
        return Err(format!("not a Berkeley DB hash or btree database (magic {magic_le:#x})"));
    };
    let mut meta = Meta { big_endian, page_size: 0, overhead: PAGE_HEADER, pages: 0 };
    let page_size = meta.u32(&head, 20).unwrap_or(0);
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("invalid page size {page_size}"));
    }
    if head[24] != 0 {
        return Err("encrypted Berkeley DB database: not supported".to_string());
    }
    let expected_type = if magic == HASH_MAGIC { 8 } else { 9 };
    if head[25] != expected_type {
        return Err(format!("metadata page has type {}, expected {expected_type}", head[25]));
    }
    if head[26] & META_CHKSUM != 0 {
        meta.overhead = PAGE_HEADER + CHKSUM_EXTRA;
    }
    let last = u64::from(meta.u32(&head, 32).unwrap_or(0));
    meta.page_size = page_size as usize;
    // Trust the file length over the metadata: a truncated file has fewer pages.
    meta.pages = (last + 1).min(src.size() / u64::from(page_size));
    Ok(meta)
}

fn read_page<R: ReadAt + ?Sized>(
    src: &R,
    meta: &Meta,
    page: &[u8],
    hash: bool,
    out: &mut Vec<(u32, Result<Vec<u8>, String>)>,
) -> Result<(), String> {
    let entries = usize::from(meta.u16(page, 20).unwrap_or(0));
    if entries % 2 != 0 {
        return Err(format!("{entries} items: keys and values do not pair up"));
    }
    let index_end = meta.overhead + 2 * entries;
    if index_end > page.len() {
        return Err(format!("{entries} items do not fit in the page"));
    }
    let offset_of = |i: usize| usize::from(meta.u16(page, meta.overhead + 2 * i).unwrap_or(0));
    // An item as (type, its bytes from the type byte's item start, where its
    // data starts). A hash item runs from its offset to the previous item's
    // offset (items are laid out from the end of the page down); a btree item
    // has its own length. Both overflow references hold the first page number
    // at byte 4 and the total length at byte 8.
    let item = |i: usize| -> Result<(u8, &[u8], usize), String> {
        let start = offset_of(i);
        if start < index_end || start >= page.len() {
            return Err(format!("item {i} offset {start} outside the page's item area"));
        }
        if hash {
            let end = if i == 0 { page.len() } else { offset_of(i - 1) };
            if end <= start || end > page.len() {
                return Err(format!("item {i} has an invalid extent {start}..{end}"));
            }
            Ok((page[start], &page[start..end], 1))
        } else {
            let len = usize::from(meta.u16(page, start).unwrap_or(0));
            let kind = *page.get(start + 2).ok_or_else(|| format!("item {i} truncated"))?;
            let end = if kind & !B_DELETE == OFFPAGE { start + 12 } else { start + 3 + len };
            let whole = page.get(start..end).ok_or_else(|| format!("item {i} runs off the page"))?;
            Ok((kind, whole, 3))
        }
    };
    for pair in 0..entries / 2 {
        let (key_kind, key_item, key_data) = item(2 * pair)?;
        let (value_kind, value_item, value_data) = item(2 * pair + 1)?;
        if !hash && (key_kind & B_DELETE != 0 || value_kind & B_DELETE != 0) {
            continue;
        }
        let key_body = key_item.get(key_data..).unwrap_or_default();
        let key = match key_kind & !B_DELETE {
            KEYDATA if key_body.len() == 4 => meta.u32(key_body, 0).unwrap_or(0),
            kind => {
                return Err(format!("a key of type {kind} and {} bytes is not an rpm record number", key_body.len()));
            }
        };
        if key == 0 {
            continue; // rpm's "last instance" counter, not a package
        }
        let value = match value_kind & !B_DELETE {
            KEYDATA => Ok(value_item.get(value_data..).unwrap_or_default().to_vec()),
            OFFPAGE => {
                // HOFFPAGE: type, 3 unused, pgno, tlen. BOVERFLOW: 2 unused, type, 1 unused, pgno, tlen.
                match (meta.u32(value_item, 4), meta.u32(value_item, 8)) {
                    (Some(first), Some(total)) => read_overflow(src, meta, first, total),
                    _ => Err("overflow reference truncated".to_string()),
                }
            }
            DUPLICATE | OFFDUP => Err("a set of duplicate values (rpm never writes these)".to_string()),
            other => Err(format!("item of unknown type {other}")),
        };
        out.push((key, value));
    }
    Ok(())
}

fn read_overflow<R: ReadAt + ?Sized>(src: &R, meta: &Meta, first: u32, total: u32) -> Result<Vec<u8>, String> {
    if u64::from(total) > MAX_ITEM {
        return Err(format!("overflow item of {total} bytes, over the {MAX_ITEM} byte limit"));
    }
    let mut value = Vec::with_capacity((total as usize).min(1 << 20));
    let mut page = vec![0u8; meta.page_size];
    let mut pgno = u64::from(first);
    let mut steps = 0u64;
    while pgno != 0 {
        steps += 1;
        if pgno >= meta.pages || steps > meta.pages {
            return Err(format!("overflow chain reaches page {pgno}: outside the file or a loop"));
        }
        src.read_at(&mut page, pgno * meta.page_size as u64)
            .map_err(|e| format!("overflow page {pgno}: cannot read: {e}"))?;
        if page[25] != P_OVERFLOW {
            return Err(format!("page {pgno} in an overflow chain has type {}", page[25]));
        }
        let len = usize::from(meta.u16(&page, 22).unwrap_or(0));
        let chunk = page
            .get(meta.overhead..meta.overhead + len)
            .ok_or_else(|| format!("overflow page {pgno} claims {len} bytes"))?;
        value.extend_from_slice(chunk);
        if value.len() > total as usize {
            return Err(format!("overflow chain holds more than the item's {total} bytes"));
        }
        pgno = u64::from(meta.u32(&page, 16).unwrap_or(0));
    }
    if value.len() != total as usize {
        return Err(format!("overflow chain holds {} bytes, the item says {total}", value.len()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/packages/rpm/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(path).unwrap()
    }

    #[test]
    fn all_fixture_layouts_give_the_same_records() {
        let reference = read(&fixture("Packages")[..]).unwrap();
        assert!(reference.problems.is_empty(), "{:?}", reference.problems);
        assert!(reference.records.len() >= 5);
        for name in ["Packages.hash512", "Packages.btree512", "Packages.hash512chksum"] {
            let other = read(&fixture(name)[..]).unwrap();
            assert!(other.problems.is_empty(), "{name}: {:?}", other.problems);
            assert_eq!(other.records, reference.records, "{name}");
        }
        for (key, value) in &reference.records {
            let blob = value.as_ref().unwrap();
            assert!(super::super::header::parse(blob).is_ok(), "record {key}");
        }
    }

    #[test]
    fn not_a_database() {
        assert!(read(&b"hello"[..]).unwrap_err().contains("too short"));
        assert!(read(&[0u8; 4096][..]).unwrap_err().contains("not a Berkeley DB"));
    }

    #[test]
    fn truncated_files_report_problems_not_panics() {
        let bytes = fixture("Packages.hash512");
        for cut in [600, 1024, 2000, 4096, bytes.len() - 100] {
            let _ = read(&bytes[..cut]);
        }
    }

    #[test]
    fn overflow_loops_are_caught() {
        let mut bytes = fixture("Packages.hash512");
        // Point every overflow page's next link to itself.
        for pgno in 1..bytes.len() / 512 {
            let page = &mut bytes[pgno * 512..(pgno + 1) * 512];
            if page[25] == P_OVERFLOW {
                page[16..20].copy_from_slice(&(pgno as u32).to_le_bytes());
            }
        }
        let contents = read(&bytes[..]).unwrap();
        assert!(contents.records.iter().all(|(_, v)| v.is_err()));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        #[test]
        fn mutated_databases_never_panic(
            which in 0usize..3,
            edits in proptest::collection::vec((0usize..20000, proptest::num::u8::ANY), 1..12)
        ) {
            let name = ["Packages.hash512", "Packages.btree512", "Packages"][which];
            let mut bytes = fixture(name);
            for (at, b) in edits {
                let at = at % bytes.len();
                bytes[at] = b;
            }
            let _ = read(&bytes[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..3000)) {
            let _ = read(&bytes[..]);
        }
    }
}
