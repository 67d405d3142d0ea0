//! Facts only a running kernel has: ASLR, NX evidence, listening sockets.
//!
//! Why it exists: some Inspector-style checks are about the running system,
//! not its configuration files: whether ASLR is on now, whether the CPU and
//! kernel enforce NX, and which programs accept network connections. These
//! are read from the machine's own /proc (and /dev/kmsg), so `lib.rs` calls
//! this module only when the assessed root is `/`.
//!
//! Semantics:
//! - `randomize_va_space` is `/proc/sys/kernel/randomize_va_space`, trimmed.
//! - NX: the architecture is `uname(2)`'s machine field; on x86 the CPU flag
//!   is whether EVERY `flags` line of `/proc/cpuinfo` has the word `nx`
//!   (`None` elsewhere or when no flags line is readable); the kernel's boot
//!   message (`NX (Execute Disable) protection: active`) is searched in the
//!   kernel log read non-blockingly from `/dev/kmsg`, bounded in bytes,
//!   records and time, and is `None` when unreadable or rotated out.
//! - Listening sockets: `/proc/net/{tcp,tcp6}` in state `0A` (LISTEN) and
//!   `/proc/net/{udp,udp6}` in state `07` with an all-zero remote address
//!   (bound, unconnected). Addresses are printed by the kernel as 32-bit
//!   words in host byte order, ports in big-endian hex. A missing file (e.g.
//!   IPv6 disabled) is skipped; the fact fails only when none can be read.
//!   The owner is the LOWEST pid with an fd linking to `socket:[INODE]`
//!   (usually the parent of a pre-forking server); processes that vanish or
//!   cannot be inspected are skipped. Sorted by (transport, port, address).

use std::collections::{HashMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use warden_model::{Fact, KernelFacts, ListeningSocket, NxSupport, Problem, Source, Sourced, Transport};

use crate::ids::IdMap;
use crate::rootfs::read_host_file;

const RANDOMIZE_VA_SPACE: &str = "/proc/sys/kernel/randomize_va_space";
const CPUINFO: &str = "/proc/cpuinfo";
const CMDLINE: &str = "/proc/cmdline";
const KMSG: &str = "/dev/kmsg";
/// The kernel's NX boot message (arch/x86/mm/setup_nx.c).
pub const NX_MESSAGE_MARKER: &str = "NX (Execute Disable) protection:";
/// Size bound for one /proc text file.
const PROC_FILE_LIMIT: u64 = 64 * 1024 * 1024;

/// Bounds of the `/dev/kmsg` read: it must never hold collection up.
const KMSG_MAX_BYTES: usize = 2 * 1024 * 1024;
const KMSG_MAX_RECORDS: usize = 20_000;
const KMSG_MAX_TIME: Duration = Duration::from_millis(50);

/// Live kernel facts (ASLR and NX).
pub fn kernel() -> KernelFacts {
    let randomize_va_space = match read_host_file(RANDOMIZE_VA_SPACE, 4096) {
        Ok(text) => Fact::collected(Sourced::new(
            text.trim().to_string(),
            Source::Kernel { path: RANDOMIZE_VA_SPACE.to_string() },
        )),
        Err(problem) => Fact::Failed { problem },
    };
    KernelFacts { randomize_va_space, nx: nx_support() }
}

fn nx_support() -> Fact<NxSupport> {
    let Some(arch) = machine() else {
        return Fact::Failed { problem: Problem::file("uname(2)", "cannot read the machine architecture") };
    };
    let cpu_flag_nx = if is_x86(&arch) {
        read_host_file(CPUINFO, PROC_FILE_LIMIT).ok().and_then(|text| cpuinfo_has_nx(&text))
    } else {
        None
    };
    let cmdline = read_host_file(CMDLINE, 1024 * 1024).ok().map(|text| text.trim().to_string());
    Fact::collected(NxSupport { arch, cpu_flag_nx, kernel_message: kmsg_nx_message(), cmdline })
}

/// The machine field of `uname(2)`, e.g. `x86_64`.
pub fn machine() -> Option<String> {
    // SAFETY: utsname is plain old data; uname fills it with NUL-terminated strings.
    let mut names: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut names) } != 0 {
        return None;
    }
    let bytes: Vec<u8> = names.machine.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    let machine = String::from_utf8_lossy(&bytes).into_owned();
    (!machine.is_empty()).then_some(machine)
}

