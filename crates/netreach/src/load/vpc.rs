//! VPC plumbing: VPCs, subnets, gateways, peering, transit gateways, managed
//! prefix lists and route tables, from their describe-* records.
//!
//! Why it exists: these decide where a packet is routed; the conversion
//! normalises CIDRs and route targets and keeps every reference by id
//! (dangling ones are reported later, by `check`).

use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::{Builder, Source, required, shapes as s};
use crate::model::{
    Gateway, NatGateway, Peering, PrefixList, Route, RouteDestination, RouteOrigin, RouteTable, RouteTarget, Subnet,
    TgwAttachment, TgwRouteTable, TransitGateway, Vpc,
};

/// Parses a CIDR (or a bare address, as a host prefix).
pub(super) fn parse_cidr(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>().ok().or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from)).map(|n| n.trunc())
}

/// States in which an association or attachment no longer exists.
fn gone(state: Option<&str>) -> bool {
    matches!(state, Some("disassociated" | "disassociating" | "detached" | "detaching" | "deleted" | "failed"))
}

impl Builder {
    /// Parses a CIDR or warns naming the resource.
    pub(super) fn cidr(&mut self, resource: &str, src: &Source, what: &str, s: &str) -> Option<IpNet> {
        let net = parse_cidr(s);
        if net.is_none() {
            self.warn(resource, &src.file, format!("{what} `{s}` is not a CIDR; ignored"));
        }
        net
    }

    pub(super) fn vpc(&mut self, src: &Source, v: s::Vpc) {
        let Some(id) = required(self, src, "VpcId", v.vpc_id) else { return };
        if !self.claim(&id, src) {
            return;
        }
        let mut cidrs_v4: Vec<Ipv4Net> = Vec::new();
        let mut cidrs_v6: Vec<Ipv6Net> = Vec::new();
        let mut texts: Vec<String> = v.cidr_block.into_iter().collect();
        for a in &v.cidr_block_association_set {
            if !gone(a.cidr_block_state.as_ref().and_then(|s| s.state.as_deref())) {
                texts.extend(a.cidr_block.clone());
            }
        }
        for a in &v.ipv6_cidr_block_association_set {
            if !gone(a.ipv6_cidr_block_state.as_ref().and_then(|s| s.state.as_deref())) {
                texts.extend(a.ipv6_cidr_block.clone());
            }
        }
        for t in texts {
            match self.cidr(&id, src, "CIDR block", &t) {
                Some(IpNet::V4(n)) if !cidrs_v4.contains(&n) => cidrs_v4.push(n),
                Some(IpNet::V6(n)) if !cidrs_v6.contains(&n) => cidrs_v6.push(n),
                _ => {}
            }
        }
        let account = match (v.owner_id, src.account.clone()) {
            (Some(owner), Some(dir)) if owner != dir => {
                let message = format!("OwnerId {owner} contradicts the folder's account {dir}; OwnerId kept");
                self.warn(&id, &src.file, message);
                Some(owner)
            }
            (owner, dir) => owner.or(dir),
        };
        let vpc = Vpc { id: id.clone(), account, region: src.region.clone(), cidrs_v4, cidrs_v6 };
        self.net.vpcs.insert(id, vpc);
    }

