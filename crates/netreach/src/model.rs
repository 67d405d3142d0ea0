//! Warden's own model of an AWS network: what reachability is computed on.
//!
//! Why it exists: two inputs (the JSON that `aws ec2 describe-*` prints, and
//! the AWS SDK's live answers) feed one model, and two evaluators (the
//! symbolic engine and the concrete packet walker that checks it) read it.
//! The model keeps only what decides reachability, already normalised:
//! CIDRs parsed, protocols as [`Protocol`], port ranges inclusive, every
//! reference by id. A reference to something that does not exist stays in the
//! model (the evaluators treat it as leading nowhere) and the loader records
//! a [`Warning`] naming the resource.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

/// An IP protocol as security groups and network ACLs name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// Every protocol (`-1` / `all`).
    All,
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// ICMP (1).
    Icmp,
    /// ICMPv6 (58).
    Icmpv6,
    /// Any other IP protocol number.
    Other(u8),
}

impl Protocol {
    /// From the AWS spelling: `-1`, `tcp`, `6`, `udp`, `17`, `icmp`, `1`, `icmpv6`, `58`, or a number.
    pub fn parse(s: &str) -> Option<Protocol> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "-1" | "all" => Protocol::All,
            "tcp" | "6" => Protocol::Tcp,
            "udp" | "17" => Protocol::Udp,
            "icmp" | "1" => Protocol::Icmp,
            "icmpv6" | "58" => Protocol::Icmpv6,
            other => Protocol::Other(other.parse().ok()?),
        })
    }

    /// Whether a rule for `self` admits traffic of protocol `p`.
    pub fn admits(self, p: Protocol) -> bool {
        self == Protocol::All || self == p
    }

    /// Whether ports mean anything for this protocol.
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp)
    }
}

/// An inclusive port range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortRange {
    /// First port.
    pub from: u16,
    /// Last port (inclusive).
    pub to: u16,
}

impl PortRange {
    /// Every port.
    pub const ALL: PortRange = PortRange { from: 0, to: 65535 };
    /// Whether `port` is in the range.
    pub fn contains(self, port: u16) -> bool {
        self.from <= port && port <= self.to
    }
}

/// A network, as loaded.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// VPCs by id.
    pub vpcs: BTreeMap<String, Vpc>,
    /// Subnets by id.
    pub subnets: BTreeMap<String, Subnet>,
    /// Route tables by id.
    pub route_tables: BTreeMap<String, RouteTable>,
    /// Internet gateways by id, with the VPCs they are attached to.
    pub internet_gateways: BTreeMap<String, Gateway>,
    /// Egress-only internet gateways (IPv6 outbound only) by id.
    pub egress_only_gateways: BTreeMap<String, Gateway>,
    /// NAT gateways by id (they give no inbound path).
    pub nat_gateways: BTreeMap<String, NatGateway>,
    /// Virtual private gateways by id.
    pub vpn_gateways: BTreeMap<String, Gateway>,
    /// VPC peering connections by id.
    pub peerings: BTreeMap<String, Peering>,
    /// Transit gateways by id.
    pub transit_gateways: BTreeMap<String, TransitGateway>,
    /// Transit gateway attachments by id.
    pub tgw_attachments: BTreeMap<String, TgwAttachment>,
    /// Transit gateway route tables by id.
    pub tgw_route_tables: BTreeMap<String, TgwRouteTable>,
    /// Network ACLs by id.
    pub network_acls: BTreeMap<String, NetworkAcl>,
    /// Security groups by id.
    pub security_groups: BTreeMap<String, SecurityGroup>,
    /// Managed prefix lists by id.
    pub prefix_lists: BTreeMap<String, PrefixList>,
    /// Network interfaces by id.
    pub interfaces: BTreeMap<String, Interface>,
    /// Instances by id.
    pub instances: BTreeMap<String, Instance>,
    /// Load balancers (ALB, NLB, classic) by ARN (classic: by name).
    pub load_balancers: BTreeMap<String, LoadBalancer>,
    /// Target groups by ARN.
    pub target_groups: BTreeMap<String, TargetGroup>,
    /// What the loader could not resolve, by resource.
    pub warnings: Vec<Warning>,
}