/// Whether `arch` is an x86 architecture, where `/proc/cpuinfo` has an `nx` flag.
pub fn is_x86(arch: &str) -> bool {
    matches!(arch, "x86_64" | "i386" | "i486" | "i586" | "i686" | "x86")
}

/// Whether every `flags` line of `/proc/cpuinfo` text lists `nx`; `None`
/// when there is no flags line.
pub fn cpuinfo_has_nx(text: &str) -> Option<bool> {
    let mut seen = false;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        if key.trim() != "flags" {
            continue;
        }
        seen = true;
        if !value.split_whitespace().any(|flag| flag == "nx") {
            return Some(false);
        }
    }
    seen.then_some(true)
}

/// The kernel's NX boot message from `/dev/kmsg`, read without blocking.
fn kmsg_nx_message() -> Option<String> {
    let mut kmsg = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC).open(KMSG).ok()?;
    // One read() returns one record; records are at most ~1 KiB plus
    // dictionary lines, and a too-small buffer fails with EINVAL.
    let mut buf = vec![0u8; 16 * 1024];
    let started = Instant::now();
    let (mut bytes, mut records) = (0usize, 0usize);
    while bytes < KMSG_MAX_BYTES && records < KMSG_MAX_RECORDS && started.elapsed() < KMSG_MAX_TIME {
        match kmsg.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                bytes += n;
                records += 1;
                if let Some(message) = buf.get(..n).and_then(nx_message_in_record) {
                    return Some(message);
                }
            }
            // EPIPE: the record was overwritten while we read; the next read goes on.
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // EAGAIN (end of the log) or anything else: stop.
            Err(_) => break,
        }
    }
    None
}

/// The message of one `/dev/kmsg` record (`pri,seq,ts,flags;message\n`
/// followed by ` KEY=value` lines) when it is the NX boot message.
pub fn nx_message_in_record(record: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(record);
    let (_, rest) = text.split_once(';')?;
    let message = rest.lines().next()?.trim();
    let at = message.find(NX_MESSAGE_MARKER)?;
    message.get(at..).map(str::to_string)
}

/// One socket line of `/proc/net/{tcp,tcp6,udp,udp6}`, before owners are known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcNetSocket {
    /// TCP or UDP.
    pub transport: Transport,
    /// Local address.
    pub local: IpAddr,
    /// Local port.
    pub port: u16,
    /// Remote address.
    pub remote: IpAddr,
    /// Remote port.
    pub remote_port: u16,
    /// Kernel socket state (`0x0A` = TCP LISTEN, `0x07` = UDP unconnected/closed).
    pub state: u8,
    /// Owning uid.
    pub uid: u32,
    /// Socket inode.
    pub inode: u64,
}

impl ProcNetSocket {
    /// Whether the socket accepts traffic from anyone: a listening TCP
    /// socket, or a bound UDP socket that is not connected to a peer.
    pub fn is_listening(&self) -> bool {
        match self.transport {
            Transport::Tcp => self.state == 0x0A,
            Transport::Udp => self.state == 0x07 && self.remote.is_unspecified() && self.remote_port == 0,
        }
    }
}

/// Parses a `/proc/net` socket table; the header and malformed lines are skipped.
pub fn parse_proc_net(text: &str, transport: Transport) -> Vec<ProcNetSocket> {
    text.lines().filter_map(|line| parse_proc_net_line(line, transport)).collect()
}

/// Parses one socket line (`sl local rem st queues tr retrnsmt uid timeout inode ...`).
pub fn parse_proc_net_line(line: &str, transport: Transport) -> Option<ProcNetSocket> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 10 || !fields[0].ends_with(':') {
        return None;
    }
    let (local, port) = parse_endpoint(fields[1])?;
    let (remote, remote_port) = parse_endpoint(fields[2])?;
    Some(ProcNetSocket {
        transport,
        local,
        port,
        remote,
        remote_port,
        state: u8::from_str_radix(fields[3], 16).ok()?,
        uid: fields[7].parse().ok()?,
        inode: fields[9].parse().ok()?,
    })
}

