//! The AWS CLI's describe-* output shapes, as far as reachability needs them.
//!
//! Why it exists: the loader reads the JSON exactly as `aws ec2 describe-*`
//! and `aws elbv2 describe-*` print it (PascalCase names, the botocore output
//! model). Every field is optional and unknown fields are ignored, so one odd
//! or missing field never fails a whole file: the conversion decides what is
//! required and warns about what is missing. Each record is deserialized on
//! its own, so one malformed record costs only itself.

use serde::Deserialize;

/// `Tags` / `TagSet` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Tag {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// A `{ "State": ... }` wrapper (CIDR association and route table association states).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StateBox {
    pub state: Option<String>,
}

/// describe-vpcs `Vpcs[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Vpc {
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub cidr_block: Option<String>,
    pub cidr_block_association_set: Vec<VpcCidr>,
    pub ipv6_cidr_block_association_set: Vec<VpcCidr>,
}

/// A VPC's or subnet's CIDR association.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VpcCidr {
    pub cidr_block: Option<String>,
    pub ipv6_cidr_block: Option<String>,
    pub cidr_block_state: Option<StateBox>,
    pub ipv6_cidr_block_state: Option<StateBox>,
}

/// describe-subnets `Subnets[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Subnet {
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub cidr_block: Option<String>,
    pub ipv6_cidr_block_association_set: Vec<VpcCidr>,
    pub availability_zone: Option<String>,
    pub subnet_arn: Option<String>,
    pub owner_id: Option<String>,
}

/// describe-route-tables `RouteTables[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RouteTable {
    pub route_table_id: Option<String>,
    pub vpc_id: Option<String>,
    pub associations: Vec<RtAssociation>,
    pub routes: Vec<Route>,
}

/// A route table association (main, subnet or gateway/edge).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RtAssociation {
    pub main: Option<bool>,
    pub subnet_id: Option<String>,
    pub gateway_id: Option<String>,
    pub association_state: Option<StateBox>,
}

/// A VPC route.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Route {
    pub destination_cidr_block: Option<String>,
    pub destination_ipv6_cidr_block: Option<String>,
    pub destination_prefix_list_id: Option<String>,
    pub gateway_id: Option<String>,
    pub egress_only_internet_gateway_id: Option<String>,
    pub nat_gateway_id: Option<String>,
    pub vpc_peering_connection_id: Option<String>,
    pub transit_gateway_id: Option<String>,
    pub network_interface_id: Option<String>,
    pub instance_id: Option<String>,
    pub carrier_gateway_id: Option<String>,
    pub local_gateway_id: Option<String>,
    pub core_network_arn: Option<String>,
    pub origin: Option<String>,
    pub state: Option<String>,
}

/// A gateway's VPC attachment.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GwAttachment {
    pub vpc_id: Option<String>,
    pub state: Option<String>,
}

/// describe-internet-gateways `InternetGateways[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InternetGateway {
    pub internet_gateway_id: Option<String>,
    pub attachments: Vec<GwAttachment>,
}

/// describe-egress-only-internet-gateways `EgressOnlyInternetGateways[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EgressOnlyGateway {
    pub egress_only_internet_gateway_id: Option<String>,
    pub attachments: Vec<GwAttachment>,
}

/// describe-vpn-gateways `VpnGateways[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VpnGateway {
    pub vpn_gateway_id: Option<String>,
    pub state: Option<String>,
    pub vpc_attachments: Vec<GwAttachment>,
}

/// describe-nat-gateways `NatGateways[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NatGateway {
    pub nat_gateway_id: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub state: Option<String>,
}

/// `RequesterVpcInfo` / `AccepterVpcInfo`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PeeringVpcInfo {
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub region: Option<String>,
    pub cidr_block: Option<String>,
    pub cidr_block_set: Vec<VpcCidr>,
    pub ipv6_cidr_block_set: Vec<VpcCidr>,
}

/// A peering connection's `Status`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PeeringStatus {
    pub code: Option<String>,
}

/// describe-vpc-peering-connections `VpcPeeringConnections[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Peering {
    pub vpc_peering_connection_id: Option<String>,
    pub requester_vpc_info: Option<PeeringVpcInfo>,
    pub accepter_vpc_info: Option<PeeringVpcInfo>,
    pub status: Option<PeeringStatus>,
}

