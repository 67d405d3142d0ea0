//! Admissions: which sources the network ACL and an interface's security groups let in, piecewise over ports, and
//! their restriction to the sources a route brings.
//!
//! Why it exists: this is the engine's per-interface work (interfaces with different group sets get different
//! admissions), so it is built from cached per-group pieces that are shared, not copied: a group's admission
//! behind an ACL is computed once per VPC, an interface's admission only merges those, and an admission
//! restricted to a source set is cached by (admission, sources) since most interfaces of a subnet receive the
//! same sources.

use std::collections::BTreeSet;
use std::sync::Arc;

use ipnet::IpNet;

use super::parts::Piece;
use super::{Ctx, PortMap};
use crate::model::{PortRange, Protocol};
use crate::sets::{AddrSet, RangeSet};

/// A piecewise map over ports whose values are shared by the admissions built from it.
pub(super) type SharedMap = Vec<Piece<Arc<AddrSet>>>;

/// The admission of one (ACL, groups, protocol): per port piece, the sources passing the ACL both ways and some
/// group (interned in [`Sets`]), and each admitting group's sources (groups in sorted order, only those admitting
/// something).
pub(super) type Admission<'a> = Vec<Piece<(Arc<AddrSet>, Vec<(&'a str, Arc<AddrSet>)>)>>;

/// Names of admitting security groups.
pub(super) type Groups<'a> = BTreeSet<&'a str>;

/// Sources (interned), port intervals and groups, before conversion to lists.
type Shape<'a> = (Arc<AddrSet>, Vec<(u128, u128)>, Groups<'a>);

/// An admission restricted to a source set: (source prefixes, ports, admitting groups) per distinct source set.
pub(super) type Shapes<'a> = Vec<(Arc<[IpNet]>, Arc<[PortRange]>, Groups<'a>)>;

/// The pointwise intersection of two piecewise maps that both cover every port, with equal neighbours merged.
fn intersect_maps(a: &PortMap, b: &PortMap) -> SharedMap {
    let mut out: SharedMap = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let lo = a[i].lo.max(b[j].lo);
        let hi = a[i].hi.min(b[j].hi);
        let val = a[i].val.intersect(&b[j].val);
        match out.last_mut() {
            Some(l) if *l.val == val => l.hi = hi,
            _ => out.push(Piece { lo, hi, val: Arc::new(val) }),
        }
        if a[i].hi == hi {
            i += 1;
        }
        if b[j].hi == hi {
            j += 1;
        }
    }
    out
}

impl<'a> Ctx<'a> {
    /// The sources group `g` admits on an interface of `vpc` whose subnet has ACL `acl` (inbound, with the
    /// return path), piecewise over ports. Cached by (group, ACL, VPC, protocol).
    fn group_behind_acl(&mut self, g: &'a str, acl: &'a str, vpc: &'a str, p: Protocol) -> Arc<SharedMap> {
        let key = (g, acl, vpc, p);
        if let Some(m) = self.behind_acl.get(&key) {
            return m.clone();
        }
        let ok = self.acl_ok(acl, p, false);
        let admits = self.group(g, vpc, p, false);
        let m = Arc::new(intersect_maps(&admits, &ok));
        self.behind_acl.insert(key, m.clone());
        m
    }