/// `ADDR:PORT` as the kernel prints it: the address as 32-bit words in host
/// byte order (8 hex digits for IPv4, 32 for IPv6), the port in hex.
pub fn parse_endpoint(text: &str) -> Option<(IpAddr, u16)> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |hex: &str| u32::from_str_radix(hex, 16).ok().map(u32::to_ne_bytes);
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(addr)?)),
        32 => {
            let mut octets = [0u8; 16];
            for (i, chunk) in octets.chunks_mut(4).enumerate() {
                chunk.copy_from_slice(&word(addr.get(i * 8..i * 8 + 8)?)?);
            }
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => return None,
    };
    Some((ip, port))
}

/// The socket tables under a proc root, relative to it, with their transport.
pub const SOCKET_TABLES: [(&str, Transport); 4] = [
    ("net/tcp", Transport::Tcp),
    ("net/tcp6", Transport::Tcp),
    ("net/udp", Transport::Udp),
    ("net/udp6", Transport::Udp),
];

/// Every socket of `/proc/net/{tcp,tcp6,udp,udp6}` under `proc_root`. A
/// missing table (e.g. IPv6 disabled) is skipped; it fails only when none
/// can be read.
pub fn read_socket_tables(proc_root: &Path) -> Result<Vec<ProcNetSocket>, Problem> {
    let mut sockets = Vec::new();
    let mut first_problem = None;
    let mut read_any = false;
    for (name, transport) in SOCKET_TABLES {
        let path = proc_root.join(name);
        match read_host_file(&path.to_string_lossy(), PROC_FILE_LIMIT) {
            Ok(text) => {
                read_any = true;
                sockets.extend(parse_proc_net(&text, transport));
            }
            Err(problem) => {
                first_problem.get_or_insert(problem);
            }
        }
    }
    if !read_any {
        let shown = proc_root.join("net").display().to_string();
        return Err(first_problem.unwrap_or_else(|| Problem::file(shown, "no socket table could be read")));
    }
    Ok(sockets)
}

/// Listening TCP and UDP sockets of the running system with their owners.
pub fn listening(ids: &IdMap) -> Fact<Vec<ListeningSocket>> {
    let proc_root = Path::new("/proc");
    let mut sockets = match read_socket_tables(proc_root) {
        Ok(all) => all.into_iter().filter(ProcNetSocket::is_listening).collect::<Vec<_>>(),
        Err(problem) => return Fact::Failed { problem },
    };
    let wanted: HashSet<u64> = sockets.iter().map(|s| s.inode).filter(|&inode| inode != 0).collect();
    let owners = socket_owners(proc_root, &wanted);
    let mut processes: HashMap<u32, (Option<String>, Option<String>)> = HashMap::new();
    sockets.sort_by(|a, b| {
        (transport_rank(a.transport), a.port, a.local, a.inode).cmp(&(
            transport_rank(b.transport),
            b.port,
            b.local,
            b.inode,
        ))
    });
    let out = sockets
        .into_iter()
        .map(|s| {
            let pid = owners.get(&s.inode).copied();
            let (process, exe) = match pid {
                Some(pid) => processes.entry(pid).or_insert_with(|| process_identity(pid)).clone(),
                None => (None, None),
            };
            ListeningSocket {
                transport: s.transport,
                address: s.local.to_string(),
                port: s.port,
                inode: s.inode,
                uid: s.uid,
                user: ids.user(s.uid),
                pid,
                process,
                exe,
            }
        })
        .collect();
    Fact::collected(out)
}

fn transport_rank(transport: Transport) -> u8 {
    match transport {
        Transport::Tcp => 0,
        Transport::Udp => 1,
    }
}

