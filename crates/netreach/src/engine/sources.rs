//! The sources an interface receives: through its VPC's gateways and peerings, per address family, shared.
//!
//! Why it exists: these sets depend on the interface's route table and on its peers' routes, not on the
//! interface, so they are computed once per (table, gateway or peering, family) and shared by every interface
//! of the subnet as `Arc`s — the engine's later caches are keyed by their addresses.

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::Ctx;
use super::parts::{self, RouteMap};
use crate::model::RouteTarget;
use crate::sets::AddrSet;

/// An active peering seen from one of its VPCs.
pub(super) struct PeerView {
    /// The peer VPC's addresses.
    pub(super) theirs: AddrSet,
    /// The peer's subnets (in index order): the destinations its route table sends to the peering, its addresses.
    subnets: Vec<(AddrSet, AddrSet)>,
}

impl<'a> Ctx<'a> {
    /// The destinations `table` (whose map is `rm`) sends to gateway or peering `via` (`target()`), within
    /// `within` if given (and within the internet for an internet gateway): the sources whose return route is
    /// right. Cached by (table, via).
    pub(super) fn gateway_sources(
        &mut self,
        table: &'a str,
        via: &'a str,
        rm: &RouteMap,
        target: impl FnOnce() -> RouteTarget,
        within: Option<&AddrSet>,
    ) -> AddrSet {
        if let Some(s) = self.gateway_sources.get(&(table, via)) {
            return s.clone();
        }
        let target = target();
        let mut s = parts::routed_to(rm, &target);
        if matches!(target, RouteTarget::InternetGateway(_)) {
            s = s.intersect(&self.internet);
        }
        if let Some(w) = within {
            s = s.intersect(w);
        }
        self.gateway_sources.insert((table, via), s.clone());
        s
    }

    /// Peering `pc` seen from `vpc`: `None` when it carries nothing (no such VPCs, a peering with itself, or
    /// overlapping CIDRs). Cached for the VPC being analysed.
    pub(super) fn peer_view(&mut self, pc: &'a crate::model::Peering, vpc: &str) -> Option<Arc<PeerView>> {
        if let Some(v) = self.peer_views.get(pc.id.as_str()) {
            return v.clone();
        }
        let view = self.new_peer_view(pc, vpc).map(Arc::new);
        self.peer_views.insert(pc.id.as_str(), view.clone());
        view
    }

    fn new_peer_view(&mut self, pc: &'a crate::model::Peering, vpc: &str) -> Option<PeerView> {
        let peer = if pc.requester_vpc == vpc {
            pc.accepter_vpc.as_str()
        } else if pc.accepter_vpc == vpc {
            pc.requester_vpc.as_str()
        } else {
            return None;
        };
        let (Some(mine), Some(theirs)) = (self.net.vpcs.get(vpc), self.net.vpcs.get(peer)) else { return None };
        if peer == vpc {
            return None;
        }
        let (mine, theirs) = (mine.cidrs(), theirs.cidrs());
        if parts::overlap(&mine, &theirs) {
            return None;
        }
        let target = RouteTarget::Peering(pc.id.clone());
        let ix = self.ix;
        let mut subnets = Vec::new();
        for s in ix.subnets.get(peer).map(Vec::as_slice).unwrap_or_default() {
            let routed = match ix.table(&s.id, peer) {
                Some(t) => parts::routed_to(&self.routes(t), &target),
                None => AddrSet::none(),
            };
            let nets: Vec<IpNet> =
                s.cidr_v4.map(IpNet::V4).into_iter().chain(s.cidrs_v6.iter().map(|n| IpNet::V6(*n))).collect();
            subnets.push((routed, AddrSet::nets(&nets)));
        }
        Some(PeerView { theirs: AddrSet::nets(&theirs), subnets })
    }

    /// The sources of peering `pc` that reach `dst` on an interface whose route table is `table`: the addresses
    /// of the peer's subnets whose route table sends `dst` to the peering, within `back` (what `table` sends back
    /// to it), of `dst`'s family. Cached by (table, peering, family, which of the peer's subnets route `dst`
    /// there), since most destinations of a VPC get the same answer.
    pub(super) fn peer_sources(
        &mut self,
        table: &'a str,
        pc: &'a crate::model::Peering,
        view: &PeerView,
        back: &AddrSet,
        dst: IpAddr,
    ) -> Arc<AddrSet> {
        let mut mask = std::mem::take(&mut self.mask);
        mask.clear();
        mask.extend(view.subnets.iter().map(|(routed, _)| routed.contains(dst)));
        let key = (table, pc.id.as_str(), dst.is_ipv6());
        let found = self.peer_sources.get(&key).and_then(|m| m.get(mask.as_slice())).cloned();
        let set = match found {
            Some(set) => set,
            None => {
                let mut from = AddrSet::none();
                for ((_, addresses), _) in view.subnets.iter().zip(&mask).filter(|(_, m)| **m) {
                    from = from.union(addresses);
                }
                let set = Arc::new(from.intersect(back).family(dst.is_ipv6()));
                self.peer_sources.entry(key).or_default().insert(mask.clone(), set.clone());
                set
            }
        };
        self.mask = mask;
        set
    }

    /// [`Ctx::gateway_sources`] of `dst`'s family, shared. Cached by (table, gateway, family).
    pub(super) fn gateway_family(
        &mut self,
        table: &'a str,
        via: &'a str,
        rm: &RouteMap,
        target: impl FnOnce() -> RouteTarget,
        dst: IpAddr,
    ) -> Arc<AddrSet> {
        let key = (table, via, dst.is_ipv6());
        if let Some(s) = self.gateway_family.get(&key) {
            return s.clone();
        }
        let s = Arc::new(self.gateway_sources(table, via, rm, target, None).family(dst.is_ipv6()));
        self.gateway_family.insert(key, s.clone());
        s
    }

    /// The shared copy of a source set (for sets made per destination, so that equal ones share their shapes).
    pub(super) fn intern(&mut self, set: AddrSet) -> Arc<AddrSet> {
        self.sets.intern(set)
    }
}