/// describe-transit-gateways `TransitGateways[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TransitGateway {
    pub transit_gateway_id: Option<String>,
    pub state: Option<String>,
}

/// A TGW attachment's `Association`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TgwAssociation {
    pub transit_gateway_route_table_id: Option<String>,
    pub state: Option<String>,
}

/// describe-transit-gateway-attachments `TransitGatewayAttachments[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TgwAttachment {
    pub transit_gateway_attachment_id: Option<String>,
    pub transit_gateway_id: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub state: Option<String>,
    pub association: Option<TgwAssociation>,
}

/// describe-transit-gateway-route-tables `TransitGatewayRouteTables[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TgwRouteTable {
    pub transit_gateway_route_table_id: Option<String>,
    pub transit_gateway_id: Option<String>,
}

/// search-transit-gateway-routes `Routes[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TgwRoute {
    pub destination_cidr_block: Option<String>,
    pub prefix_list_id: Option<String>,
    pub transit_gateway_attachments: Vec<TgwRouteAttachment>,
    pub state: Option<String>,
}

/// A TGW route's attachment.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TgwRouteAttachment {
    pub transit_gateway_attachment_id: Option<String>,
}

/// get-transit-gateway-route-table-associations `Associations[]` and
/// get-transit-gateway-route-table-propagations
/// `TransitGatewayRouteTablePropagations[]` (the same members that matter).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TgwRouteTableLink {
    pub transit_gateway_attachment_id: Option<String>,
    pub state: Option<String>,
}

/// describe-network-acls `NetworkAcls[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkAcl {
    pub network_acl_id: Option<String>,
    pub vpc_id: Option<String>,
    pub is_default: Option<bool>,
    pub associations: Vec<AclAssociation>,
    pub entries: Vec<AclEntry>,
}

/// A NACL's subnet association.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclAssociation {
    pub subnet_id: Option<String>,
}

/// A NACL entry.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclEntry {
    pub rule_number: Option<i64>,
    pub egress: Option<bool>,
    pub protocol: Option<String>,
    pub rule_action: Option<String>,
    pub cidr_block: Option<String>,
    pub ipv6_cidr_block: Option<String>,
    pub port_range: Option<AclPortRange>,
}

/// A NACL entry's `PortRange`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AclPortRange {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// describe-security-groups `SecurityGroups[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SecurityGroup {
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub vpc_id: Option<String>,
    pub ip_permissions: Vec<IpPermission>,
    pub ip_permissions_egress: Vec<IpPermission>,
}

/// An `IpPermissions[]` entry: one protocol and port range, many peers.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpPermission {
    pub ip_protocol: Option<String>,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    pub ip_ranges: Vec<IpRange>,
    pub ipv6_ranges: Vec<IpRange>,
    pub prefix_list_ids: Vec<PrefixListId>,
    pub user_id_group_pairs: Vec<GroupPair>,
}

/// `IpRanges[]` / `Ipv6Ranges[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpRange {
    pub cidr_ip: Option<String>,
    pub cidr_ipv6: Option<String>,
}

/// `PrefixListIds[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrefixListId {
    pub prefix_list_id: Option<String>,
}

/// `UserIdGroupPairs[]` (and describe-security-group-rules `ReferencedGroupInfo`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GroupPair {
    pub group_id: Option<String>,
    pub vpc_peering_connection_id: Option<String>,
}

/// describe-security-group-rules `SecurityGroupRules[]`: one rule, one peer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SecurityGroupRule {
    pub security_group_rule_id: Option<String>,
    pub group_id: Option<String>,
    pub is_egress: Option<bool>,
    pub ip_protocol: Option<String>,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    pub cidr_ipv4: Option<String>,
    pub cidr_ipv6: Option<String>,
    pub prefix_list_id: Option<String>,
    pub referenced_group_info: Option<GroupPair>,
}

/// describe-managed-prefix-lists / describe-prefix-lists `PrefixLists[]`
/// (`ManagedPrefixLists` is accepted as well).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ManagedPrefixList {
    pub prefix_list_id: Option<String>,
    /// Only the older describe-prefix-lists (AWS service prefix lists) carries its CIDRs inline.
    pub cidrs: Vec<String>,
}

/// get-managed-prefix-list-entries `Entries[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrefixListEntry {
    pub cidr: Option<String>,
}

