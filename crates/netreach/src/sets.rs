//! Range and prefix set algebra: the domain core of the symbolic engine.
//!
//! Why it exists: reachability is a question about *sets* of packets (every
//! source address, every port), and answering it exactly without enumerating
//! packets needs sets of integers closed under union, intersection and
//! difference. [`RangeSet`] is a sorted list of disjoint, non-adjacent
//! inclusive intervals over `u128` (IPv4 addresses live in `0..=u32::MAX`,
//! IPv6 in the whole `u128`, ports in `0..=65535`); [`AddrSet`] pairs one for
//! each address family and converts back to a minimal list of prefixes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// A set of integers as sorted, disjoint, non-adjacent inclusive intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RangeSet {
    r: Vec<(u128, u128)>,
}

impl RangeSet {
    /// The empty set.
    pub fn empty() -> RangeSet {
        RangeSet { r: Vec::new() }
    }

    /// `lo..=hi` (empty when `lo > hi`).
    pub fn range(lo: u128, hi: u128) -> RangeSet {
        if lo > hi { RangeSet::empty() } else { RangeSet { r: vec![(lo, hi)] } }
    }

    /// From arbitrary (possibly overlapping, unsorted) inclusive intervals.
    pub fn from_ranges(mut v: Vec<(u128, u128)>) -> RangeSet {
        v.retain(|(a, b)| a <= b);
        v.sort_unstable();
        let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            match out.last_mut() {
                Some(last) if last.1 == u128::MAX || a <= last.1 + 1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        RangeSet { r: out }
    }

    /// The intervals, sorted.
    pub fn ranges(&self) -> &[(u128, u128)] {
        &self.r
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.r.is_empty()
    }

    /// Whether `x` is in the set.
    pub fn contains(&self, x: u128) -> bool {
        let i = self.r.partition_point(|&(_, b)| b < x);
        i < self.r.len() && self.r[i].0 <= x
    }

    /// Union.
    pub fn union(&self, o: &RangeSet) -> RangeSet {
        if o.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return o.clone();
        }
        // Both lists are sorted and disjoint: merge them in one pass, joining overlapping or adjacent intervals.
        let mut out: Vec<(u128, u128)> = Vec::with_capacity(self.r.len() + o.r.len());
        let (mut i, mut j) = (0, 0);
        while i < self.r.len() || j < o.r.len() {
            let next = if j == o.r.len() || (i < self.r.len() && self.r[i].0 <= o.r[j].0) {
                i += 1;
                self.r[i - 1]
            } else {
                j += 1;
                o.r[j - 1]
            };
            match out.last_mut() {
                Some(last) if last.1 == u128::MAX || next.0 <= last.1 + 1 => last.1 = last.1.max(next.1),
                _ => out.push(next),
            }
        }
        RangeSet { r: out }
    }

    /// Intersection.
    pub fn intersect(&self, o: &RangeSet) -> RangeSet {
        if self.is_empty() || o.is_empty() {
            return RangeSet::empty();
        }
        let (mut i, mut j) = (0, 0);
        // Each step emits at most one interval and consumes one of either side, the last one of both.
        let mut out = Vec::with_capacity(self.r.len() + o.r.len() - 1);
        while i < self.r.len() && j < o.r.len() {
            let (a1, b1) = self.r[i];
            let (a2, b2) = o.r[j];
            let lo = a1.max(a2);
            let hi = b1.min(b2);
            if lo <= hi {
                out.push((lo, hi));
            }
            if b1 < b2 { i += 1 } else { j += 1 }
        }
        RangeSet { r: out }
    }

    /// Whether the two sets share an element.
    pub fn intersects(&self, o: &RangeSet) -> bool {
        let (mut i, mut j) = (0, 0);
        while i < self.r.len() && j < o.r.len() {
            let (a1, b1) = self.r[i];
            let (a2, b2) = o.r[j];
            if a1.max(a2) <= b1.min(b2) {
                return true;
            }
            if b1 < b2 { i += 1 } else { j += 1 }
        }
        false
    }