    pub(super) fn subnet(&mut self, src: &Source, v: s::Subnet) {
        let Some(id) = required(self, src, "SubnetId", v.subnet_id) else { return };
        if !self.claim(&id, src) {
            return;
        }
        let vpc_id = v.vpc_id.unwrap_or_default();
        if vpc_id.is_empty() {
            self.warn(&id, &src.file, "subnet without VpcId".into());
        }
        let cidr_v4 = match v.cidr_block.as_deref().and_then(|c| self.cidr(&id, src, "CidrBlock", c)) {
            Some(IpNet::V4(n)) => Some(n),
            _ => None,
        };
        let mut cidrs_v6 = Vec::new();
        for a in &v.ipv6_cidr_block_association_set {
            if gone(a.ipv6_cidr_block_state.as_ref().and_then(|s| s.state.as_deref())) {
                continue;
            }
            if let Some(IpNet::V6(n)) = a.ipv6_cidr_block.as_deref().and_then(|c| self.cidr(&id, src, "IPv6 CIDR", c)) {
                cidrs_v6.push(n);
            }
        }
        // arn:aws:ec2:<region>:<account>:subnet/<id>
        if let Some(region) = v.subnet_arn.as_deref().and_then(|a| a.split(':').nth(3)).filter(|r| !r.is_empty()) {
            self.vpc_region_from_arn.entry(vpc_id.clone()).or_insert_with(|| region.to_string());
        }
        let subnet = Subnet { id: id.clone(), vpc_id, cidr_v4, cidrs_v6, availability_zone: v.availability_zone };
        self.net.subnets.insert(id, subnet);
    }

    fn attachments(atts: &[s::GwAttachment]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for a in atts {
            if let Some(vpc) = a.vpc_id.as_ref().filter(|_| !gone(a.state.as_deref()))
                && !out.contains(vpc)
            {
                out.push(vpc.clone());
            }
        }
        out
    }

    pub(super) fn internet_gateway(&mut self, src: &Source, v: s::InternetGateway) {
        let Some(id) = required(self, src, "InternetGatewayId", v.internet_gateway_id) else { return };
        if self.claim(&id, src) {
            let vpc_ids = Self::attachments(&v.attachments);
            self.net.internet_gateways.insert(id.clone(), Gateway { id, vpc_ids });
        }
    }

    pub(super) fn egress_only_gateway(&mut self, src: &Source, v: s::EgressOnlyGateway) {
        let Some(id) = required(self, src, "EgressOnlyInternetGatewayId", v.egress_only_internet_gateway_id) else {
            return;
        };
        if self.claim(&id, src) {
            let vpc_ids = Self::attachments(&v.attachments);
            self.net.egress_only_gateways.insert(id.clone(), Gateway { id, vpc_ids });
        }
    }

    pub(super) fn vpn_gateway(&mut self, src: &Source, v: s::VpnGateway) {
        let Some(id) = required(self, src, "VpnGatewayId", v.vpn_gateway_id) else { return };
        if gone(v.state.as_deref()) {
            return;
        }
        if self.claim(&id, src) {
            let vpc_ids = Self::attachments(&v.vpc_attachments);
            self.net.vpn_gateways.insert(id.clone(), Gateway { id, vpc_ids });
        }
    }

    pub(super) fn nat_gateway(&mut self, src: &Source, v: s::NatGateway) {
        let Some(id) = required(self, src, "NatGatewayId", v.nat_gateway_id) else { return };
        if matches!(v.state.as_deref(), Some("deleted" | "deleting" | "failed")) {
            return;
        }
        if self.claim(&id, src) {
            let nat = NatGateway {
                id: id.clone(),
                vpc_id: v.vpc_id.unwrap_or_default(),
                subnet_id: v.subnet_id.unwrap_or_default(),
            };
            self.net.nat_gateways.insert(id, nat);
        }
    }

    fn peering_side(&mut self, id: &str, src: &Source, info: Option<s::PeeringVpcInfo>) -> (String, Vec<IpNet>) {
        let Some(info) = info else {
            self.warn(id, &src.file, "peering without VPC info".into());
            return (String::new(), Vec::new());
        };
        let mut texts: Vec<String> = info.cidr_block_set.iter().filter_map(|c| c.cidr_block.clone()).collect();
        texts.extend(info.ipv6_cidr_block_set.iter().filter_map(|c| c.ipv6_cidr_block.clone()));
        // moto (and old answers) give only the primary `CidrBlock`.
        if let Some(c) = info.cidr_block {
            texts.insert(0, c);
        }
        let mut cidrs = Vec::new();
        for t in texts {
            if let Some(n) = self.cidr(id, src, "peering CIDR", &t)
                && !cidrs.contains(&n)
            {
                cidrs.push(n);
            }
        }
        (info.vpc_id.unwrap_or_default(), cidrs)
    }

