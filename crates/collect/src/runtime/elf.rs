//! A small, bounded ELF reader: the stack marking (`PT_GNU_STACK`) and
//! whether the dynamic symbols reference the stack protector
//! (`__stack_chk_fail`), plus a cache of results per file content hash.
//!
//! Why it exists: the Runtime Behavior rules "software without DEP" and
//! "software without stack cookies" need two facts of each running
//! executable, and an agent must read them for every program it sees on a
//! host it does not trust. So the reader takes only what it needs, from
//! offsets it checks against the file size: the ELF header, the program
//! headers (at most [`MAX_PROGRAM_HEADERS`]), the section headers (at most
//! [`MAX_SECTIONS`]) and one dynamic symbol table with its strings (at most
//! [`MAX_TABLE_BYTES`] each). Nothing is mapped or executed; truncated,
//! huge or malformed files give an error, never a panic (proptests below).
//!
//! Stack protector: the dynamic symbol table (`SHT_DYNSYM`, or, when the
//! section headers are stripped, the one `PT_DYNAMIC` points at) is searched
//! for `__stack_chk_fail`, `__stack_chk_fail_local` or `__stack_chk_guard`
//! (what `checksec` looks for). A statically linked program gets
//! [`StackProtector::Unknown`]: its C library brings the canary code whether
//! or not the program's own functions use it.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;

use sha2::{Digest, Sha256};
use warden_model::runtime::{ElfProperties, StackExec, StackProtector};

/// Most program headers read.
pub const MAX_PROGRAM_HEADERS: u64 = 4096;
/// Most section headers read.
pub const MAX_SECTIONS: u64 = 65_535;
/// Largest symbol or string table read, in bytes.
pub const MAX_TABLE_BYTES: u64 = 16 * 1024 * 1024;

const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PT_LOAD: u32 = 1;
const PT_GNU_STACK: u32 = 0x6474_e551;
const PF_X: u32 = 1;
const SHT_DYNSYM: u32 = 11;
const DT_NULL: u64 = 0;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;

const STACK_PROTECTOR_SYMBOLS: [&[u8]; 3] = [b"__stack_chk_fail", b"__stack_chk_fail_local", b"__stack_chk_guard"];

/// Something that can be read at an offset: a file, or bytes in tests.
pub trait ReadAt {
    /// Fills `buf` from `offset`, or fails (including on a short read).
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()>;
}

impl ReadAt for File {
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        FileExt::read_exact_at(self, buf, offset)
    }
}

impl ReadAt for [u8] {
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let start = usize::try_from(offset).ok();
        let slice = start.and_then(|s| self.get(s..s.checked_add(buf.len())?));
        match slice {
            Some(bytes) => {
                buf.copy_from_slice(bytes);
                Ok(())
            }
            None => Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)),
        }
    }
}

/// How the file's integers are laid out.
#[derive(Clone, Copy)]
struct Layout {
    is64: bool,
    little: bool,
}

impl Layout {
    fn u16(self, b: &[u8], at: usize) -> u16 {
        let v = [b[at], b[at + 1]];
        if self.little { u16::from_le_bytes(v) } else { u16::from_be_bytes(v) }
    }
    fn u32(self, b: &[u8], at: usize) -> u32 {
        let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if self.little { u32::from_le_bytes(v) } else { u32::from_be_bytes(v) }
    }
    fn u64(self, b: &[u8], at: usize) -> u64 {
        let mut v = [0u8; 8];
        v.copy_from_slice(&b[at..at + 8]);
        if self.little { u64::from_le_bytes(v) } else { u64::from_be_bytes(v) }
    }
    /// A word: 8 bytes in ELF64, 4 in ELF32.
    fn word(self, b: &[u8], at: usize) -> u64 {
        if self.is64 { self.u64(b, at) } else { u64::from(self.u32(b, at)) }
    }
}

