//! Filters: network ACLs, security groups and their rules.
//!
//! Why it exists: NACL entries and security group permissions decide which
//! packets pass. The conversion turns AWS's protocol spellings into
//! [`Protocol`], absent or `-1` ports (and ICMP type/code) into all ports, and
//! splits every permission into one [`SgRule`] per peer. Rules from
//! describe-security-group-rules are merged with the groups' `IpPermissions`
//! (duplicates dropped), so either call, or both, may be present.

use super::{Builder, Source, required, shapes as s};
use crate::model::{AclEntry, NetworkAcl, PortRange, Protocol, SecurityGroup, SgPeer, SgRule};

/// Ports of an SG rule or NACL entry: all unless the protocol has ports and
/// both ends are given and valid.
fn ports(protocol: Protocol, from: Option<i64>, to: Option<i64>) -> Result<PortRange, String> {
    if !protocol.has_ports() {
        return Ok(PortRange::ALL);
    }
    match (from, to) {
        (None, _) | (_, None) | (Some(-1), _) | (_, Some(-1)) => Ok(PortRange::ALL),
        (Some(f), Some(t)) => match (u16::try_from(f), u16::try_from(t)) {
            (Ok(from), Ok(to)) if from <= to => Ok(PortRange { from, to }),
            _ => Err(format!("port range {f}-{t} is invalid")),
        },
    }
}

impl Builder {
    pub(super) fn network_acl(&mut self, src: &Source, v: s::NetworkAcl) {
        let Some(id) = required(self, src, "NetworkAclId", v.network_acl_id) else { return };
        if !self.claim(&id, src) {
            return;
        }
        let mut subnet_ids: Vec<String> = Vec::new();
        for a in v.associations {
            if let Some(sn) = a.subnet_id.filter(|s| !s.is_empty() && !subnet_ids.contains(s)) {
                subnet_ids.push(sn);
            }
        }
        let mut entries = Vec::new();
        for e in v.entries {
            if let Some(entry) = self.acl_entry(&id, src, e) {
                entries.push(entry);
            }
        }
        let acl = NetworkAcl {
            id: id.clone(),
            vpc_id: v.vpc_id.unwrap_or_default(),
            default: v.is_default == Some(true),
            subnet_ids,
            entries,
        };
        self.net.network_acls.insert(id, acl);
    }

    fn acl_entry(&mut self, acl: &str, src: &Source, e: s::AclEntry) -> Option<AclEntry> {
        let bad = |b: &mut Builder, what: String| {
            b.warn(acl, &src.file, format!("entry {} skipped: {what}", e.rule_number.unwrap_or(-1)));
        };
        let Some(rule_number) = e.rule_number.and_then(|n| u16::try_from(n).ok()) else {
            bad(self, "no valid RuleNumber".into());
            return None;
        };
        let Some(protocol) = e.protocol.as_deref().and_then(Protocol::parse) else {
            bad(self, format!("unknown protocol {:?}", e.protocol));
            return None;
        };
        let allow = match e.rule_action.as_deref() {
            Some("allow") => true,
            Some("deny") => false,
            other => {
                bad(self, format!("unknown RuleAction {other:?}"));
                return None;
            }
        };
        let Some(text) = e.cidr_block.as_deref().or(e.ipv6_cidr_block.as_deref()) else {
            bad(self, "no CidrBlock or Ipv6CidrBlock".into());
            return None;
        };
        let cidr = self.cidr(acl, src, "NACL entry CIDR", text)?;
        let range = e.port_range.as_ref();
        let ports = match ports(protocol, range.and_then(|p| p.from), range.and_then(|p| p.to)) {
            Ok(p) => p,
            Err(why) => {
                bad(self, why);
                return None;
            }
        };
        Some(AclEntry { rule_number, egress: e.egress == Some(true), protocol, allow, cidr, ports })
    }