/// Something the loader found wrong or missing; never fatal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The resource concerned (id or ARN).
    pub resource: String,
    /// The file it came from, when loaded from a folder.
    pub file: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// A VPC.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vpc {
    /// `vpc-...`.
    pub id: String,
    /// Owner account, when known.
    pub account: Option<String>,
    /// Region, when known.
    pub region: Option<String>,
    /// IPv4 CIDR blocks (primary and associated).
    pub cidrs_v4: Vec<Ipv4Net>,
    /// IPv6 CIDR blocks.
    pub cidrs_v6: Vec<Ipv6Net>,
}

impl Vpc {
    /// Every CIDR block, IPv4 then IPv6.
    pub fn cidrs(&self) -> Vec<IpNet> {
        self.cidrs_v4.iter().map(|n| IpNet::V4(*n)).chain(self.cidrs_v6.iter().map(|n| IpNet::V6(*n))).collect()
    }
}

/// A subnet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    /// `subnet-...`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// IPv4 CIDR, if any (IPv6-only subnets have none).
    pub cidr_v4: Option<Ipv4Net>,
    /// IPv6 CIDRs.
    pub cidrs_v6: Vec<Ipv6Net>,
    /// Availability zone.
    pub availability_zone: Option<String>,
}

/// Where a route sends traffic.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum RouteTarget {
    /// The VPC itself (`local`).
    Local,
    /// An internet gateway.
    InternetGateway(String),
    /// An egress-only internet gateway.
    EgressOnlyGateway(String),
    /// A NAT gateway.
    NatGateway(String),
    /// A virtual private gateway.
    VpnGateway(String),
    /// A VPC peering connection.
    Peering(String),
    /// A transit gateway.
    TransitGateway(String),
    /// A network interface (appliance).
    Interface(String),
    /// An instance (appliance; its primary interface).
    Instance(String),
    /// Anything else (carrier gateway, VPC endpoint, ...), kept by name.
    Other(String),
}

/// How a route got into its table: decides ties between equal prefixes
/// (local beats static beats propagated).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteOrigin {
    /// The VPC's own local route (`CreateRouteTable`).
    Local,
    /// Added by a user (`CreateRoute`).
    Static,
    /// Propagated from a VGW (`EnableVgwRoutePropagation`).
    Propagated,
}

/// A route's destination.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum RouteDestination {
    /// An IPv4 or IPv6 prefix.
    Cidr(IpNet),
    /// A managed prefix list (resolved through [`Network::prefix_lists`]).
    PrefixList(String),
}

/// One route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Destination.
    pub destination: RouteDestination,
    /// Target.
    pub target: RouteTarget,
    /// How it got there.
    pub origin: RouteOrigin,
    /// `blackhole` routes drop traffic (their target is gone).
    pub blackhole: bool,
}

/// A route table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteTable {
    /// `rtb-...`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Whether it is the VPC's main table (used by subnets with no association).
    pub main: bool,
    /// Subnets explicitly associated.
    pub subnet_ids: Vec<String>,
    /// Gateways associated (edge association: ingress routing), by id.
    pub gateway_ids: Vec<String>,
    /// Routes.
    pub routes: Vec<Route>,
}

/// An internet, egress-only or VPN gateway and its attachments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gateway {
    /// `igw-...`, `eigw-...`, `vgw-...`.
    pub id: String,
    /// VPCs it is attached to (state `attached`/`available`).
    pub vpc_ids: Vec<String>,
}

/// A NAT gateway.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NatGateway {
    /// `nat-...`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Its subnet.
    pub subnet_id: String,
}

