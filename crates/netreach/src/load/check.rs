//! Reference checks after everything is loaded.
//!
//! Why it exists: describe-* calls are made one by one, so a folder can hold
//! a route to a gateway deleted between two calls, an interface in a subnet
//! from another region that was not dumped, or a subnet that claims another
//! VPC. The references stay in the model (the evaluators treat them as
//! leading nowhere); each becomes a [`Warning`](crate::model::Warning) naming
//! the resource and the file it came from. Blackhole routes are expected to
//! name deleted targets and are not reported.

use super::Builder;
use crate::model::{RouteDestination, RouteTarget, SgPeer};

/// (resource, message) pairs, collected before they are pushed.
type Found = Vec<(String, String)>;

impl Builder {
    pub(super) fn check(&mut self) {
        let mut found: Found = Vec::new();
        self.check_vpc_parts(&mut found);
        self.check_routes(&mut found);
        self.check_filters(&mut found);
        self.check_endpoints(&mut found);
        self.check_load_balancers(&mut found);
        for (resource, message) in found {
            self.warn_res(&resource, message);
        }
    }

    fn vpc_ref(&self, found: &mut Found, resource: &str, vpc: &str) {
        if vpc.is_empty() {
            found.push((resource.into(), "no VpcId".into()));
        } else if !self.net.vpcs.contains_key(vpc) {
            found.push((resource.into(), format!("refers to unknown VPC {vpc}")));
        }
    }

    /// A subnet reference, and whether the subnet is in the VPC the resource says.
    fn subnet_ref(&self, found: &mut Found, resource: &str, subnet: &str, vpc: Option<&str>) {
        match self.net.subnets.get(subnet) {
            None => found.push((resource.into(), format!("refers to unknown subnet {subnet}"))),
            Some(s) => {
                if let Some(vpc) = vpc.filter(|v| !v.is_empty() && *v != s.vpc_id) {
                    let message = format!("says VPC {vpc} but its subnet {subnet} is in {}", s.vpc_id);
                    found.push((resource.into(), message));
                }
            }
        }
    }

    fn check_vpc_parts(&self, found: &mut Found) {
        let n = &self.net;
        for s in n.subnets.values() {
            self.vpc_ref(found, &s.id, &s.vpc_id);
        }
        for g in n.internet_gateways.values().chain(n.egress_only_gateways.values()).chain(n.vpn_gateways.values()) {
            for v in &g.vpc_ids {
                self.vpc_ref(found, &g.id, v);
            }
        }
        for g in n.nat_gateways.values() {
            self.vpc_ref(found, &g.id, &g.vpc_id);
            self.subnet_ref(found, &g.id, &g.subnet_id, Some(&g.vpc_id));
        }
        for p in n.peerings.values() {
            for v in [&p.requester_vpc, &p.accepter_vpc] {
                if !n.vpcs.contains_key(v) {
                    let message = format!("peer VPC {v} not loaded (another account or region not dumped?)");
                    found.push((p.id.clone(), message));
                }
            }
        }
        for a in n.tgw_attachments.values() {
            if !n.transit_gateways.contains_key(&a.tgw_id) {
                found.push((a.id.clone(), format!("refers to unknown transit gateway {}", a.tgw_id)));
            }
            if let Some(rt) = a.route_table_id.as_ref().filter(|rt| !n.tgw_route_tables.contains_key(*rt)) {
                found.push((a.id.clone(), format!("associated with unknown TGW route table {rt}")));
            }
            if a.resource_type == "vpc" && !n.vpcs.contains_key(&a.resource_id) {
                found.push((a.id.clone(), format!("attaches unknown VPC {}", a.resource_id)));
            }
        }
        for t in n.tgw_route_tables.values() {
            if !n.transit_gateways.contains_key(&t.tgw_id) {
                found.push((t.id.clone(), format!("refers to unknown transit gateway {}", t.tgw_id)));
            }
            for (dest, att) in &t.routes {
                if let Some(att) = att.as_ref().filter(|a| !n.tgw_attachments.contains_key(*a)) {
                    found.push((t.id.clone(), format!("route {dest} to unknown attachment {att}")));
                }
            }
        }
        for pl in n.prefix_lists.keys() {
            if !self.prefix_lists_with_entries.contains(pl) {
                let message = "no get-managed-prefix-list-entries answer: treated as empty".to_string();
                found.push((pl.clone(), message));
            }
        }
    }

