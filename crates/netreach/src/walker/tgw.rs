//! The walker's transit gateway hop.
//!
//! Why it exists: a transit gateway joins VPCs, VPNs, Direct Connect
//! gateways and other transit gateways, each through an attachment, and
//! routes between them with its own route tables. A packet entering at
//! attachment *Y* reaches VPC *V* when: *Y* exists on a transit gateway *T*
//! that has a VPC attachment *X* to *V* (the first by id), *Y* ≠ *X*; the
//! TGW route table associated with *Y* sends the destination to *X*
//! (longest prefix, blackholes drop, no association → dropped); the table
//! associated with *X* sends the source back to *Y*; and, when *Y* attaches
//! another VPC *W*, the source is an address of a subnet of *W* whose route
//! table sends the destination to *T*. (The VPC's own table sending the
//! source back to *T* is checked by the caller, like every other return
//! route.) Other attachments (VPN, Direct Connect, TGW peering) may carry any
//! source address, as a VGW does.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{routes_to, table_of, vpc_cidrs};
use crate::model::{Network, RouteTarget, TgwAttachment, TgwRouteTable};

/// The VPC attachment of transit gateway `tgw` to `vpc` (first by id).
pub(crate) fn vpc_attachment<'a>(net: &'a Network, tgw: &str, vpc: &str) -> Option<&'a TgwAttachment> {
    net.tgw_attachments.values().find(|a| a.tgw_id == tgw && a.resource_type == "vpc" && a.resource_id == vpc)
}

/// The attachment a TGW route table sends `a` to: `Ok(Some(id))`, `Ok(None)` for a blackhole, `Err` without route.
fn tgw_lookup(t: &TgwRouteTable, a: IpAddr) -> Result<Option<&String>, ()> {
    let mut best: Option<(u8, usize)> = None;
    for (i, (n, _)) in t.routes.iter().enumerate() {
        if n.contains(&a) && best.is_none_or(|(len, _)| n.prefix_len() > len) {
            best = Some((n.prefix_len(), i));
        }
    }
    best.map(|(_, i)| t.routes[i].1.as_ref()).ok_or(())
}

/// Whether the route table associated with `from` sends `a` to `to`; Err: why not.
fn tgw_routes(net: &Network, from: &TgwAttachment, a: IpAddr, to: &str) -> Result<(), String> {
    let Some(rtb_id) = &from.route_table_id else {
        return Err(format!("attachment {} is associated with no TGW route table", from.id));
    };
    let Some(rtb) = net.tgw_route_tables.get(rtb_id) else { return Err(format!("TGW route table {rtb_id} not found")) };
    match tgw_lookup(rtb, a) {
        Ok(Some(x)) if x == to => Ok(()),
        Ok(Some(x)) => Err(format!("TGW route table {rtb_id} sends {a} to {x}, not {to}")),
        Ok(None) => Err(format!("TGW route table {rtb_id} blackholes {a}")),
        Err(()) => Err(format!("TGW route table {rtb_id} has no route for {a}")),
    }
}

/// The transit gateway checks of a packet entering at attachment `entry` for `dst` in `vpc`; returns the transit
/// gateway's id when the attachment is known (for the caller's return route check).
pub(super) fn checks(
    net: &Network,
    entry: &str,
    vpc: &str,
    src: IpAddr,
    dst: IpAddr,
    blocked: &mut Vec<String>,
) -> Option<String> {
    let Some(y) = net.tgw_attachments.get(entry) else {
        blocked.push(format!("transit gateway attachment {entry} not found"));
        return None;
    };
    let tgw = y.tgw_id.clone();
    if !net.transit_gateways.contains_key(&tgw) {
        blocked.push(format!("transit gateway {tgw} not found"));
    }
    let Some(x) = vpc_attachment(net, &tgw, vpc) else {
        blocked.push(format!("transit gateway {tgw} has no attachment to {vpc}"));
        return Some(tgw);
    };
    if x.id == y.id {
        blocked.push(format!("{entry} is {vpc}'s own attachment"));
        return Some(tgw);
    }
    if let Err(e) = tgw_routes(net, y, dst, &x.id) {
        blocked.push(e);
    }
    if let Err(e) = tgw_routes(net, x, src, &y.id) {
        blocked.push(format!("{e} (return path)"));
    }
    if y.resource_type == "vpc" {
        let w = &y.resource_id;
        if !vpc_cidrs(net, w).iter().any(|n| n.contains(&src)) {
            blocked.push(format!("{src} is not in the CIDRs of {w}"));
            return Some(tgw);
        }
        let mut inside = false;
        for s in net.subnets.values().filter(|s| &s.vpc_id == w) {
            let contains = s.cidr_v4.is_some_and(|n| IpNet::V4(n).contains(&src))
                || s.cidrs_v6.iter().any(|n| IpNet::V6(*n).contains(&src));
            if !contains {
                continue;
            }
            inside = true;
            if let Some(t) = table_of(net, &s.id, w)
                && routes_to(net, t, dst, &RouteTarget::TransitGateway(tgw.clone())).is_ok()
            {
                return Some(tgw);
            }
        }
        if inside {
            blocked.push(format!("no route table of {src}'s subnet in {w} routes {dst} to {tgw}"));
        } else {
            blocked.push(format!("{src} is in no subnet of {w}"));
        }
    }
    Some(tgw)
}