/// Socket inode → lowest pid holding it, for the inodes in `wanted`, from
/// the `fd` links of every process under `proc_root`.
pub fn socket_owners(proc_root: &Path, wanted: &HashSet<u64>) -> HashMap<u64, u32> {
    let mut owners = HashMap::new();
    if wanted.is_empty() {
        return owners;
    }
    let Ok(proc_dir) = fs::read_dir(proc_root) else { return owners };
    let mut pids: Vec<u32> = proc_dir
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| std::str::from_utf8(entry.file_name().as_bytes()).ok()?.parse().ok())
        .collect();
    pids.sort_unstable();
    for pid in pids {
        // A process that exits, or that we may not inspect, is skipped.
        let Ok(fds) = fs::read_dir(proc_root.join(pid.to_string()).join("fd")) else { continue };
        for fd in fds.filter_map(|entry| entry.ok()) {
            let Ok(target) = fs::read_link(fd.path()) else { continue };
            if let Some(inode) = socket_inode(target.as_os_str().as_bytes()).filter(|inode| wanted.contains(inode)) {
                owners.entry(inode).or_insert(pid);
            }
        }
        if owners.len() == wanted.len() {
            break;
        }
    }
    owners
}

/// The inode of an fd link target `socket:[INODE]`.
pub fn socket_inode(link: &[u8]) -> Option<u64> {
    let inner = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    std::str::from_utf8(inner).ok()?.parse().ok()
}