/// A VPC peering connection (only `active` ones carry traffic).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Peering {
    /// `pcx-...`.
    pub id: String,
    /// Requester VPC.
    pub requester_vpc: String,
    /// Accepter VPC.
    pub accepter_vpc: String,
    /// Requester CIDRs as the peering records them.
    pub requester_cidrs: Vec<IpNet>,
    /// Accepter CIDRs as the peering records them.
    pub accepter_cidrs: Vec<IpNet>,
    /// Status is `active`.
    pub active: bool,
}

/// A transit gateway.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransitGateway {
    /// `tgw-...`.
    pub id: String,
}

/// A transit gateway attachment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TgwAttachment {
    /// `tgw-attach-...`.
    pub id: String,
    /// The transit gateway.
    pub tgw_id: String,
    /// `vpc`, `vpn`, `direct-connect-gateway`, `peering`, ...
    pub resource_type: String,
    /// The attached resource (a VPC id for VPC attachments).
    pub resource_id: String,
    /// The TGW route table it is associated with.
    pub route_table_id: Option<String>,
}

/// A transit gateway route table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TgwRouteTable {
    /// `tgw-rtb-...`.
    pub id: String,
    /// The transit gateway.
    pub tgw_id: String,
    /// Routes: destination → attachment (`None` for blackhole).
    pub routes: Vec<(IpNet, Option<String>)>,
}

/// One network ACL entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclEntry {
    /// Rule number (evaluated ascending; 32767 is the implicit deny).
    pub rule_number: u16,
    /// Outbound (`Egress: true`) or inbound.
    pub egress: bool,
    /// Protocol.
    pub protocol: Protocol,
    /// Allow or deny.
    pub allow: bool,
    /// The address range (IPv4 or IPv6).
    pub cidr: IpNet,
    /// Ports (TCP/UDP only; all when absent).
    pub ports: PortRange,
}

/// A network ACL: stateless, first matching rule by number wins, implicit deny.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkAcl {
    /// `acl-...`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// The VPC's default ACL (used by subnets with no association).
    pub default: bool,
    /// Associated subnets.
    pub subnet_ids: Vec<String>,
    /// Entries, any order (evaluators sort by rule number).
    pub entries: Vec<AclEntry>,
}

/// Who a security group rule admits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum SgPeer {
    /// An IPv4 or IPv6 range.
    Cidr(IpNet),
    /// A managed prefix list.
    PrefixList(String),
    /// Members of a security group: the private IPs of the interfaces that
    /// carry it (in this VPC or a peered one).
    Group(String),
}

/// One security group rule (one peer; the loader splits multi-peer rules).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SgRule {
    /// Protocol.
    pub protocol: Protocol,
    /// Ports (TCP/UDP; all for other protocols).
    pub ports: PortRange,
    /// Who.
    pub peer: SgPeer,
}

/// A security group: stateful allow-list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecurityGroup {
    /// `sg-...`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Group name.
    pub name: String,
    /// Inbound rules.
    pub ingress: Vec<SgRule>,
    /// Outbound rules.
    pub egress: Vec<SgRule>,
}

/// A managed prefix list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrefixList {
    /// `pl-...`.
    pub id: String,
    /// Its entries.
    pub cidrs: Vec<IpNet>,
}

/// A network interface.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interface {
    /// `eni-...`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Its subnet.
    pub subnet_id: String,
    /// Private IPv4 addresses.
    pub private_ips: Vec<Ipv4Addr>,
    /// IPv6 addresses.
    pub ipv6_ips: Vec<Ipv6Addr>,
    /// Public IPv4 addresses (auto-assigned or Elastic IP), each mapped to a private IP.
    pub public_ips: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// Security groups.
    pub security_group_ids: Vec<String>,
    /// The instance it is attached to.
    pub instance_id: Option<String>,
    /// `interface`, `network_load_balancer`, `nat_gateway`, ...
    pub interface_type: String,
    /// Description (load balancer ENIs are recognised by it).
    pub description: String,
}