    pub(super) fn peering(&mut self, src: &Source, v: s::Peering) {
        let Some(id) = required(self, src, "VpcPeeringConnectionId", v.vpc_peering_connection_id) else { return };
        if !self.claim(&id, src) {
            return;
        }
        let (requester_vpc, requester_cidrs) = self.peering_side(&id, src, v.requester_vpc_info);
        let (accepter_vpc, accepter_cidrs) = self.peering_side(&id, src, v.accepter_vpc_info);
        let active = v.status.and_then(|s| s.code).as_deref() == Some("active");
        let p = Peering { id: id.clone(), requester_vpc, accepter_vpc, requester_cidrs, accepter_cidrs, active };
        self.net.peerings.insert(id, p);
    }

    pub(super) fn transit_gateway(&mut self, src: &Source, v: s::TransitGateway) {
        let Some(id) = required(self, src, "TransitGatewayId", v.transit_gateway_id) else { return };
        if gone(v.state.as_deref()) {
            return;
        }
        if self.claim(&id, src) {
            self.net.transit_gateways.insert(id.clone(), TransitGateway { id });
        }
    }

    pub(super) fn tgw_route_table(&mut self, src: &Source, v: s::TgwRouteTable) {
        let Some(id) = required(self, src, "TransitGatewayRouteTableId", v.transit_gateway_route_table_id) else {
            return;
        };
        if self.claim(&id, src) {
            let tgw_id = v.transit_gateway_id.unwrap_or_default();
            self.net.tgw_route_tables.insert(id.clone(), TgwRouteTable { id, tgw_id, routes: Vec::new() });
        }
    }

    pub(super) fn tgw_attachment(&mut self, src: &Source, v: s::TgwAttachment) {
        let Some(id) = required(self, src, "TransitGatewayAttachmentId", v.transit_gateway_attachment_id) else {
            return;
        };
        if gone(v.state.as_deref()) || !self.claim(&id, src) {
            return;
        }
        let route_table_id = v
            .association
            .filter(|a| !gone(a.state.as_deref()))
            .and_then(|a| a.transit_gateway_route_table_id)
            .filter(|s| !s.is_empty());
        let a = TgwAttachment {
            id: id.clone(),
            tgw_id: v.transit_gateway_id.unwrap_or_default(),
            resource_type: v.resource_type.unwrap_or_default(),
            resource_id: v.resource_id.unwrap_or_default(),
            route_table_id,
        };
        self.net.tgw_attachments.insert(id, a);
    }

    /// A search-transit-gateway-routes route: the file stem names the route table.
    pub(super) fn tgw_route(&mut self, src: &Source, v: s::TgwRoute) {
        let Some(rtb) = self.tgw_route_table_of_file(src) else { return };
        let Some(dest) = v.destination_cidr_block.as_deref().and_then(|c| self.cidr(&rtb, src, "TGW route", c)) else {
            if let Some(pl) = v.prefix_list_id {
                let message = format!("TGW route to prefix list {pl} not modelled (the model's TGW routes are CIDRs)");
                self.warn(&rtb, &src.file, message);
            }
            return;
        };
        let target = if v.state.as_deref() == Some("blackhole") {
            None
        } else {
            v.transit_gateway_attachments.into_iter().find_map(|a| a.transit_gateway_attachment_id)
        };
        if let Some(t) = self.net.tgw_route_tables.get_mut(&rtb)
            && !t.routes.contains(&(dest, target.clone()))
        {
            t.routes.push((dest, target));
        }
    }

    /// The TGW route table a per-table answer is about: its file stem is the
    /// sanitized table id. Warns (once per record) when no known table has it.
    fn tgw_route_table_of_file(&mut self, src: &Source) -> Option<String> {
        let found = self.net.tgw_route_tables.keys().find(|k| super::sanitize(k) == src.stem).cloned();
        if found.is_none() {
            let message = format!("no known transit gateway route table is named `{}` (the file name)", src.stem);
            self.warn(&src.file, &src.file, message);
        }
        found
    }