    pub(super) fn security_group(&mut self, src: &Source, v: s::SecurityGroup) {
        let Some(id) = required(self, src, "GroupId", v.group_id) else { return };
        if !self.claim(&id, src) {
            return;
        }
        let mut ingress = Vec::new();
        let mut egress = Vec::new();
        for p in v.ip_permissions {
            self.permission(&id, src, p, &mut ingress);
        }
        for p in v.ip_permissions_egress {
            self.permission(&id, src, p, &mut egress);
        }
        let sg = SecurityGroup {
            id: id.clone(),
            vpc_id: v.vpc_id.unwrap_or_default(),
            name: v.group_name.unwrap_or_default(),
            ingress,
            egress,
        };
        self.net.security_groups.insert(id, sg);
    }

    /// The protocol and ports of a permission or rule, or a warning.
    fn proto_ports(
        &mut self,
        sg: &str,
        src: &Source,
        proto: Option<&str>,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Option<(Protocol, PortRange)> {
        let Some(protocol) = proto.and_then(Protocol::parse) else {
            self.warn(sg, &src.file, format!("rule with unknown protocol {proto:?} skipped"));
            return None;
        };
        match ports(protocol, from, to) {
            Ok(p) => Some((protocol, p)),
            Err(why) => {
                self.warn(sg, &src.file, format!("rule skipped: {why}"));
                None
            }
        }
    }

    /// Splits one `IpPermissions` entry into one rule per peer.
    fn permission(&mut self, sg: &str, src: &Source, p: s::IpPermission, out: &mut Vec<SgRule>) {
        let Some((protocol, ports)) = self.proto_ports(sg, src, p.ip_protocol.as_deref(), p.from_port, p.to_port)
        else {
            return;
        };
        let mut peers = Vec::new();
        for r in p.ip_ranges.iter().chain(&p.ipv6_ranges) {
            if let Some(text) = r.cidr_ip.as_deref().or(r.cidr_ipv6.as_deref())
                && let Some(n) = self.cidr(sg, src, "rule CIDR", text)
            {
                peers.push(SgPeer::Cidr(n));
            }
        }
        peers.extend(p.prefix_list_ids.into_iter().filter_map(|p| p.prefix_list_id).map(SgPeer::PrefixList));
        peers.extend(p.user_id_group_pairs.into_iter().filter_map(|g| g.group_id).map(SgPeer::Group));
        for peer in peers {
            let rule = SgRule { protocol, ports, peer };
            if !out.contains(&rule) {
                out.push(rule);
            }
        }
    }

    /// A describe-security-group-rules rule: merged into its group.
    pub(super) fn security_group_rule(&mut self, src: &Source, v: s::SecurityGroupRule) {
        let Some(sg) = required(self, src, "GroupId", v.group_id) else { return };
        let rule_id = v.security_group_rule_id.unwrap_or_else(|| sg.clone());
        let Some((protocol, ports)) = self.proto_ports(&rule_id, src, v.ip_protocol.as_deref(), v.from_port, v.to_port)
        else {
            return;
        };
        let peer = if let Some(text) = v.cidr_ipv4.as_deref().or(v.cidr_ipv6.as_deref()) {
            let Some(n) = self.cidr(&rule_id, src, "rule CIDR", text) else { return };
            SgPeer::Cidr(n)
        } else if let Some(pl) = v.prefix_list_id {
            SgPeer::PrefixList(pl)
        } else if let Some(g) = v.referenced_group_info.and_then(|g| g.group_id) {
            SgPeer::Group(g)
        } else {
            return self.warn(&rule_id, &src.file, "rule without a peer skipped".into());
        };
        if !self.net.security_groups.contains_key(&sg) {
            self.warn(&sg, &src.file, "known only from describe-security-group-rules (VPC and name unknown)".into());
            self.origin.entry(sg.clone()).or_insert_with(|| src.file.clone());
            let group = SecurityGroup {
                id: sg.clone(),
                vpc_id: String::new(),
                name: String::new(),
                ingress: vec![],
                egress: vec![],
            };
            self.net.security_groups.insert(sg.clone(), group);
        }
        if let Some(group) = self.net.security_groups.get_mut(&sg) {
            let rules = if v.is_egress == Some(true) { &mut group.egress } else { &mut group.ingress };
            let rule = SgRule { protocol, ports, peer };
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
    }
}