/// describe-network-interfaces `NetworkInterfaces[]`, and an instance's
/// `NetworkInterfaces[]` (the same fields, less some).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkInterface {
    pub network_interface_id: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ip_address: Option<String>,
    pub private_ip_addresses: Vec<PrivateIp>,
    pub association: Option<IpAssociation>,
    pub ipv6_addresses: Vec<Ipv6Address>,
    pub groups: Vec<GroupIdentifier>,
    pub attachment: Option<EniAttachment>,
    pub interface_type: Option<String>,
    pub description: Option<String>,
}

/// `PrivateIpAddresses[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrivateIp {
    pub private_ip_address: Option<String>,
    pub association: Option<IpAssociation>,
}

/// A public IP `Association`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpAssociation {
    pub public_ip: Option<String>,
}

/// `Ipv6Addresses[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipv6Address {
    pub ipv6_address: Option<String>,
}

/// `Groups[]` / `SecurityGroups[]` on ENIs and instances.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GroupIdentifier {
    pub group_id: Option<String>,
}

/// An ENI's `Attachment`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EniAttachment {
    pub instance_id: Option<String>,
    pub device_index: Option<i64>,
}

/// describe-instances `Reservations[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Reservation {
    pub owner_id: Option<String>,
    pub instances: Vec<serde_json::Value>,
}

/// `Reservations[].Instances[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Instance {
    pub instance_id: Option<String>,
    pub state: Option<InstanceState>,
    pub network_interfaces: Vec<NetworkInterface>,
    pub security_groups: Vec<GroupIdentifier>,
    pub tags: Vec<Tag>,
}

/// An instance's `State`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceState {
    pub name: Option<String>,
}

/// describe-addresses `Addresses[]` (Elastic IPs).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Address {
    pub public_ip: Option<String>,
    pub allocation_id: Option<String>,
    pub network_interface_id: Option<String>,
    pub private_ip_address: Option<String>,
    pub instance_id: Option<String>,
}

/// elbv2 describe-load-balancers `LoadBalancers[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoadBalancer {
    pub load_balancer_arn: Option<String>,
    pub load_balancer_name: Option<String>,
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub scheme: Option<String>,
    pub vpc_id: Option<String>,
    pub availability_zones: Vec<LbZone>,
    pub security_groups: Vec<String>,
}

/// An elbv2 load balancer's `AvailabilityZones[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LbZone {
    pub subnet_id: Option<String>,
}

/// elbv2 describe-listeners `Listeners[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Listener {
    pub listener_arn: Option<String>,
    pub load_balancer_arn: Option<String>,
    pub port: Option<i64>,
    pub protocol: Option<String>,
    pub default_actions: Vec<Action>,
}

/// A listener's `DefaultActions[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Action {
    pub target_group_arn: Option<String>,
    pub forward_config: Option<ForwardConfig>,
}

/// An action's `ForwardConfig`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ForwardConfig {
    pub target_groups: Vec<ForwardTarget>,
}

/// `ForwardConfig.TargetGroups[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ForwardTarget {
    pub target_group_arn: Option<String>,
}

/// elbv2 describe-target-groups `TargetGroups[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TargetGroup {
    pub target_group_arn: Option<String>,
    pub protocol: Option<String>,
    pub port: Option<i64>,
    pub target_type: Option<String>,
    pub vpc_id: Option<String>,
}

/// elbv2 describe-target-health `TargetHealthDescriptions[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TargetHealth {
    pub target: Option<Target>,
    pub target_health: Option<TargetHealthState>,
}

/// A target's `TargetHealth`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TargetHealthState {
    pub state: Option<String>,
}

/// A registered target.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Target {
    pub id: Option<String>,
    pub port: Option<i64>,
}

/// elb (classic) describe-load-balancers `LoadBalancerDescriptions[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ClassicLb {
    pub load_balancer_name: Option<String>,
    pub scheme: Option<String>,
    #[serde(rename = "VPCId")]
    pub vpc_id: Option<String>,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub listener_descriptions: Vec<ClassicListenerDescription>,
    pub instances: Vec<ClassicInstance>,
}

/// `ListenerDescriptions[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ClassicListenerDescription {
    pub listener: Option<ClassicListener>,
}

/// A classic listener.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ClassicListener {
    pub protocol: Option<String>,
    pub load_balancer_port: Option<i64>,
    pub instance_port: Option<i64>,
}

/// A classic load balancer's registered instance.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ClassicInstance {
    pub instance_id: Option<String>,
}