    /// A get-transit-gateway-route-table-associations record. The attachment's
    /// own `Association` (describe-transit-gateway-attachments) usually says
    /// the same; this answer fills it in where the attachment record has none
    /// (an older CLI, a trimmed dump), and a contradiction is a warning (the
    /// attachment's own record is kept: it is the later call of a collect run).
    pub(super) fn tgw_association(&mut self, src: &Source, v: s::TgwRouteTableLink) {
        let Some(rtb) = self.tgw_route_table_of_file(src) else { return };
        let Some(att_id) = required(self, src, "TransitGatewayAttachmentId", v.transit_gateway_attachment_id) else {
            return;
        };
        if gone(v.state.as_deref()) {
            return;
        }
        let Some(att) = self.net.tgw_attachments.get_mut(&att_id) else {
            let message = format!("associated with TGW route table {rtb}, but no such attachment was loaded");
            return self.warn(&att_id, &src.file, message);
        };
        match &att.route_table_id {
            None => att.route_table_id = Some(rtb),
            Some(known) if *known == rtb => {}
            Some(known) => {
                let message = format!(
                    "{} says it is associated with TGW route table {rtb}, its attachment record says {known}; {known} is kept",
                    src.file
                );
                self.warn_res(&att_id, message);
            }
        }
    }

    /// A get-transit-gateway-route-table-propagations record. The routes a
    /// propagation installs are already in the table's
    /// search-transit-gateway-routes answer (as `propagated` routes), so it
    /// adds nothing to the model; it is read so that the file is recognised
    /// and a propagation from an attachment that was not loaded is reported.
    pub(super) fn tgw_propagation(&mut self, src: &Source, v: s::TgwRouteTableLink) {
        let Some(rtb) = self.tgw_route_table_of_file(src) else { return };
        let Some(att_id) = required(self, src, "TransitGatewayAttachmentId", v.transit_gateway_attachment_id) else {
            return;
        };
        if !gone(v.state.as_deref()) && !self.net.tgw_attachments.contains_key(&att_id) {
            let message = format!("propagates into TGW route table {rtb}, but no such attachment was loaded");
            self.warn(&att_id, &src.file, message);
        }
    }

    pub(super) fn prefix_list(&mut self, src: &Source, v: s::ManagedPrefixList) {
        let Some(id) = required(self, src, "PrefixListId", v.prefix_list_id) else { return };
        if !self.claim(&id, src) {
            return;
        }
        self.net.prefix_lists.entry(id.clone()).or_insert_with(|| PrefixList { id: id.clone(), cidrs: Vec::new() });
        if !v.cidrs.is_empty() {
            self.prefix_lists_with_entries.insert(id.clone());
        }
        for c in v.cidrs {
            if let Some(n) = self.cidr(&id, src, "prefix list CIDR", &c)
                && let Some(pl) = self.net.prefix_lists.get_mut(&id)
                && !pl.cidrs.contains(&n)
            {
                pl.cidrs.push(n);
            }
        }
    }

    /// A get-managed-prefix-list-entries entry: the file stem names the list.
    pub(super) fn prefix_list_entry(&mut self, src: &Source, v: s::PrefixListEntry) {
        let id = match self.net.prefix_lists.keys().find(|k| super::sanitize(k) == src.stem) {
            Some(k) => k.clone(),
            None if src.stem.starts_with("pl-") => {
                // Entries for a list describe-managed-prefix-lists did not return: keep them.
                self.origin.entry(src.stem.clone()).or_insert_with(|| src.file.clone());
                src.stem.clone()
            }
            None => {
                let message = format!("no prefix list is named `{}` (the file name)", src.stem);
                return self.warn(&src.file, &src.file, message);
            }
        };
        self.prefix_lists_with_entries.insert(id.clone());
        let Some(n) = v.cidr.as_deref().and_then(|c| self.cidr(&id, src, "prefix list entry", c)) else { return };
        let pl = self.net.prefix_lists.entry(id.clone()).or_insert_with(|| PrefixList { id, cidrs: Vec::new() });
        if !pl.cidrs.contains(&n) {
            pl.cidrs.push(n);
        }
    }