impl Interface {
    /// Every private address (v4 and v6).
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.private_ips.iter().map(|a| IpAddr::V4(*a)).chain(self.ipv6_ips.iter().map(|a| IpAddr::V6(*a)))
    }
}

/// An instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// `i-...`.
    pub id: String,
    /// Running instances receive traffic; stopped ones receive nothing.
    pub running: bool,
    /// Its interfaces, the primary one (device index 0) first.
    pub interface_ids: Vec<String>,
    /// `Name` tag, when set.
    pub name: Option<String>,
}

/// A load balancer's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadBalancerKind {
    /// Application Load Balancer.
    Application,
    /// Network Load Balancer.
    Network,
    /// Classic Load Balancer.
    Classic,
}

/// A load balancer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancer {
    /// ARN (classic: `classic/<name>`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: LoadBalancerKind,
    /// `internet-facing` (true) or `internal`.
    pub internet_facing: bool,
    /// Its VPC.
    pub vpc_id: String,
    /// Subnets it has nodes in.
    pub subnet_ids: Vec<String>,
    /// Its security groups (ALB, classic; NLBs may have none).
    pub security_group_ids: Vec<String>,
    /// Listeners.
    pub listeners: Vec<Listener>,
}

impl LoadBalancer {
    /// Whether `eni` is one of this load balancer's own interfaces (AWS describes them `ELB app/<name>/<id>`,
    /// `ELB net/<name>/<id>`, or `ELB <name>` for a classic load balancer).
    pub fn owns(&self, eni: &Interface) -> bool {
        let Some(rest) = eni.description.strip_prefix("ELB ") else { return false };
        match self.kind {
            LoadBalancerKind::Classic => rest == self.name,
            _ => self.id.split_once(":loadbalancer/").is_some_and(|(_, suffix)| suffix == rest),
        }
    }

    /// The addresses of `subnet` (its IPv4 range) that may be this load balancer's node there:
    /// describe-load-balancers does not give them, so every address of the range except the five AWS
    /// reserves (the first four and the last) and those of interfaces that are not this load balancer's.
    pub fn node_addresses(&self, net: &Network, subnet: &Subnet) -> Vec<(u32, u32)> {
        let Some(c) = subnet.cidr_v4 else { return Vec::new() };
        let (lo, hi) = (u32::from(c.network()), u32::from(c.broadcast()));
        if hi.saturating_sub(lo) < 5 {
            return Vec::new();
        }
        let mut taken: Vec<u32> = net
            .interfaces
            .values()
            .filter(|e| !self.owns(e))
            .flat_map(|e| e.private_ips.iter().map(|a| u32::from(*a)))
            .filter(|a| (lo..=hi).contains(a))
            .collect();
        taken.sort_unstable();
        taken.dedup();
        let mut out = Vec::new();
        let mut from = lo + 4;
        for t in taken.into_iter().chain([hi]) {
            if t > from {
                out.push((from, t - 1));
            }
            from = from.max(t.saturating_add(1));
        }
        out
    }
}

/// A listener and where it forwards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Listener {
    /// Protocol the listener accepts (TCP for HTTP/HTTPS/TLS, UDP for UDP).
    pub protocol: Protocol,
    /// Listener port.
    pub port: u16,
    /// Target groups it forwards to (default actions), by ARN.
    pub target_group_ids: Vec<String>,
    /// Classic load balancers forward to this instance port directly.
    pub instance_port: Option<u16>,
    /// Classic load balancers: the registered instances.
    pub instance_ids: Vec<String>,
}

/// A target group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetGroup {
    /// ARN.
    pub id: String,
    /// Protocol to the targets.
    pub protocol: Protocol,
    /// Default target port.
    pub port: Option<u16>,
    /// `instance` or `ip`.
    pub target_type: String,
    /// Registered targets (from describe-target-health).
    pub targets: Vec<Target>,
}

