//! ASLR and DEP: properties of the running kernel.
//!
//! Semantics: both are live facts. On a live host the running kernel decides
//! (`/proc/sys/kernel/randomize_va_space`; CPU `nx` flag, the kernel's boot
//! message and command line). What is persisted for the next boot (sysctl
//! configuration, the boot loader's kernel command line) can only make the rule
//! fail: a host that is safe now but weakens itself at the next reboot fails.
//! On a root directory (no running kernel) a persisted setting decides when
//! there is one; otherwise the rule could not be evaluated.

use warden_model::{Evidence, Fact, Severity, Snapshot, Sourced};

use super::super::evidence::{from_sourced, message_only};
use crate::{RuleMeta, Verdict};

pub const ASLR: RuleMeta = RuleMeta {
    id: "sbp-aslr",
    title: "Enable ASLR",
    severity: Severity::Medium,
    description: "Checks that address space layout randomization is fully on: `kernel.randomize_va_space` must \
        be 2 (stack, mmap, VDSO and heap randomized) in the running kernel and wherever it is persisted \
        (/etc/sysctl.conf, sysctl.d), and `norandmaps` must not be on the kernel command line. Without ASLR, \
        memory-corruption exploits know where code and data lie.",
    recommendation: "Run `sysctl -w kernel.randomize_va_space=2`, set `kernel.randomize_va_space = 2` in a file \
        under /etc/sysctl.d, and remove `norandmaps` from the boot loader's kernel command line.",
};

pub const DEP: RuleMeta = RuleMeta {
    id: "sbp-dep",
    title: "Enable DEP",
    severity: Severity::Medium,
    description: "Checks that data execution prevention (NX / execute-disable) is available and on: on x86 the \
        CPU must advertise `nx`, the kernel must not report NX protection disabled, and `noexec=off` must not be \
        on the running or persisted kernel command line. arm64 always has execute-never. Without NX, injected \
        data can be executed as code.",
    recommendation: "Enable NX/XD (\"Execute Disable\") in the firmware or hypervisor settings, use a 64-bit or \
        PAE kernel, and remove `noexec=off` from the boot loader's kernel command line.",
};

/// Persisted kernel command-line entries that contain `token` as a word.
fn persisted_cmdline_with<'a>(snapshot: &'a Snapshot, token: &str) -> Vec<&'a Sourced<String>> {
    snapshot
        .boot_cmdline
        .value()
        .map(|v| v.iter().filter(|s| s.value.split_whitespace().any(|w| w == token)).collect())
        .unwrap_or_default()
}

pub fn aslr(snapshot: &Snapshot) -> Verdict {
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut bad = false;
    let live = &snapshot.kernel.randomize_va_space;
    if let Fact::Collected { value } = live {
        let ok = value.value.trim() == "2";
        bad |= !ok;
        evidence.push(from_sourced(
            "kernel.randomize_va_space =",
            value,
            if ok { "full randomization in the running kernel" } else { "the running kernel does not fully randomize" },
        ));
    }
    let persisted = snapshot.sysctl.value().and_then(|s| s.settings.get("kernel.randomize_va_space"));
    if let Some(p) = persisted {
        let ok = p.value.trim() == "2";
        bad |= !ok;
        evidence.push(from_sourced(
            "kernel.randomize_va_space =",
            p,
            if ok { "persisted: full randomization at boot" } else { "persisted: ASLR reduced or off at boot" },
        ));
    }
    for entry in persisted_cmdline_with(snapshot, "norandmaps") {
        bad = true;
        evidence.push(from_sourced("", entry, "norandmaps on the persisted kernel command line disables ASLR"));
    }
    if let Some(cmdline) = snapshot.kernel.nx.value().and_then(|nx| nx.cmdline.as_deref())
        && cmdline.split_whitespace().any(|w| w == "norandmaps")
    {
        bad = true;
        evidence.push(message_only(format!("the running kernel was booted with norandmaps: {cmdline}")));
    }
    if bad {
        Verdict::fail("ASLR is not fully enabled", evidence)
    } else if live.value().is_some() || persisted.is_some() {
        Verdict::pass("kernel.randomize_va_space = 2", evidence)
    } else {
        Verdict::could_not_evaluate(format!(
            "ASLR is a live fact ({}) and kernel.randomize_va_space is not persisted in sysctl configuration",
            live.reason().unwrap_or_default()
        ))
    }
}