    /// Difference `self \ o`.
    pub fn subtract(&self, o: &RangeSet) -> RangeSet {
        if o.is_empty() || self.is_empty() {
            return self.clone();
        }
        let mut out = Vec::new();
        let mut j = 0;
        for &(a, b) in &self.r {
            let mut lo = a;
            let mut done = false;
            while j < o.r.len() && o.r[j].1 < lo {
                j += 1;
            }
            let mut k = j;
            while k < o.r.len() && o.r[k].0 <= b {
                let (c, d) = o.r[k];
                if c > lo {
                    out.push((lo, c - 1));
                }
                if d >= b {
                    done = true;
                    break;
                }
                lo = d + 1;
                k += 1;
            }
            if !done {
                out.push((lo, b));
            }
        }
        RangeSet { r: out }
    }
}

/// The largest IPv4 address as an integer.
pub const V4_MAX: u128 = u32::MAX as u128;

/// A set of IP addresses, one [`RangeSet`] per family.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddrSet {
    /// IPv4 addresses as integers.
    pub v4: RangeSet,
    /// IPv6 addresses as integers.
    pub v6: RangeSet,
}

/// An address's family (false: IPv4) and integer value.
pub fn addr_key(a: IpAddr) -> (bool, u128) {
    match a {
        IpAddr::V4(a) => (false, u32::from(a) as u128),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

fn net_range(n: &IpNet) -> (bool, u128, u128) {
    match n {
        IpNet::V4(n) => (false, u32::from(n.network()) as u128, u32::from(n.broadcast()) as u128),
        IpNet::V6(n) => (true, u128::from(n.network()), u128::from(n.broadcast())),
    }
}

impl AddrSet {
    /// No address.
    pub fn none() -> AddrSet {
        AddrSet::default()
    }

    /// Every IPv4 and IPv6 address.
    pub fn all() -> AddrSet {
        AddrSet { v4: RangeSet::range(0, V4_MAX), v6: RangeSet::range(0, u128::MAX) }
    }

    /// One prefix.
    pub fn net(n: &IpNet) -> AddrSet {
        let (v6, lo, hi) = net_range(n);
        if v6 {
            AddrSet { v4: RangeSet::empty(), v6: RangeSet::range(lo, hi) }
        } else {
            AddrSet { v4: RangeSet::range(lo, hi), v6: RangeSet::empty() }
        }
    }

    /// A union of prefixes.
    pub fn nets<'a>(ns: impl IntoIterator<Item = &'a IpNet>) -> AddrSet {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for n in ns {
            let (v6, lo, hi) = net_range(n);
            if v6 { b.push((lo, hi)) } else { a.push((lo, hi)) }
        }
        AddrSet { v4: RangeSet::from_ranges(a), v6: RangeSet::from_ranges(b) }
    }

    /// A union of single addresses.
    pub fn addrs(xs: impl IntoIterator<Item = IpAddr>) -> AddrSet {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for x in xs {
            match addr_key(x) {
                (false, k) => a.push((k, k)),
                (true, k) => b.push((k, k)),
            }
        }
        AddrSet { v4: RangeSet::from_ranges(a), v6: RangeSet::from_ranges(b) }
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Whether `a` is in the set.
    pub fn contains(&self, a: IpAddr) -> bool {
        match addr_key(a) {
            (false, k) => self.v4.contains(k),
            (true, k) => self.v6.contains(k),
        }
    }

    /// Union.
    pub fn union(&self, o: &AddrSet) -> AddrSet {
        AddrSet { v4: self.v4.union(&o.v4), v6: self.v6.union(&o.v6) }
    }

    /// Intersection.
    pub fn intersect(&self, o: &AddrSet) -> AddrSet {
        AddrSet { v4: self.v4.intersect(&o.v4), v6: self.v6.intersect(&o.v6) }
    }

    /// Whether the sets share an address.
    pub fn intersects(&self, o: &AddrSet) -> bool {
        self.v4.intersects(&o.v4) || self.v6.intersects(&o.v6)
    }

    /// Difference.
    pub fn subtract(&self, o: &AddrSet) -> AddrSet {
        AddrSet { v4: self.v4.subtract(&o.v4), v6: self.v6.subtract(&o.v6) }
    }

    /// The lowest address of the set of family `v6`, if any.
    pub fn first(&self, v6: bool) -> Option<IpAddr> {
        if v6 {
            self.v6.ranges().first().map(|r| IpAddr::V6(Ipv6Addr::from(r.0)))
        } else {
            self.v4.ranges().first().map(|r| IpAddr::V4(Ipv4Addr::from(r.0 as u32)))
        }
    }

    /// Only the addresses of one family (`v6` true: IPv6).
    pub fn family(&self, v6: bool) -> AddrSet {
        if v6 {
            AddrSet { v4: RangeSet::empty(), v6: self.v6.clone() }
        } else {
            AddrSet { v4: self.v4.clone(), v6: RangeSet::empty() }
        }
    }

    /// The minimal sorted list of disjoint prefixes covering exactly the set.
    pub fn to_prefixes(&self) -> Vec<IpNet> {
        let mut out = Vec::new();
        for &(lo, hi) in self.v4.ranges() {
            split(lo, hi, 32, &mut |a, len| {
                out.push(IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a as u32), len).expect("prefix length")))
            });
        }
        for &(lo, hi) in self.v6.ranges() {
            split(lo, hi, 128, &mut |a, len| {
                out.push(IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), len).expect("prefix length")))
            });
        }
        out
    }
}