/// A target registered in a target group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// Instance id (`instance` groups) or IP address (`ip` groups).
    pub id: String,
    /// Port the target receives on (the group's port when absent).
    pub port: Option<u16>,
    /// `TargetHealth.State`: `healthy`, `initial`, `unhealthy`, `unused`, `draining`, `unavailable`
    /// (`None`: not given, taken as healthy).
    pub state: Option<String>,
}

impl Target {
    /// Whether the state lets the load balancer send to it while some target of its group is healthy.
    pub fn healthy(&self) -> bool {
        matches!(self.state.as_deref(), None | Some("healthy" | "initial"))
    }

    /// Whether the load balancer sends to it when no target of its group is healthy (fail-open).
    pub fn fail_open(&self) -> bool {
        matches!(self.state.as_deref(), Some("unhealthy"))
    }
}

impl TargetGroup {
    /// Whether a load balancer of `kind` forwarding to this group keeps the
    /// client's address as the source (AWS defaults, since the
    /// `preserve_client_ip.enabled` attribute is not in describe-target-groups):
    /// a Network Load Balancer does for `instance` targets and for UDP groups,
    /// not for TCP `ip` targets; ALBs and classic ELBs never do.
    pub fn preserves_client_ip(&self, kind: LoadBalancerKind) -> bool {
        kind == LoadBalancerKind::Network && (self.target_type == "instance" || self.protocol == Protocol::Udp)
    }

    /// The targets the load balancer sends to: the healthy ones, or, when none
    /// is, every `unhealthy` one (AWS routes to all targets when none passes
    /// its health check). `unused`, `draining` and `unavailable` targets receive nothing.
    pub fn receiving(&self) -> impl Iterator<Item = &Target> + '_ {
        let any_healthy = self.targets.iter().any(Target::healthy);
        self.targets.iter().filter(move |t| if any_healthy { t.healthy() } else { t.fail_open() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eni(id: &str, ip: &str, description: &str) -> Interface {
        Interface {
            id: id.into(),
            vpc_id: "vpc-1".into(),
            subnet_id: "subnet-1".into(),
            private_ips: vec![ip.parse().unwrap()],
            ipv6_ips: vec![],
            public_ips: vec![],
            security_group_ids: vec![],
            instance_id: None,
            interface_type: "interface".into(),
            description: description.into(),
        }
    }

    #[test]
    fn load_balancer_nodes_avoid_reserved_and_other_interfaces() {
        let lb = LoadBalancer {
            id: "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/web/abc".into(),
            name: "web".into(),
            kind: LoadBalancerKind::Application,
            internet_facing: true,
            vpc_id: "vpc-1".into(),
            subnet_ids: vec!["subnet-1".into()],
            security_group_ids: vec![],
            listeners: vec![],
        };
        let subnet = Subnet {
            id: "subnet-1".into(),
            vpc_id: "vpc-1".into(),
            cidr_v4: Some("10.0.1.0/28".parse().unwrap()),
            cidrs_v6: vec![],
            availability_zone: None,
        };
        let mut net = Network::default();
        for e in [eni("eni-i", "10.0.1.7", "Primary network interface"), eni("eni-lb", "10.0.1.9", "ELB app/web/abc")] {
            net.interfaces.insert(e.id.clone(), e);
        }
        assert!(lb.owns(&net.interfaces["eni-lb"]) && !lb.owns(&net.interfaces["eni-i"]));
        let at = |a: &str| u32::from(a.parse::<Ipv4Addr>().unwrap());
        // .0-.3 and .15 reserved, .7 another interface's; .9 is the load balancer's own.
        assert_eq!(
            lb.node_addresses(&net, &subnet),
            [(at("10.0.1.4"), at("10.0.1.6")), (at("10.0.1.8"), at("10.0.1.14"))]
        );
    }
}