struct ProgramHeader {
    kind: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

struct Section {
    kind: u32,
    offset: u64,
    size: u64,
    link: u32,
    entsize: u64,
}

fn read_vec<R: ReadAt + ?Sized>(r: &R, file_len: u64, offset: u64, len: u64, what: &str) -> Result<Vec<u8>, String> {
    let end = offset.checked_add(len).ok_or_else(|| format!("{what}: offset overflows"))?;
    if end > file_len {
        return Err(format!("{what}: bytes {offset}..{end} are past the end of the file ({file_len} bytes)"));
    }
    if len > MAX_TABLE_BYTES {
        return Err(format!("{what}: {len} bytes is over the {MAX_TABLE_BYTES} byte limit"));
    }
    let mut buf = vec![0u8; len as usize];
    r.read_exact_at(offset, &mut buf).map_err(|e| format!("{what}: {e}"))?;
    Ok(buf)
}

/// Reads the ELF properties of a file of `file_len` bytes.
pub fn parse_elf<R: ReadAt + ?Sized>(r: &R, file_len: u64) -> Result<ElfProperties, String> {
    let mut ident = [0u8; 16];
    r.read_exact_at(0, &mut ident).map_err(|_| "not an ELF file: shorter than an ELF header".to_string())?;
    if &ident[..4] != b"\x7fELF" {
        return Err("not an ELF file".to_string());
    }
    let is64 = match ident[4] {
        1 => false,
        2 => true,
        c => return Err(format!("unknown ELF class {c}")),
    };
    let little = match ident[5] {
        1 => true,
        2 => false,
        d => return Err(format!("unknown ELF data encoding {d}")),
    };
    let l = Layout { is64, little };
    let header_len = if is64 { 64 } else { 52 };
    let header = read_vec(r, file_len, 0, header_len, "ELF header")?;
    let machine = l.u16(&header, 18);
    let (phoff, shoff, rest) = if is64 {
        (l.u64(&header, 32), l.u64(&header, 40), 52)
    } else {
        (u64::from(l.u32(&header, 28)), u64::from(l.u32(&header, 32)), 40)
    };
    let phentsize = u64::from(l.u16(&header, rest + 2));
    let phnum = u64::from(l.u16(&header, rest + 4));
    let shentsize = u64::from(l.u16(&header, rest + 6));
    let shnum = u64::from(l.u16(&header, rest + 8));

    let programs = program_headers(r, file_len, l, phoff, phentsize, phnum)?;
    let stack = match programs.iter().find(|p| p.kind == PT_GNU_STACK) {
        Some(p) if p.flags & PF_X != 0 => StackExec::Executable,
        Some(_) => StackExec::NonExecutable,
        None => StackExec::Unmarked,
    };
    let dynamic = programs.iter().find(|p| p.kind == PT_DYNAMIC);
    let static_linked = dynamic.is_none() && !programs.iter().any(|p| p.kind == PT_INTERP);
    let stack_protector = if static_linked {
        StackProtector::Unknown
    } else {
        let sections = sections(r, file_len, l, shoff, shentsize, shnum)?;
        match sections.iter().find(|s| s.kind == SHT_DYNSYM) {
            Some(dynsym) => dynsym_has_protector(r, file_len, l, dynsym, &sections)?,
            None => match dynamic {
                Some(d) => dynstr_has_protector(r, file_len, l, d, &programs)?,
                None => StackProtector::Unknown,
            },
        }
    };
    Ok(ElfProperties { class: if is64 { 64 } else { 32 }, machine, static_linked, stack, stack_protector })
}

fn program_headers<R: ReadAt + ?Sized>(
    r: &R,
    file_len: u64,
    l: Layout,
    phoff: u64,
    entsize: u64,
    count: u64,
) -> Result<Vec<ProgramHeader>, String> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let min = if l.is64 { 56 } else { 32 };
    if entsize < min {
        return Err(format!("program header size {entsize} is below {min}"));
    }
    if count > MAX_PROGRAM_HEADERS {
        return Err(format!("{count} program headers is over the limit of {MAX_PROGRAM_HEADERS}"));
    }
    let table = read_vec(r, file_len, phoff, entsize * count, "program headers")?;
    Ok(table
        .chunks_exact(entsize as usize)
        .map(|e| {
            if l.is64 {
                ProgramHeader {
                    kind: l.u32(e, 0),
                    flags: l.u32(e, 4),
                    offset: l.u64(e, 8),
                    vaddr: l.u64(e, 16),
                    filesz: l.u64(e, 32),
                }
            } else {
                ProgramHeader {
                    kind: l.u32(e, 0),
                    offset: u64::from(l.u32(e, 4)),
                    vaddr: u64::from(l.u32(e, 8)),
                    filesz: u64::from(l.u32(e, 16)),
                    flags: l.u32(e, 24),
                }
            }
        })
        .collect())
}

