//! The process table of one sample: pid, parent, start time, command name,
//! effective uid and executable, from `/proc/PID/{stat,status,exe}`.
//!
//! Why it exists: every other runtime table is about a process (who
//! listens, who connects, which root process maps which library, which
//! executables run), and the process table is read once per sample and
//! shared. Only `stat`, `status` and the `exe` link are read: never
//! `cmdline`, `environ` or memory, which may hold secrets.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// One process as sampled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: u32,
    /// Parent pid.
    pub ppid: u32,
    /// Start time in clock ticks since boot (`stat` field 22): with the pid,
    /// it tells a process from a later one that reuses the pid.
    pub start_time: u64,
    /// Command name (`stat` field 2, without the parentheses).
    pub comm: String,
    /// Effective uid (`status` `Uid:` second field).
    pub euid: u32,
    /// The `exe` link target; `None` for kernel threads and processes we may not inspect.
    pub exe: Option<String>,
}

/// The fields of `/proc/PID/stat` Warden uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatFields {
    /// Command name.
    pub comm: String,
    /// Parent pid.
    pub ppid: u32,
    /// Start time (clock ticks since boot).
    pub start_time: u64,
}

/// Parses `/proc/PID/stat`. The command name may hold spaces and
/// parentheses, so it runs from the first `(` to the LAST `)`.
pub fn parse_stat(text: &str) -> Option<StatFields> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state); ppid is field 4, starttime field 22.
    Some(StatFields { comm, ppid: rest.get(1)?.parse().ok()?, start_time: rest.get(19)?.parse().ok()? })
}

/// The effective uid from `/proc/PID/status` (`Uid: real effective saved fs`).
pub fn parse_status_euid(text: &str) -> Option<u32> {
    let line = text.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Pids under a proc root, ascending.
pub fn pids(proc_root: &Path) -> std::io::Result<Vec<u32>> {
    let mut pids: Vec<u32> = fs::read_dir(proc_root)?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| std::str::from_utf8(entry.file_name().as_bytes()).ok()?.parse().ok())
        .collect();
    pids.sort_unstable();
    Ok(pids)
}

/// The `exe` link of a process, as text.
pub fn exe_of(proc_root: &Path, pid: u32) -> Option<String> {
    let target = fs::read_link(proc_root.join(pid.to_string()).join("exe")).ok()?;
    Some(String::from_utf8_lossy(target.as_os_str().as_bytes()).into_owned())
}

/// Reads every process under `proc_root`; processes that exit while being
/// read, or whose `stat`/`status` cannot be parsed, are skipped (a race, not
/// an error: the next sample sees the host as it is then).
pub fn read_processes(proc_root: &Path, skip_pid: Option<u32>) -> std::io::Result<BTreeMap<u32, ProcessInfo>> {
    let mut out = BTreeMap::new();
    for pid in pids(proc_root)? {
        if Some(pid) == skip_pid {
            continue;
        }
        let dir = proc_root.join(pid.to_string());
        let Some(stat) = fs::read_to_string(dir.join("stat")).ok().and_then(|t| parse_stat(&t)) else { continue };
        let Some(euid) = fs::read_to_string(dir.join("status")).ok().and_then(|t| parse_status_euid(&t)) else {
            continue;
        };
        out.insert(
            pid,
            ProcessInfo {
                pid,
                ppid: stat.ppid,
                start_time: stat.start_time,
                comm: stat.comm,
                euid,
                exe: exe_of(proc_root, pid),
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "1234 (my (odd) prog) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";

    #[test]
    fn stat_and_status_fields() {
        assert_eq!(parse_stat(STAT), Some(StatFields { comm: "my (odd) prog".into(), ppid: 1, start_time: 98765 }));
        assert_eq!(parse_stat("1 (x) S"), None);
        assert_eq!(parse_status_euid("Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n"), Some(0));
        assert_eq!(parse_status_euid("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_is_read() {
        let me = std::process::id();
        let table = read_processes(Path::new("/proc"), None).unwrap();
        let info = table.get(&me).expect("this process is listed");
        assert_eq!(info.exe, Some(fs::read_link("/proc/self/exe").unwrap().display().to_string()));
        // SAFETY: geteuid and getppid cannot fail.
        assert_eq!((info.euid, info.ppid), (unsafe { libc::geteuid() }, unsafe { libc::getppid() } as u32));
        assert!(!read_processes(Path::new("/proc"), Some(me)).unwrap().contains_key(&me));
    }

    proptest::proptest! {
        #[test]
        fn stat_and_status_parsers_never_panic(s in "\\PC*") {
            let _ = parse_stat(&s);
            let _ = parse_status_euid(&s);
        }
        #[test]
        fn stat_parser_reads_any_comm(comm in "[^\n]{0,20}", ppid in 0u32..1_000_000, start in 0u64..u64::MAX) {
            let line = format!("7 ({comm}) R {ppid} 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {start} 0 0\n");
            let parsed = parse_stat(&line).unwrap();
            proptest::prop_assert_eq!(parsed, StatFields { comm, ppid, start_time: start });
        }
    }
}