/// `/proc/PID/comm` and the `/proc/PID/exe` link target, each when readable.
fn process_identity(pid: u32) -> (Option<String>, Option<String>) {
    let comm = read_host_file(&format!("/proc/{pid}/comm"), 4096).ok().map(|c| c.trim_end_matches('\n').to_string());
    let exe = fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .map(|p| String::from_utf8_lossy(p.as_os_str().as_bytes()).into_owned());
    (comm, exe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::net::{TcpListener, UdpSocket};

    fn c_field(field: &[libc::c_char]) -> String {
        // SAFETY: the slice comes from a utsname, NUL-terminated by the kernel.
        unsafe { CStr::from_ptr(field.as_ptr()) }.to_string_lossy().into_owned()
    }

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/proc-net/{name}", env!("CARGO_MANIFEST_DIR"));
        fs::read_to_string(path).expect("fixture exists")
    }

    fn listening_of(name: &str, transport: Transport) -> Vec<(String, u16, u32, u64)> {
        parse_proc_net(&fixture(name), transport)
            .into_iter()
            .filter(ProcNetSocket::is_listening)
            .map(|s| (s.local.to_string(), s.port, s.uid, s.inode))
            .collect()
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn proc_net_tables_parse_to_addresses_and_ports() {
        assert_eq!(
            listening_of("tcp", Transport::Tcp),
            [
                ("0.0.0.0".to_string(), 22, 0, 21934),
                ("127.0.0.1".to_string(), 631, 0, 24517),
                ("127.0.0.53".to_string(), 53, 101, 19052),
            ]
        );
        assert_eq!(
            listening_of("tcp6", Transport::Tcp),
            [
                ("::".to_string(), 22, 0, 21936),
                ("::1".to_string(), 631, 0, 24516),
                ("::ffff:127.0.0.1".to_string(), 8080, 1000, 51234),
            ]
        );
        assert_eq!(
            listening_of("udp", Transport::Udp),
            [("127.0.0.53".to_string(), 53, 101, 19051), ("0.0.0.0".to_string(), 68, 0, 20871)]
        );
        assert_eq!(listening_of("udp6", Transport::Udp), [("::".to_string(), 546, 0, 20990)]);
        // Established connections parse too, and are not listening.
        let all = parse_proc_net(&fixture("tcp6"), Transport::Tcp);
        assert_eq!(all.len(), 4);
        assert_eq!(all[3].local.to_string(), "fe80::5054:ff:fe1e:acb6");
        assert_eq!(all[3].remote_port, 50000);
        assert!(!all[3].is_listening());
    }

    #[test]
    fn malformed_lines_are_skipped() {
        assert_eq!(parse_proc_net_line("  sl  local_address rem_address   st", Transport::Tcp), None);
        assert_eq!(parse_proc_net_line("0: 0100007F:XYZ 00000000:0000 0A a b c 0 0 1", Transport::Tcp), None);
        assert_eq!(parse_endpoint("0100007:0016"), None);
        assert_eq!(parse_endpoint("ÿÿÿÿÿÿÿÿ:0016"), None);
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"socket:[12"), None);
    }

    #[test]
    fn cpuinfo_and_kmsg_records() {
        assert_eq!(cpuinfo_has_nx(&fixture("cpuinfo-x86")), Some(true));
        assert_eq!(cpuinfo_has_nx("flags\t: fpu vme nxx\nflags : nx\n"), Some(false));
        assert_eq!(cpuinfo_has_nx("processor : 0\nFeatures : fp asimd\n"), None);
        assert_eq!(
            nx_message_in_record(b"6,128,0,-;NX (Execute Disable) protection: active\n SUBSYSTEM=x\n").as_deref(),
            Some("NX (Execute Disable) protection: active")
        );
        assert_eq!(nx_message_in_record(b"6,129,0,-;x86/fpu: Supporting XSAVE feature\n"), None);
        assert_eq!(nx_message_in_record(b"no separator NX (Execute Disable) protection: active"), None);
        assert!(is_x86("x86_64") && is_x86("i686") && !is_x86("aarch64"));
    }

    #[test]
    fn kernel_facts_are_read_without_hanging() {
        let started = Instant::now();
        let facts = kernel();
        assert!(started.elapsed() < Duration::from_secs(2), "kernel facts took {:?}", started.elapsed());
        let aslr = facts.randomize_va_space.value().cloned().unwrap();
        assert!(["0", "1", "2"].contains(&aslr.value.as_str()), "{aslr:?}");
        let nx = facts.nx.value().cloned().unwrap();
        let mut names: libc::utsname = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::uname(&mut names) }, 0);
        assert_eq!(nx.arch, c_field(&names.machine));
        assert_eq!(nx.cpu_flag_nx.is_some(), is_x86(&nx.arch));
        eprintln!(
            "live: arch={} nx_flag={:?} kmsg={:?} in {:?}",
            nx.arch,
            nx.cpu_flag_nx,
            nx.kernel_message,
            started.elapsed()
        );
    }

    #[test]
    fn listening_finds_this_process_sockets() {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp_port = tcp.local_addr().unwrap().port();
        let udp = UdpSocket::bind("[::1]:0").ok();
        let started = Instant::now();
        let fact = listening(&IdMap::default());
        eprintln!("live: listening() in {:?}", started.elapsed());
        let sockets = fact.value().cloned().unwrap();
        let me = std::process::id();
        let exe = fs::read_link("/proc/self/exe").unwrap().display().to_string();
        let found = sockets
            .iter()
            .find(|s| s.transport == Transport::Tcp && s.port == tcp_port && s.address == "127.0.0.1")
            .unwrap_or_else(|| panic!("tcp 127.0.0.1:{tcp_port} not in {sockets:?}"));
        assert_eq!((found.pid, found.exe.as_deref()), (Some(me), Some(exe.as_str())));
        assert!(found.process.is_some());
        if let Some(udp) = udp {
            let port = udp.local_addr().unwrap().port();
            let found = sockets
                .iter()
                .find(|s| s.transport == Transport::Udp && s.port == port && s.address == "::1")
                .unwrap_or_else(|| panic!("udp [::1]:{port} not in {sockets:?}"));
            assert_eq!(found.pid, Some(me));
        }
        let keys: Vec<(u8, u16, IpAddr)> =
            sockets.iter().map(|s| (transport_rank(s.transport), s.port, s.address.parse().unwrap())).collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]), "not sorted: {keys:?}");
    }

    proptest::proptest! {
        #[test]
        fn proc_net_parser_never_panics(s in "\\PC*") {
            let _ = parse_proc_net(&s, Transport::Tcp);
            let _ = parse_endpoint(&s);
        }
        #[test]
        fn proc_net_parser_never_panics_on_near_misses(s in "( *[0-9]+: [0-9A-Fa-f]{0,33}:[0-9A-F]{0,5} [0-9A-F:]{0,40} [0-9A-F]{0,3}( [0-9:]+){0,9}\n)*") {
            let _ = parse_proc_net(&s, Transport::Udp);
        }
        #[test]
        fn cpuinfo_and_kmsg_parsers_never_panic(s in "\\PC*") {
            let _ = cpuinfo_has_nx(&s);
            let _ = nx_message_in_record(s.as_bytes());
        }
    }
}