    fn check_routes(&self, found: &mut Found) {
        let n = &self.net;
        for t in n.route_tables.values() {
            self.vpc_ref(found, &t.id, &t.vpc_id);
            for s in &t.subnet_ids {
                self.subnet_ref(found, &t.id, s, Some(&t.vpc_id));
            }
            for g in &t.gateway_ids {
                let known = n.internet_gateways.contains_key(g) || n.vpn_gateways.contains_key(g);
                if !known {
                    found.push((t.id.clone(), format!("edge association with unknown gateway {g}")));
                }
            }
            for r in t.routes.iter().filter(|r| !r.blackhole) {
                let dest = match &r.destination {
                    RouteDestination::Cidr(c) => c.to_string(),
                    RouteDestination::PrefixList(pl) => {
                        if !n.prefix_lists.contains_key(pl) {
                            found.push((t.id.clone(), format!("route to unknown prefix list {pl}")));
                        }
                        pl.clone()
                    }
                };
                let (what, id, attached) = match &r.target {
                    RouteTarget::InternetGateway(g) => {
                        ("internet gateway", g, n.internet_gateways.get(g).map(|g| g.vpc_ids.contains(&t.vpc_id)))
                    }
                    RouteTarget::EgressOnlyGateway(g) => {
                        ("egress-only gateway", g, n.egress_only_gateways.get(g).map(|g| g.vpc_ids.contains(&t.vpc_id)))
                    }
                    RouteTarget::VpnGateway(g) => {
                        ("VPN gateway", g, n.vpn_gateways.get(g).map(|g| g.vpc_ids.contains(&t.vpc_id)))
                    }
                    RouteTarget::NatGateway(g) => {
                        ("NAT gateway", g, n.nat_gateways.get(g).map(|g| g.vpc_id == t.vpc_id))
                    }
                    RouteTarget::Peering(g) => (
                        "peering connection",
                        g,
                        n.peerings.get(g).map(|p| p.requester_vpc == t.vpc_id || p.accepter_vpc == t.vpc_id),
                    ),
                    RouteTarget::TransitGateway(g) => ("transit gateway", g, n.transit_gateways.get(g).map(|_| true)),
                    RouteTarget::Interface(g) => {
                        ("network interface", g, n.interfaces.get(g).map(|i| i.vpc_id == t.vpc_id))
                    }
                    RouteTarget::Instance(g) => ("instance", g, n.instances.get(g).map(|_| true)),
                    RouteTarget::Local | RouteTarget::Other(_) => continue,
                };
                match attached {
                    None => found.push((t.id.clone(), format!("route {dest} to unknown {what} {id}"))),
                    Some(false) => found.push((t.id.clone(), format!("route {dest} to {what} {id} of another VPC"))),
                    Some(true) => {}
                }
            }
        }
    }

    fn check_filters(&self, found: &mut Found) {
        let n = &self.net;
        for a in n.network_acls.values() {
            self.vpc_ref(found, &a.id, &a.vpc_id);
            for s in &a.subnet_ids {
                self.subnet_ref(found, &a.id, s, Some(&a.vpc_id));
            }
        }
        for g in n.security_groups.values() {
            if !g.vpc_id.is_empty() {
                self.vpc_ref(found, &g.id, &g.vpc_id);
            }
            for r in g.ingress.iter().chain(&g.egress) {
                match &r.peer {
                    SgPeer::Group(p) if !n.security_groups.contains_key(p) => {
                        found.push((g.id.clone(), format!("rule refers to unknown security group {p}")));
                    }
                    SgPeer::PrefixList(p) if !n.prefix_lists.contains_key(p) => {
                        found.push((g.id.clone(), format!("rule refers to unknown prefix list {p}")));
                    }
                    _ => {}
                }
            }
        }
    }

    fn check_endpoints(&self, found: &mut Found) {
        let n = &self.net;
        for e in n.interfaces.values() {
            self.vpc_ref(found, &e.id, &e.vpc_id);
            self.subnet_ref(found, &e.id, &e.subnet_id, Some(&e.vpc_id));
            for g in &e.security_group_ids {
                if !n.security_groups.contains_key(g) {
                    found.push((e.id.clone(), format!("carries unknown security group {g}")));
                }
            }
            if let Some(i) = e.instance_id.as_ref().filter(|i| !n.instances.contains_key(*i)) {
                found.push((e.id.clone(), format!("attached to unknown instance {i}")));
            }
            if let Some(inst) = self.synthesized.get(&e.id) {
                let message = format!("not in any describe-network-interfaces answer; taken from instance {inst}");
                found.push((e.id.clone(), message));
            }
        }
    }

    fn check_load_balancers(&self, found: &mut Found) {
        let n = &self.net;
        for lb in n.load_balancers.values() {
            self.vpc_ref(found, &lb.id, &lb.vpc_id);
            for s in &lb.subnet_ids {
                self.subnet_ref(found, &lb.id, s, Some(&lb.vpc_id));
            }
            for g in lb.security_group_ids.iter().filter(|g| !n.security_groups.contains_key(*g)) {
                found.push((lb.id.clone(), format!("uses unknown security group {g}")));
            }
            for l in &lb.listeners {
                for tg in l.target_group_ids.iter().filter(|t| !n.target_groups.contains_key(*t)) {
                    found.push((lb.id.clone(), format!("listener {} forwards to unknown target group {tg}", l.port)));
                }
            }
            if let Some(l) = lb.listeners.first() {
                for i in l.instance_ids.iter().filter(|i| !n.instances.contains_key(*i)) {
                    found.push((lb.id.clone(), format!("registers unknown instance {i}")));
                }
            }
        }
        for tg in n.target_groups.values().filter(|t| t.target_type == "instance") {
            for t in tg.targets.iter().filter(|t| !n.instances.contains_key(&t.id)) {
                found.push((tg.id.clone(), format!("target {} is not a known instance", t.id)));
            }
        }
        for tg in n.target_groups.values().filter(|t| t.target_type == "ip") {
            for t in &tg.targets {
                match t.id.parse::<std::net::IpAddr>() {
                    Err(_) => found.push((tg.id.clone(), format!("ip target {} is not an IP address", t.id))),
                    Ok(a) if !n.interfaces.values().any(|i| i.addresses().any(|x| x == a)) => {
                        let message = format!("ip target {a} is no known interface's address (not followed)");
                        found.push((tg.id.clone(), message));
                    }
                    Ok(_) => {}
                }
            }
        }
    }
}