pub fn dep(snapshot: &Snapshot) -> Verdict {
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut bad = false;
    for entry in persisted_cmdline_with(snapshot, "noexec=off") {
        bad = true;
        evidence.push(from_sourced("", entry, "noexec=off on the persisted kernel command line disables NX"));
    }
    let Some(nx) = snapshot.kernel.nx.value() else {
        return if bad {
            Verdict::fail("NX disabled at boot", evidence)
        } else {
            Verdict::could_not_evaluate(format!(
                "DEP is a live fact: {}",
                snapshot.kernel.nx.reason().unwrap_or_default()
            ))
        };
    };
    if let Some(cmdline) = nx.cmdline.as_deref()
        && cmdline.split_whitespace().any(|w| w == "noexec=off")
    {
        bad = true;
        evidence.push(message_only(format!("the running kernel was booted with noexec=off: {cmdline}")));
    }
    if let Some(msg) = nx.kernel_message.as_deref() {
        let disabled = msg.contains("disabled");
        bad |= disabled;
        evidence.push(message_only(format!("kernel boot message: {msg}")));
    }
    let known_arch = match nx.arch.as_str() {
        "x86_64" | "i386" | "i486" | "i586" | "i686" => {
            match nx.cpu_flag_nx {
                Some(true) => evidence.push(message_only(format!("{}: the CPU advertises the nx flag", nx.arch))),
                Some(false) => {
                    bad = true;
                    evidence.push(message_only(format!(
                        "{}: the CPU does not advertise the nx flag in /proc/cpuinfo",
                        nx.arch
                    )));
                }
                None => {}
            }
            nx.cpu_flag_nx.is_some() || nx.kernel_message.is_some()
        }
        "aarch64" | "arm64" => {
            evidence.push(message_only(format!("{}: execute-never (XN) is part of the architecture", nx.arch)));
            true
        }
        _ => false,
    };
    if bad {
        Verdict::fail("NX/DEP is not in effect", evidence)
    } else if known_arch {
        Verdict::pass("NX/DEP in effect", evidence)
    } else {
        Verdict::could_not_evaluate(format!("no NX evidence for architecture {}", nx.arch))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use warden_model::{NxSupport, Outcome, Source, SysctlConfig};

    fn live_aslr(value: &str) -> Fact<Sourced<String>> {
        Fact::collected(Sourced::new(
            value.into(),
            Source::Kernel { path: "/proc/sys/kernel/randomize_va_space".into() },
        ))
    }

    #[test]
    fn aslr_live_and_persisted() {
        let mut s = base_snapshot();
        assert_eq!(aslr(&s).outcome, Outcome::CouldNotEvaluate);
        s.sysctl = Fact::collected(SysctlConfig {
            files: vec!["/etc/sysctl.d/10-aslr.conf".into()],
            settings: settings(&[("kernel.randomize_va_space", "2", 1)], "/etc/sysctl.d/10-aslr.conf"),
        });
        assert_eq!(aslr(&s).outcome, Outcome::Pass);
        s.kernel.randomize_va_space = live_aslr("1");
        let v = aslr(&s);
        assert_eq!(v.outcome, Outcome::Fail);
        assert_eq!(v.evidence[0].path.as_deref(), Some("/proc/sys/kernel/randomize_va_space"));
        s.kernel.randomize_va_space = live_aslr("2");
        s.sysctl = Fact::collected(SysctlConfig {
            files: vec!["/etc/sysctl.conf".into()],
            settings: settings(&[("kernel.randomize_va_space", "0", 7)], "/etc/sysctl.conf"),
        });
        let v = aslr(&s);
        assert_eq!(v.outcome, Outcome::Fail, "persisted 0 weakens the next boot");
        assert_eq!(v.evidence[1].line, Some(7));
    }

    #[test]
    fn dep_by_arch_flags_and_cmdline() {
        let mut s = base_snapshot();
        assert_eq!(dep(&s).outcome, Outcome::CouldNotEvaluate);
        let nx = |arch: &str, flag, cmdline: &str| NxSupport {
            arch: arch.into(),
            cpu_flag_nx: flag,
            kernel_message: None,
            cmdline: Some(cmdline.into()),
        };
        s.kernel.nx = Fact::collected(nx("x86_64", Some(true), "root=/dev/vda1 ro"));
        assert_eq!(dep(&s).outcome, Outcome::Pass);
        s.kernel.nx = Fact::collected(nx("x86_64", Some(false), "root=/dev/vda1 ro"));
        assert_eq!(dep(&s).outcome, Outcome::Fail);
        s.kernel.nx = Fact::collected(nx("x86_64", Some(true), "root=/dev/vda1 noexec=off"));
        assert_eq!(dep(&s).outcome, Outcome::Fail);
        s.kernel.nx = Fact::collected(nx("aarch64", None, "root=/dev/vda1"));
        assert_eq!(dep(&s).outcome, Outcome::Pass);
        s.kernel.nx = Fact::collected(nx("riscv64", None, ""));
        assert_eq!(dep(&s).outcome, Outcome::CouldNotEvaluate);
        let mut s = base_snapshot();
        s.boot_cmdline =
            Fact::collected(vec![Sourced::new("quiet noexec=off".into(), Source::file("/etc/default/grub", 9))]);
        let v = dep(&s);
        assert_eq!(v.outcome, Outcome::Fail);
        assert_eq!(v.evidence[0].line, Some(9));
    }
}