    /// The admission of an interface of `vpc` with ACL `acl` and the sorted, deduplicated, existing `groups`, for
    /// protocol `p`.
    ///
    /// Only the groups that admit something of `p` behind the ACL count: the others add nothing to any piece (and
    /// the pieces are merged to maximal ones whatever the cuts), so the admission is cached by those alone, and
    /// interfaces whose groups differ only in groups without a rule for `p` share it (most groups have rules for
    /// TCP alone, so every interface of a VPC shares its UDP, ICMP and other-protocol admissions).
    pub(super) fn admission(
        &mut self,
        acl: &'a str,
        vpc: &'a str,
        groups: &[&'a str],
        p: Protocol,
    ) -> Arc<Admission<'a>> {
        // Keys are the interface's groups (found without allocating) and the admitting ones: both give the same.
        if let Some(a) = self.admission.get(&(acl, vpc, p)).and_then(|m| m.get(groups)) {
            return a.clone();
        }
        let mut maps: Vec<(&'a str, Arc<SharedMap>)> = Vec::with_capacity(groups.len());
        for &g in groups {
            let m = self.group_behind_acl(g, acl, vpc, p);
            if m.iter().any(|x| !x.val.is_empty()) {
                maps.push((g, m));
            }
        }
        let admitting: Vec<&'a str> = maps.iter().map(|(g, _)| *g).collect();
        if let Some(a) = self.admission.get(&(acl, vpc, p)).and_then(|m| m.get(&admitting)).cloned() {
            self.admission.entry((acl, vpc, p)).or_default().insert(groups.to_vec(), a.clone());
            return a;
        }
        // Merge the piecewise maps: cut at every piece start of any of them (every map starts at port 0).
        let mut cuts: Vec<u16> = vec![0];
        for (_, m) in &maps {
            cuts.extend(m.iter().map(|x| x.lo));
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut out: Admission<'a> = Vec::new();
        let mut idx = vec![0usize; maps.len()];
        let mut per: Vec<(&'a str, Arc<AddrSet>)> = Vec::with_capacity(maps.len());
        for (c, &lo) in cuts.iter().enumerate() {
            let hi = cuts.get(c + 1).map(|x| x - 1).unwrap_or(65535);
            per.clear();
            for (k, (g, m)) in maps.iter().enumerate() {
                while m[idx[k]].hi < lo {
                    idx[k] += 1;
                }
                let s = &m[idx[k]].val;
                if !s.is_empty() {
                    per.push((g, s.clone()));
                }
            }
            // The union is a function of the per-group sets: equal sets, equal piece.
            match out.last_mut() {
                Some(l) if l.val.1 == per => l.hi = hi,
                _ => {
                    let union = match per.as_slice() {
                        [] => AddrSet::none(),
                        [(_, s)] => (**s).clone(),
                        [(_, first), rest @ ..] => rest.iter().fold((**first).clone(), |u, (_, s)| u.union(s)),
                    };
                    out.push(Piece { lo, hi, val: (self.sets.intern(union), per.clone()) });
                }
            }
        }
        let a = Arc::new(out);
        let by_groups = self.admission.entry((acl, vpc, p)).or_default();
        by_groups.insert(groups.to_vec(), a.clone());
        by_groups.insert(admitting, a.clone());
        a
    }
}

/// The address sets of one VPC's analysis, shared, and what is derived from them.
///
/// Most interfaces of a VPC receive the same few source sets through the same few admission pieces, so each set
/// is made once ([`Sets::intern`]: equal sets are the same `Arc`), and the restriction of a piece to a source set
/// and a set's prefix list are cached by the sets' addresses. Every set whose address is a key is held here (or, for
/// source sets, by the caches that made them, dropped with these in [`Ctx::forget_vpc`]), so no address is reused
/// while it is a key.
#[derive(Default)]
pub(super) struct Sets {
    interned: super::FxMap<AddrSet, Arc<AddrSet>>,
    /// By (piece union, source set): their intersection, interned (`None`: empty).
    restricted: super::FxMap<(usize, usize), Option<Arc<AddrSet>>>,
    /// By an interned set's address: its prefixes.
    prefixes: super::FxMap<usize, Arc<[IpNet]>>,
    ports: super::FxMap<Vec<(u128, u128)>, Arc<[PortRange]>>,
}

impl Sets {
    /// The shared copy of `set`.
    pub(super) fn intern(&mut self, set: AddrSet) -> Arc<AddrSet> {
        if let Some(s) = self.interned.get(&set) {
            return s.clone();
        }
        let s = Arc::new(set.clone());
        self.interned.insert(set, s.clone());
        s
    }

    /// `union ∩ sources`, interned; `None` when empty. `union` must be interned, `sources` held by a cache that
    /// lives as long as this one.
    fn restrict(&mut self, union: &Arc<AddrSet>, sources: &Arc<AddrSet>) -> Option<Arc<AddrSet>> {
        let key = (Arc::as_ptr(union) as usize, Arc::as_ptr(sources) as usize);
        if let Some(s) = self.restricted.get(&key) {
            return s.clone();
        }
        let s = if union.intersects(sources) { Some(self.intern(union.intersect(sources))) } else { None };
        self.restricted.insert(key, s.clone());
        s
    }

    /// The prefixes of an interned set.
    fn prefixes(&mut self, s: &Arc<AddrSet>) -> Arc<[IpNet]> {
        self.prefixes.entry(Arc::as_ptr(s) as usize).or_insert_with(|| s.to_prefixes().into()).clone()
    }

    /// `ranges`: sorted, disjoint port intervals.
    fn ports(&mut self, ranges: Vec<(u128, u128)>) -> Arc<[PortRange]> {
        if let Some(l) = self.ports.get(&ranges) {
            return l.clone();
        }
        let l: Arc<[PortRange]> = RangeSet::from_ranges(ranges.clone())
            .ranges()
            .iter()
            .map(|&(a, b)| PortRange { from: a as u16, to: b as u16 })
            .collect();
        self.ports.insert(ranges, l.clone());
        l
    }
}

/// Intersects an admission with a source set, grouping ports by equal resulting source set.
pub(super) fn shapes<'a>(adm: &Admission<'a>, sources: &Arc<AddrSet>, sets: &mut Sets) -> Shapes<'a> {
    let mut acc: Vec<Shape<'a>> = Vec::new();
    for piece in adm.iter() {
        let (union, per) = &piece.val;
        let Some(s) = sets.restrict(union, sources) else { continue };
        let ports = (piece.lo as u128, piece.hi as u128);
        // Interned: equal sets are the same allocation.
        let k = match acc.iter().position(|(x, _, _)| Arc::ptr_eq(x, &s)) {
            Some(k) => {
                acc[k].1.push(ports);
                k
            }
            None => {
                acc.push((s, vec![ports], Groups::new()));
                acc.len() - 1
            }
        };
        let (s, _, gs) = &mut acc[k];
        for (g, admitted) in per {
            if admitted.intersects(s) {
                gs.insert(g);
            }
        }
    }
    acc.into_iter().map(|(s, ports, gs)| (sets.prefixes(&s), sets.ports(ports), gs)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(lo: u16, hi: u16, net: &str) -> Piece<AddrSet> {
        let val = if net.is_empty() { AddrSet::none() } else { AddrSet::net(&net.parse().unwrap()) };
        Piece { lo, hi, val }
    }

    #[test]
    fn intersect_maps_cuts_at_both_and_merges_equal_neighbours() {
        let a = vec![piece(0, 79, "10.0.0.0/8"), piece(80, 80, "0.0.0.0/0"), piece(81, 65535, "10.0.0.0/8")];
        let b = vec![piece(0, 1023, "10.1.0.0/16"), piece(1024, 65535, "")];
        let m = intersect_maps(&a, &b);
        let got: Vec<(u16, u16, Vec<String>)> =
            m.iter().map(|x| (x.lo, x.hi, x.val.to_prefixes().iter().map(|n| n.to_string()).collect())).collect();
        // 0-79 and 81-1023 both give 10.1/16 but are split by port 80 (also 10.1/16): all three merge.
        assert_eq!(got, vec![(0, 1023, vec!["10.1.0.0/16".to_string()]), (1024, 65535, vec![])]);
    }

    #[test]
    fn shapes_group_ports_by_source_set_and_name_only_groups_reaching_it() {
        let web = Arc::new(AddrSet::net(&"0.0.0.0/0".parse().unwrap()));
        let corp = Arc::new(AddrSet::net(&"10.0.0.0/8".parse().unwrap()));
        let mut sets = Sets::default();
        let none = sets.intern(AddrSet::none());
        let (web, corp) = (sets.intern((*web).clone()), sets.intern((*corp).clone()));
        let adm: Admission = vec![
            Piece { lo: 0, hi: 21, val: (none.clone(), vec![]) },
            Piece { lo: 22, hi: 22, val: (corp.clone(), vec![("sg-corp", corp.clone())]) },
            Piece { lo: 23, hi: 442, val: (none.clone(), vec![]) },
            Piece { lo: 443, hi: 443, val: (web.clone(), vec![("sg-corp", corp.clone()), ("sg-web", web.clone())]) },
            Piece { lo: 444, hi: 65535, val: (none, vec![]) },
        ];
        // From the internet only: port 22 (corp only) gives nothing; 443 comes from sg-web alone.
        let public = sets.intern(AddrSet::net(&"8.0.0.0/8".parse().unwrap()));
        let sh = shapes(&adm, &public, &mut sets);
        assert_eq!(sh.len(), 1);
        assert_eq!(&*sh[0].0, &["8.0.0.0/8".parse::<IpNet>().unwrap()]);
        assert_eq!(&*sh[0].1, &[PortRange { from: 443, to: 443 }]);
        assert_eq!(sh[0].2.iter().copied().collect::<Vec<_>>(), vec!["sg-web"]);
        // From 10/8: both ports give the same sources, so one shape with both groups.
        let sh = shapes(&adm, &corp, &mut sets);
        assert_eq!(sh.len(), 1);
        assert_eq!(&*sh[0].1, &[PortRange { from: 22, to: 22 }, PortRange { from: 443, to: 443 }]);
        assert_eq!(sh[0].2.iter().copied().collect::<Vec<_>>(), vec!["sg-corp", "sg-web"]);
    }
}
