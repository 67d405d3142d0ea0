//! Property tests of the CIS parsers: arbitrary text never panics, and the
//! boot loader scan never keeps what follows the user name (the hash).
use proptest::prelude::*;

use super::{audit_boot, firewall, mac};
use warden_model::{Bootloader, FirewallFacts};

proptest! {
    #[test]
    fn parsers_take_any_text(text in "(?s).{0,400}") {
        let mut f = FirewallFacts { utility: "nftables".into(), files: vec![], enabled: None, policies: Default::default(), rules: 0 };
        let _ = firewall::parse_nft(&text, "/etc/nftables.conf", &mut f);
        let _ = firewall::parse_iptables_save("iptables", &text, "/etc/iptables/rules.v4");
        let _ = audit_boot::parse_auditd_conf(&text, "/etc/audit/auditd.conf", &mut Vec::new());
        let _ = audit_boot::rule_lines(&text, "/etc/audit/audit.rules");
        let _ = mac::profile_mode(&text, "/etc/apparmor.d/x");
        let _ = mac::parse_selinux_config(&text);
        let mut b = Bootloader::default();
        audit_boot::scan_grub(&text, "/boot/grub/grub.cfg", &mut b);
    }

    #[test]
    fn nftables_policies_are_known_words_for_well_formed_chains(
        hook in "(input|forward|output)", policy in "(accept|drop)", rules in 0usize..5
    ) {
        let body: String = (0..rules).map(|i| format!("    tcp dport {} accept\n", 1000 + i)).collect();
        let text = format!("table inet t {{\n  chain c {{\n    type filter hook {hook} priority 0; policy {policy};\n{body}  }}\n}}\n");
        let mut f = FirewallFacts { utility: "nftables".into(), files: vec![], enabled: None, policies: Default::default(), rules: 0 };
        firewall::parse_nft(&text, "/etc/nftables.conf", &mut f);
        prop_assert_eq!(f.policies[&hook].value.as_str(), policy.as_str());
        prop_assert_eq!(f.rules, rules as u64);
    }

    #[test]
    fn grub_hashes_never_kept(user in "[a-z]{1,8}", hash in "grub\\.pbkdf2\\.sha512\\.[0-9]{4,5}\\.[A-F0-9]{16,64}") {
        let mut b = Bootloader::default();
        audit_boot::scan_grub(&format!("set superusers=\"{user}\"\npassword_pbkdf2 {user} {hash}\n"), "/g", &mut b);
        prop_assert_eq!(b.passwords.len(), 1);
        let json = serde_json::to_string(&b).unwrap();
        prop_assert!(!json.contains(&hash));
    }
}