fn sections<R: ReadAt + ?Sized>(
    r: &R,
    file_len: u64,
    l: Layout,
    shoff: u64,
    entsize: u64,
    count: u64,
) -> Result<Vec<Section>, String> {
    let min = if l.is64 { 64 } else { 40 };
    if count == 0 || shoff == 0 || entsize < min || count > MAX_SECTIONS {
        return Ok(Vec::new());
    }
    let table = read_vec(r, file_len, shoff, entsize * count, "section headers")?;
    Ok(table
        .chunks_exact(entsize as usize)
        .map(|e| Section {
            kind: l.u32(e, 4),
            offset: l.word(e, if l.is64 { 24 } else { 16 }),
            size: l.word(e, if l.is64 { 32 } else { 20 }),
            link: l.u32(e, if l.is64 { 40 } else { 24 }),
            entsize: l.word(e, if l.is64 { 56 } else { 36 }),
        })
        .collect())
}

/// The NUL-terminated name at `offset` in a string table.
fn name_at(strings: &[u8], offset: usize) -> Option<&[u8]> {
    let rest = strings.get(offset..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    Some(&rest[..end])
}

fn dynsym_has_protector<R: ReadAt + ?Sized>(
    r: &R,
    file_len: u64,
    l: Layout,
    dynsym: &Section,
    sections: &[Section],
) -> Result<StackProtector, String> {
    let strtab = sections.get(dynsym.link as usize).ok_or("dynamic symbol table links to a missing string table")?;
    let min = if l.is64 { 24 } else { 16 };
    if dynsym.entsize < min {
        return Err(format!("dynamic symbol size {} is below {min}", dynsym.entsize));
    }
    let symbols = read_vec(r, file_len, dynsym.offset, dynsym.size, "dynamic symbols")?;
    let strings = read_vec(r, file_len, strtab.offset, strtab.size, "dynamic strings")?;
    let found = symbols.chunks_exact(dynsym.entsize as usize).any(|sym| {
        let name = l.u32(sym, 0) as usize;
        name_at(&strings, name).is_some_and(|n| STACK_PROTECTOR_SYMBOLS.contains(&n))
    });
    Ok(if found { StackProtector::Present } else { StackProtector::Absent })
}

/// Without section headers: the dynamic string table `PT_DYNAMIC` names
/// (`DT_STRTAB` is an address, mapped to a file offset through `PT_LOAD`).
fn dynstr_has_protector<R: ReadAt + ?Sized>(
    r: &R,
    file_len: u64,
    l: Layout,
    dynamic: &ProgramHeader,
    programs: &[ProgramHeader],
) -> Result<StackProtector, String> {
    let entries = read_vec(r, file_len, dynamic.offset, dynamic.filesz, "dynamic section")?;
    let entsize = if l.is64 { 16 } else { 8 };
    let (mut strtab, mut strsz) = (None, None);
    for e in entries.chunks_exact(entsize) {
        let tag = l.word(e, 0);
        let value = l.word(e, entsize / 2);
        match tag {
            DT_NULL => break,
            DT_STRTAB => strtab = Some(value),
            DT_STRSZ => strsz = Some(value),
            _ => {}
        }
    }
    let (Some(addr), Some(size)) = (strtab, strsz) else { return Ok(StackProtector::Unknown) };
    let Some(offset) = programs
        .iter()
        .filter(|p| p.kind == PT_LOAD)
        .find(|p| addr >= p.vaddr && addr - p.vaddr < p.filesz)
        .and_then(|p| p.offset.checked_add(addr - p.vaddr))
    else {
        return Ok(StackProtector::Unknown);
    };
    let strings = read_vec(r, file_len, offset, size, "dynamic strings")?;
    let found = strings.split(|&b| b == 0).any(|name| STACK_PROTECTOR_SYMBOLS.contains(&name));
    Ok(if found { StackProtector::Present } else { StackProtector::Absent })
}

/// A file's identity as the kernel sees it: if none of these changed, the
/// content did not either (short of deliberate timestamp forgery, which
/// `ctime` prevents for anyone but root).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileIdentity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl FileIdentity {
    /// Of an open file.
    pub fn of(file: &File) -> std::io::Result<FileIdentity> {
        use std::os::unix::fs::MetadataExt;
        let m = file.metadata()?;
        Ok(FileIdentity {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            ctime_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
        })
    }
    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// A map that keeps at most `capacity` entries, forgetting the oldest
/// inserted first (the set of running programs changes slowly, so insertion
/// order is as good as recency here, and cheaper).
#[derive(Debug)]
pub struct BoundedCache<K, V> {
    capacity: usize,
    map: HashMap<K, V>,
    order: VecDeque<K>,
}

impl<K: std::hash::Hash + Eq + Clone, V> BoundedCache<K, V> {
    /// An empty cache.
    pub fn new(capacity: usize) -> Self {
        BoundedCache { capacity: capacity.max(1), map: HashMap::new(), order: VecDeque::new() }
    }
    /// The value of a key.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }
    /// Inserts, evicting the oldest entry when full.
    pub fn insert(&mut self, key: K, value: V) {
        if self.map.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
            while self.order.len() > self.capacity {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }
    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// SHA-256 of a whole file, hex, read in 64 KiB blocks.
pub fn sha256_hex(file: &mut File) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The content hash and ELF properties (or why there are none) of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutableFacts {
    /// SHA-256, hex.
    pub sha256: String,
    /// The properties, or why they could not be read.
    pub elf: Result<ElfProperties, String>,
}

/// Hashes and ELF results, cached: a file identity maps to its hash (so an
/// unchanged file is not read again), a hash maps to its ELF properties (so
/// the same program under several paths is parsed once).
#[derive(Debug)]
pub struct ElfCache {
    hashes: BoundedCache<FileIdentity, String>,
    properties: BoundedCache<String, Result<ElfProperties, String>>,
    /// Files hashed and parsed (cache misses), for the benchmark.
    pub misses: u64,
}

impl ElfCache {
    /// A cache of at most `capacity` files.
    pub fn new(capacity: usize) -> Self {
        ElfCache { hashes: BoundedCache::new(capacity), properties: BoundedCache::new(capacity), misses: 0 }
    }

    /// The facts of an open executable.
    pub fn facts(&mut self, file: &mut File) -> Result<ExecutableFacts, String> {
        let identity = FileIdentity::of(file).map_err(|e| e.to_string())?;
        let sha256 = match self.hashes.get(&identity) {
            Some(h) => h.clone(),
            None => {
                self.misses += 1;
                let h = sha256_hex(file).map_err(|e| e.to_string())?;
                self.hashes.insert(identity, h.clone());
                h
            }
        };
        let elf = match self.properties.get(&sha256) {
            Some(p) => p.clone(),
            None => {
                let p = parse_elf(file, identity.size());
                self.properties.insert(sha256.clone(), p.clone());
                p
            }
        };
        Ok(ExecutableFacts { sha256, elf })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal 64-bit little-endian ELF: header, `phdrs` program headers,
    /// then optionally a dynamic symbol table naming `symbol`.
    pub(crate) fn tiny_elf(stack_flags: Option<u32>, symbol: Option<&str>, dynamic: bool) -> Vec<u8> {
        let mut phdrs: Vec<(u32, u32)> = Vec::new();
        if let Some(f) = stack_flags {
            phdrs.push((PT_GNU_STACK, f));
        }
        if dynamic {
            phdrs.push((PT_INTERP, 4));
        }
        let phoff = 64u64;
        let mut out = vec![0u8; 64];
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = 2;
        out[5] = 1;
        out[6] = 1;
        out[16..18].copy_from_slice(&2u16.to_le_bytes());
        out[18..20].copy_from_slice(&62u16.to_le_bytes());
        out[32..40].copy_from_slice(&phoff.to_le_bytes());
        out[54..56].copy_from_slice(&56u16.to_le_bytes());
        out[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
        for (kind, flags) in &phdrs {
            let mut p = vec![0u8; 56];
            p[0..4].copy_from_slice(&kind.to_le_bytes());
            p[4..8].copy_from_slice(&flags.to_le_bytes());
            out.extend(p);
        }
        if let Some(name) = symbol {
            // strtab: "\0name\0"; dynsym: null symbol + one naming offset 1.
            let strtab_off = out.len() as u64;
            let mut strings = vec![0u8];
            strings.extend(name.as_bytes());
            strings.push(0);
            out.extend(&strings);
            let dynsym_off = out.len() as u64;
            out.extend(vec![0u8; 24]);
            let mut sym = vec![0u8; 24];
            sym[0..4].copy_from_slice(&1u32.to_le_bytes());
            out.extend(sym);
            let shoff = out.len() as u64;
            let section = |kind: u32, offset: u64, size: u64, link: u32, entsize: u64| {
                let mut s = vec![0u8; 64];
                s[4..8].copy_from_slice(&kind.to_le_bytes());
                s[24..32].copy_from_slice(&offset.to_le_bytes());
                s[32..40].copy_from_slice(&size.to_le_bytes());
                s[40..44].copy_from_slice(&link.to_le_bytes());
                s[56..64].copy_from_slice(&entsize.to_le_bytes());
                s
            };
            out.extend(section(0, 0, 0, 0, 0));
            out.extend(section(3, strtab_off, strings.len() as u64, 0, 0));
            out.extend(section(SHT_DYNSYM, dynsym_off, 48, 1, 24));
            out[40..48].copy_from_slice(&shoff.to_le_bytes());
            out[58..60].copy_from_slice(&64u16.to_le_bytes());
            out[60..62].copy_from_slice(&3u16.to_le_bytes());
        }
        out
    }

    fn parse(bytes: &[u8]) -> Result<ElfProperties, String> {
        parse_elf(bytes, bytes.len() as u64)
    }

    #[test]
    fn stack_marking_and_protector_are_read() {
        let p = parse(&tiny_elf(Some(6), Some("__stack_chk_fail"), true)).unwrap();
        assert_eq!((p.class, p.machine, p.static_linked), (64, 62, false));
        assert_eq!((p.stack, p.stack_protector), (StackExec::NonExecutable, StackProtector::Present));
        let p = parse(&tiny_elf(Some(7), Some("puts"), true)).unwrap();
        assert_eq!((p.stack, p.stack_protector), (StackExec::Executable, StackProtector::Absent));
        let p = parse(&tiny_elf(None, None, false)).unwrap();
        assert_eq!((p.stack, p.stack_protector, p.static_linked), (StackExec::Unmarked, StackProtector::Unknown, true));
        assert_eq!(
            parse(&tiny_elf(Some(6), Some("__stack_chk_fail_local"), true)).unwrap().stack_protector,
            StackProtector::Present
        );
    }

    #[test]
    fn bad_files_are_errors() {
        assert_eq!(parse(b"").unwrap_err(), "not an ELF file: shorter than an ELF header");
        assert_eq!(parse(b"#!/bin/sh\necho hello world\n").unwrap_err(), "not an ELF file");
        let mut bad = tiny_elf(Some(6), Some("puts"), true);
        bad[4] = 9;
        assert!(parse(&bad).unwrap_err().contains("class 9"));
        let whole = tiny_elf(Some(6), Some("puts"), true);
        let truncated = &whole[..whole.len() - 10];
        assert!(parse(truncated).unwrap_err().contains("past the end"), "{:?}", parse(truncated));
        let mut many = tiny_elf(Some(6), None, true);
        many[56..58].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(parse(&many).is_err());
    }

    #[test]
    fn this_test_binary_is_read_from_disk() {
        let mut file = File::open("/proc/self/exe").unwrap();
        let mut cache = ElfCache::new(4);
        let facts = cache.facts(&mut file).unwrap();
        let elf = facts.elf.unwrap();
        assert_eq!(facts.sha256.len(), 64);
        assert_eq!(elf.stack, StackExec::NonExecutable, "rustc marks the stack non-executable");
        let again = cache.facts(&mut file).unwrap();
        assert_eq!((again.sha256, cache.misses), (facts.sha256, 1), "the second look is a cache hit");
    }

    #[test]
    fn bounded_cache_forgets_the_oldest() {
        let mut c = BoundedCache::new(2);
        c.insert(1, "a");
        c.insert(2, "b");
        c.insert(1, "a2");
        c.insert(3, "c");
        assert_eq!((c.get(&1), c.get(&2), c.get(&3), c.len()), (None, Some(&"b"), Some(&"c"), 2));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn mutated_and_truncated_elves_never_panic(
            stack in proptest::option::of(0u32..8),
            protector in proptest::prelude::any::<bool>(),
            cut in 0usize..600,
            flips in proptest::collection::vec((0usize..600, proptest::prelude::any::<u8>()), 0..12),
        ) {
            let mut bytes = tiny_elf(stack, Some(if protector { "__stack_chk_fail" } else { "memcpy" }), true);
            for (at, value) in flips {
                if let Some(b) = bytes.get_mut(at) { *b = value; }
            }
            let len = bytes.len();
            let _ = parse(&bytes[..cut.min(len)]);
            // A claimed file length larger than the bytes must be an error too, not a panic.
            let _ = parse_elf(&bytes[..], u64::MAX);
        }
    }
}