    pub(super) fn route_table(&mut self, src: &Source, v: s::RouteTable) {
        let Some(id) = required(self, src, "RouteTableId", v.route_table_id) else { return };
        if !self.claim(&id, src) {
            return;
        }
        let mut t = RouteTable {
            id: id.clone(),
            vpc_id: v.vpc_id.unwrap_or_default(),
            main: false,
            subnet_ids: Vec::new(),
            gateway_ids: Vec::new(),
            routes: Vec::new(),
        };
        for a in v.associations {
            if gone(a.association_state.as_ref().and_then(|s| s.state.as_deref())) {
                continue;
            }
            t.main |= a.main == Some(true);
            if let Some(sn) = a.subnet_id.filter(|s| !s.is_empty() && !t.subnet_ids.contains(s)) {
                t.subnet_ids.push(sn);
            }
            if let Some(gw) = a.gateway_id.filter(|s| !s.is_empty() && !t.gateway_ids.contains(s)) {
                t.gateway_ids.push(gw);
            }
        }
        for r in v.routes {
            if let Some(route) = self.route(&id, src, r) {
                t.routes.push(route);
            }
        }
        self.net.route_tables.insert(id, t);
    }

    fn route(&mut self, rtb: &str, src: &Source, r: s::Route) -> Option<Route> {
        let destination =
            if let Some(c) = r.destination_cidr_block.as_deref().or(r.destination_ipv6_cidr_block.as_deref()) {
                RouteDestination::Cidr(self.cidr(rtb, src, "route destination", c)?)
            } else if let Some(pl) = r.destination_prefix_list_id.clone() {
                RouteDestination::PrefixList(pl)
            } else {
                self.warn(rtb, &src.file, "a route without destination skipped".into());
                return None;
            };
        let target = if let Some(g) = r.gateway_id.as_deref() {
            match g {
                "local" => RouteTarget::Local,
                g if g.starts_with("igw-") => RouteTarget::InternetGateway(g.into()),
                g if g.starts_with("vgw-") => RouteTarget::VpnGateway(g.into()),
                g if g.starts_with("eigw-") => RouteTarget::EgressOnlyGateway(g.into()),
                g => RouteTarget::Other(g.into()),
            }
        } else if let Some(g) = r.egress_only_internet_gateway_id {
            RouteTarget::EgressOnlyGateway(g)
        } else if let Some(g) = r.nat_gateway_id {
            RouteTarget::NatGateway(g)
        } else if let Some(g) = r.vpc_peering_connection_id {
            RouteTarget::Peering(g)
        } else if let Some(g) = r.transit_gateway_id {
            RouteTarget::TransitGateway(g)
        } else if let Some(g) = r.network_interface_id {
            // Routes to an instance name its interface too; the interface is exact.
            RouteTarget::Interface(g)
        } else if let Some(g) = r.instance_id {
            RouteTarget::Instance(g)
        } else if let Some(g) = r.carrier_gateway_id.or(r.local_gateway_id).or(r.core_network_arn) {
            RouteTarget::Other(g)
        } else {
            RouteTarget::Other(String::new())
        };
        let origin = match r.origin.as_deref() {
            Some("CreateRouteTable") => RouteOrigin::Local,
            Some("EnableVgwRoutePropagation") => RouteOrigin::Propagated,
            Some(_) => RouteOrigin::Static,
            None if target == RouteTarget::Local => RouteOrigin::Local,
            None => RouteOrigin::Static,
        };
        let blackhole = r.state.as_deref() == Some("blackhole");
        Some(Route { destination, target, origin, blackhole })
    }
}

/// An IPv4 address, or `None` with no fuss (the callers warn).
pub(super) fn parse_v4(s: &str) -> Option<Ipv4Addr> {
    s.trim().parse().ok()
}