/// Splits `lo..=hi` into aligned blocks of a `bits`-wide space.
fn split(mut lo: u128, hi: u128, bits: u32, f: &mut impl FnMut(u128, u8)) {
    loop {
        // Largest k such that lo is 2^k-aligned and lo + 2^k - 1 <= hi.
        let align = if lo == 0 { bits } else { lo.trailing_zeros().min(bits) };
        // The largest block that fits: 2^k - 1 <= hi - lo, i.e. k = floor(log2(hi - lo + 1)).
        let span = hi - lo;
        let fits = if span == u128::MAX { 128 } else { 127 - (span + 1).leading_zeros() };
        let k = align.min(fits);
        f(lo, (bits - k) as u8);
        let end = if k == 128 { u128::MAX } else { lo + ((1u128 << k) - 1) };
        if end >= hi {
            return;
        }
        lo = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algebra() {
        let a = RangeSet::from_ranges(vec![(0, 10), (20, 30), (11, 12)]);
        assert_eq!(a.ranges(), &[(0, 12), (20, 30)]);
        let b = RangeSet::range(5, 25);
        assert_eq!(a.intersect(&b).ranges(), &[(5, 12), (20, 25)]);
        assert_eq!(a.subtract(&b).ranges(), &[(0, 4), (26, 30)]);
        assert_eq!(b.subtract(&a).ranges(), &[(13, 19)]);
        assert_eq!(a.union(&b).ranges(), &[(0, 30)]);
        assert!(a.contains(12) && !a.contains(15));
        let full = RangeSet::range(0, u128::MAX);
        assert_eq!(full.subtract(&RangeSet::range(0, u128::MAX)), RangeSet::empty());
        assert_eq!(full.subtract(&RangeSet::range(5, 5)).ranges(), &[(0, 4), (6, u128::MAX)]);
    }

    /// The block search `split` replaced: try every size from the alignment down.
    fn split_by_search(mut lo: u128, hi: u128, bits: u32) -> Vec<(u128, u8)> {
        let mut out = Vec::new();
        loop {
            let mut k = if lo == 0 { bits } else { lo.trailing_zeros().min(bits) };
            while k > 0 && (k < 128 && lo + ((1u128 << k) - 1) > hi) {
                k -= 1;
            }
            out.push((lo, (bits - k) as u8));
            let end = if k == 128 { u128::MAX } else { lo + ((1u128 << k) - 1) };
            if end >= hi {
                return out;
            }
            lo = end + 1;
        }
    }

    fn split_all(lo: u128, hi: u128, bits: u32) -> Vec<(u128, u8)> {
        let mut out = Vec::new();
        split(lo, hi, bits, &mut |a, len| out.push((a, len)));
        out
    }

    #[test]
    fn split_edges() {
        assert_eq!(split_all(0, u128::MAX, 128), vec![(0, 0)]);
        assert_eq!(split_all(0, V4_MAX, 32), vec![(0, 0)]);
        assert_eq!(split_all(1, u128::MAX, 128).len(), 128);
        assert_eq!(split_all(5, 5, 32), vec![(5, 32)]);
        assert_eq!(split_all(u128::MAX, u128::MAX, 128), vec![(u128::MAX, 128)]);
    }

    proptest::proptest! {
        #[test]
        fn split_finds_the_largest_blocks(a in 0u128..=V4_MAX, b in 0u128..=V4_MAX, x: u128, y: u128) {
            let (lo, hi) = (a.min(b), a.max(b));
            proptest::prop_assert_eq!(split_all(lo, hi, 32), split_by_search(lo, hi, 32));
            let (lo, hi) = (x.min(y), x.max(y));
            proptest::prop_assert_eq!(split_all(lo, hi, 128), split_by_search(lo, hi, 128));
        }
    }

    fn ranges() -> impl proptest::strategy::Strategy<Value = RangeSet> {
        proptest::collection::vec((0u128..64, 0u128..8), 0..8)
            .prop_map(|v| RangeSet::from_ranges(v.into_iter().map(|(a, l)| (a, a + l)).collect()))
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        /// Union and intersection agree with membership of every element of a small universe.
        #[test]
        fn union_and_intersection_are_exact(a in ranges(), b in ranges()) {
            let (u, i) = (a.union(&b), a.intersect(&b));
            for x in 0..80u128 {
                proptest::prop_assert_eq!(u.contains(x), a.contains(x) || b.contains(x));
                proptest::prop_assert_eq!(i.contains(x), a.contains(x) && b.contains(x));
            }
            // Canonical: the same value from_ranges builds.
            proptest::prop_assert_eq!(&u, &RangeSet::from_ranges(u.ranges().to_vec()));
            proptest::prop_assert_eq!(&i, &RangeSet::from_ranges(i.ranges().to_vec()));
        }
    }

    #[test]
    fn union_at_the_top_of_the_space() {
        let top = RangeSet::range(u128::MAX - 1, u128::MAX);
        let below = RangeSet::range(5, u128::MAX - 2);
        assert_eq!(top.union(&below).ranges(), &[(5, u128::MAX)]);
        assert_eq!(below.union(&top).ranges(), &[(5, u128::MAX)]);
        assert_eq!(top.union(&RangeSet::range(u128::MAX, u128::MAX)), top);
    }

    #[test]
    fn prefixes() {
        let s = AddrSet::all();
        let p: Vec<String> = s.to_prefixes().iter().map(|n| n.to_string()).collect();
        assert_eq!(p, vec!["0.0.0.0/0", "::/0"]);
        let n: IpNet = "10.0.0.0/8".parse().unwrap();
        let s = AddrSet { v4: RangeSet::range(0, V4_MAX), v6: RangeSet::empty() }.subtract(&AddrSet::net(&n));
        let p: Vec<String> = s.to_prefixes().iter().map(|n| n.to_string()).collect();
        assert_eq!(
            p,
            vec![
                "0.0.0.0/5",
                "8.0.0.0/7",
                "11.0.0.0/8",
                "12.0.0.0/6",
                "16.0.0.0/4",
                "32.0.0.0/3",
                "64.0.0.0/2",
                "128.0.0.0/1"
            ]
        );
    }
}
