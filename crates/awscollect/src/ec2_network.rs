//! EC2 routing resources as the AWS CLI prints them: VPCs, subnets, route
//! tables, gateways, peerings and transit gateways.
//!
//! Why it exists: these records decide where a packet goes; the loader reads
//! them by their CLI member names. Every member of these shapes that the
//! SDK models is written (they are small and all of it is network
//! configuration a reader may want), except the newer account-level
//! decorations a reachability reader does not need: `BlockPublicAccessStates`,
//! `EncryptionControl`, NAT gateway `AttachedAppliances`/`AutoScalingIps`/
//! `AutoProvisionZones`/`ProvisionedBandwidth`, and TGW `EncryptionSupport`.

use aws_sdk_ec2::types as t;
use serde_json::Value;

use crate::cli_json::Obj;

pub(crate) fn tag(v: &t::Tag) -> Value {
    Obj::new().s("Key", v.key.as_deref()).s("Value", v.value.as_deref()).done()
}

fn vpc_cidr_state(v: &t::VpcCidrBlockState) -> Value {
    Obj::new().e("State", v.state.as_ref()).s("StatusMessage", v.status_message.as_deref()).done()
}

fn subnet_cidr_state(v: &t::SubnetCidrBlockState) -> Value {
    Obj::new().e("State", v.state.as_ref()).s("StatusMessage", v.status_message.as_deref()).done()
}

pub(crate) fn vpc(v: &t::Vpc) -> Value {
    let v4 = |a: &t::VpcCidrBlockAssociation| {
        Obj::new()
            .s("AssociationId", a.association_id.as_deref())
            .s("CidrBlock", a.cidr_block.as_deref())
            .obj("CidrBlockState", a.cidr_block_state.as_ref(), vpc_cidr_state)
            .done()
    };
    let v6 = |a: &t::VpcIpv6CidrBlockAssociation| {
        Obj::new()
            .s("AssociationId", a.association_id.as_deref())
            .s("Ipv6CidrBlock", a.ipv6_cidr_block.as_deref())
            .obj("Ipv6CidrBlockState", a.ipv6_cidr_block_state.as_ref(), vpc_cidr_state)
            .s("NetworkBorderGroup", a.network_border_group.as_deref())
            .s("Ipv6Pool", a.ipv6_pool.as_deref())
            .e("Ipv6AddressAttribute", a.ipv6_address_attribute.as_ref())
            .e("IpSource", a.ip_source.as_ref())
            .done()
    };
    Obj::new()
        .s("OwnerId", v.owner_id.as_deref())
        .e("InstanceTenancy", v.instance_tenancy.as_ref())
        .list("Ipv6CidrBlockAssociationSet", v.ipv6_cidr_block_association_set.as_ref(), v6)
        .list("CidrBlockAssociationSet", v.cidr_block_association_set.as_ref(), v4)
        .n("IsDefault", v.is_default)
        .list("Tags", v.tags.as_ref(), tag)
        .s("VpcId", v.vpc_id.as_deref())
        .e("State", v.state.as_ref())
        .s("CidrBlock", v.cidr_block.as_deref())
        .s("DhcpOptionsId", v.dhcp_options_id.as_deref())
        .done()
}

pub(crate) fn subnet(v: &t::Subnet) -> Value {
    let v6 = |a: &t::SubnetIpv6CidrBlockAssociation| {
        Obj::new()
            .s("AssociationId", a.association_id.as_deref())
            .s("Ipv6CidrBlock", a.ipv6_cidr_block.as_deref())
            .obj("Ipv6CidrBlockState", a.ipv6_cidr_block_state.as_ref(), subnet_cidr_state)
            .e("Ipv6AddressAttribute", a.ipv6_address_attribute.as_ref())
            .e("IpSource", a.ip_source.as_ref())
            .done()
    };
    let dns = |o: &t::PrivateDnsNameOptionsOnLaunch| {
        Obj::new()
            .e("HostnameType", o.hostname_type.as_ref())
            .n("EnableResourceNameDnsARecord", o.enable_resource_name_dns_a_record)
            .n("EnableResourceNameDnsAAAARecord", o.enable_resource_name_dns_aaaa_record)
            .done()
    };
    Obj::new()
        .s("AvailabilityZoneId", v.availability_zone_id.as_deref())
        .n("EnableLniAtDeviceIndex", v.enable_lni_at_device_index)
        .n("MapCustomerOwnedIpOnLaunch", v.map_customer_owned_ip_on_launch)
        .s("CustomerOwnedIpv4Pool", v.customer_owned_ipv4_pool.as_deref())
        .s("OwnerId", v.owner_id.as_deref())
        .n("AssignIpv6AddressOnCreation", v.assign_ipv6_address_on_creation)
        .list("Ipv6CidrBlockAssociationSet", v.ipv6_cidr_block_association_set.as_ref(), v6)
        .list("Tags", v.tags.as_ref(), tag)
        .s("SubnetArn", v.subnet_arn.as_deref())
        .s("OutpostArn", v.outpost_arn.as_deref())
        .n("EnableDns64", v.enable_dns64)
        .n("Ipv6Native", v.ipv6_native)
        .obj("PrivateDnsNameOptionsOnLaunch", v.private_dns_name_options_on_launch.as_ref(), dns)
        .s("SubnetId", v.subnet_id.as_deref())
        .e("State", v.state.as_ref())
        .s("VpcId", v.vpc_id.as_deref())
        .s("CidrBlock", v.cidr_block.as_deref())
        .n("AvailableIpAddressCount", v.available_ip_address_count)
        .s("AvailabilityZone", v.availability_zone.as_deref())
        .n("DefaultForAz", v.default_for_az)
        .n("MapPublicIpOnLaunch", v.map_public_ip_on_launch)
        .done()
}

pub(crate) fn route(r: &t::Route) -> Value {
    Obj::new()
        .s("DestinationCidrBlock", r.destination_cidr_block.as_deref())
        .s("DestinationIpv6CidrBlock", r.destination_ipv6_cidr_block.as_deref())
        .s("DestinationPrefixListId", r.destination_prefix_list_id.as_deref())
        .s("EgressOnlyInternetGatewayId", r.egress_only_internet_gateway_id.as_deref())
        .s("GatewayId", r.gateway_id.as_deref())
        .s("InstanceId", r.instance_id.as_deref())
        .s("InstanceOwnerId", r.instance_owner_id.as_deref())
        .s("NatGatewayId", r.nat_gateway_id.as_deref())
        .s("TransitGatewayId", r.transit_gateway_id.as_deref())
        .s("LocalGatewayId", r.local_gateway_id.as_deref())
        .s("CarrierGatewayId", r.carrier_gateway_id.as_deref())
        .s("NetworkInterfaceId", r.network_interface_id.as_deref())
        .e("Origin", r.origin.as_ref())
        .e("State", r.state.as_ref())
        .s("VpcPeeringConnectionId", r.vpc_peering_connection_id.as_deref())
        .s("CoreNetworkArn", r.core_network_arn.as_deref())
        .s("OdbNetworkArn", r.odb_network_arn.as_deref())
        .s("IpAddress", r.ip_address.as_deref())
        .done()
}

pub(crate) fn route_table(v: &t::RouteTable) -> Value {
    let association = |a: &t::RouteTableAssociation| {
        let state = |s: &t::RouteTableAssociationState| {
            Obj::new().e("State", s.state.as_ref()).s("StatusMessage", s.status_message.as_deref()).done()
        };
        Obj::new()
            .n("Main", a.main)
            .s("RouteTableAssociationId", a.route_table_association_id.as_deref())
            .s("RouteTableId", a.route_table_id.as_deref())
            .s("SubnetId", a.subnet_id.as_deref())
            .s("GatewayId", a.gateway_id.as_deref())
            .s("PublicIpv4Pool", a.public_ipv4_pool.as_deref())
            .obj("AssociationState", a.association_state.as_ref(), state)
            .done()
    };
    let vgw = |p: &t::PropagatingVgw| Obj::new().s("GatewayId", p.gateway_id.as_deref()).done();
    Obj::new()
        .list("Associations", v.associations.as_ref(), association)
        .list("PropagatingVgws", v.propagating_vgws.as_ref(), vgw)
        .s("RouteTableId", v.route_table_id.as_deref())
        .list("Routes", v.routes.as_ref(), route)
        .list("Tags", v.tags.as_ref(), tag)
        .s("VpcId", v.vpc_id.as_deref())
        .s("OwnerId", v.owner_id.as_deref())
        .done()
}

fn igw_attachment(a: &t::InternetGatewayAttachment) -> Value {
    Obj::new().e("State", a.state.as_ref()).s("VpcId", a.vpc_id.as_deref()).done()
}

pub(crate) fn internet_gateway(v: &t::InternetGateway) -> Value {
    Obj::new()
        .list("Attachments", v.attachments.as_ref(), igw_attachment)
        .s("InternetGatewayId", v.internet_gateway_id.as_deref())
        .s("OwnerId", v.owner_id.as_deref())
        .list("Tags", v.tags.as_ref(), tag)
        .done()
}

pub(crate) fn egress_only_internet_gateway(v: &t::EgressOnlyInternetGateway) -> Value {
    Obj::new()
        .list("Attachments", v.attachments.as_ref(), igw_attachment)
        .s("EgressOnlyInternetGatewayId", v.egress_only_internet_gateway_id.as_deref())
        .list("Tags", v.tags.as_ref(), tag)
        .done()
}

pub(crate) fn nat_gateway(v: &t::NatGateway) -> Value {
    let address = |a: &t::NatGatewayAddress| {
        Obj::new()
            .s("AllocationId", a.allocation_id.as_deref())
            .s("NetworkInterfaceId", a.network_interface_id.as_deref())
            .s("PrivateIp", a.private_ip.as_deref())
            .s("PublicIp", a.public_ip.as_deref())
            .s("AssociationId", a.association_id.as_deref())
            .n("IsPrimary", a.is_primary)
            .s("FailureMessage", a.failure_message.as_deref())
            .e("Status", a.status.as_ref())
            .s("AvailabilityZone", a.availability_zone.as_deref())
            .s("AvailabilityZoneId", a.availability_zone_id.as_deref())
            .done()
    };
    Obj::new()
        .t("CreateTime", v.create_time.as_ref())
        .t("DeleteTime", v.delete_time.as_ref())
        .s("FailureCode", v.failure_code.as_deref())
        .s("FailureMessage", v.failure_message.as_deref())
        .list("NatGatewayAddresses", v.nat_gateway_addresses.as_ref(), address)
        .s("NatGatewayId", v.nat_gateway_id.as_deref())
        .e("State", v.state.as_ref())
        .s("SubnetId", v.subnet_id.as_deref())
        .s("VpcId", v.vpc_id.as_deref())
        .list("Tags", v.tags.as_ref(), tag)
        .e("ConnectivityType", v.connectivity_type.as_ref())
        .e("AvailabilityMode", v.availability_mode.as_ref())
        .s("RouteTableId", v.route_table_id.as_deref())
        .done()
}

pub(crate) fn vpn_gateway(v: &t::VpnGateway) -> Value {
    let attachment =
        |a: &t::VpcAttachment| Obj::new().s("VpcId", a.vpc_id.as_deref()).e("State", a.state.as_ref()).done();
    Obj::new()
        .n("AmazonSideAsn", v.amazon_side_asn)
        .list("Tags", v.tags.as_ref(), tag)
        .s("VpnGatewayId", v.vpn_gateway_id.as_deref())
        .e("State", v.state.as_ref())
        .e("Type", v.r#type.as_ref())
        .s("AvailabilityZone", v.availability_zone.as_deref())
        .list("VpcAttachments", v.vpc_attachments.as_ref(), attachment)
        .done()
}

fn peering_vpc_info(i: &t::VpcPeeringConnectionVpcInfo) -> Value {
    let v4 = |c: &t::CidrBlock| Obj::new().s("CidrBlock", c.cidr_block.as_deref()).done();
    let v6 = |c: &t::Ipv6CidrBlock| Obj::new().s("Ipv6CidrBlock", c.ipv6_cidr_block.as_deref()).done();
    let options = |o: &t::VpcPeeringConnectionOptionsDescription| {
        Obj::new()
            .n("AllowDnsResolutionFromRemoteVpc", o.allow_dns_resolution_from_remote_vpc)
            .n("AllowEgressFromLocalClassicLinkToRemoteVpc", o.allow_egress_from_local_classic_link_to_remote_vpc)
            .n("AllowEgressFromLocalVpcToRemoteClassicLink", o.allow_egress_from_local_vpc_to_remote_classic_link)
            .done()
    };
    Obj::new()
        .s("CidrBlock", i.cidr_block.as_deref())
        .list("Ipv6CidrBlockSet", i.ipv6_cidr_block_set.as_ref(), v6)
        .list("CidrBlockSet", i.cidr_block_set.as_ref(), v4)
        .s("OwnerId", i.owner_id.as_deref())
        .obj("PeeringOptions", i.peering_options.as_ref(), options)
        .s("VpcId", i.vpc_id.as_deref())
        .s("Region", i.region.as_deref())
        .done()
}

pub(crate) fn vpc_peering_connection(v: &t::VpcPeeringConnection) -> Value {
    let status = |s: &t::VpcPeeringConnectionStateReason| {
        Obj::new().e("Code", s.code.as_ref()).s("Message", s.message.as_deref()).done()
    };
    Obj::new()
        .obj("AccepterVpcInfo", v.accepter_vpc_info.as_ref(), peering_vpc_info)
        .t("ExpirationTime", v.expiration_time.as_ref())
        .obj("RequesterVpcInfo", v.requester_vpc_info.as_ref(), peering_vpc_info)
        .obj("Status", v.status.as_ref(), status)
        .list("Tags", v.tags.as_ref(), tag)
        .s("VpcPeeringConnectionId", v.vpc_peering_connection_id.as_deref())
        .done()
}

pub(crate) fn transit_gateway(v: &t::TransitGateway) -> Value {
    let options = |o: &t::TransitGatewayOptions| {
        Obj::new()
            .n("AmazonSideAsn", o.amazon_side_asn)
            .strs("TransitGatewayCidrBlocks", o.transit_gateway_cidr_blocks.as_ref())
            .e("AutoAcceptSharedAttachments", o.auto_accept_shared_attachments.as_ref())
            .e("DefaultRouteTableAssociation", o.default_route_table_association.as_ref())
            .s("AssociationDefaultRouteTableId", o.association_default_route_table_id.as_deref())
            .e("DefaultRouteTablePropagation", o.default_route_table_propagation.as_ref())
            .s("PropagationDefaultRouteTableId", o.propagation_default_route_table_id.as_deref())
            .e("VpnEcmpSupport", o.vpn_ecmp_support.as_ref())
            .e("DnsSupport", o.dns_support.as_ref())
            .e("SecurityGroupReferencingSupport", o.security_group_referencing_support.as_ref())
            .e("MulticastSupport", o.multicast_support.as_ref())
            .done()
    };
    Obj::new()
        .s("TransitGatewayId", v.transit_gateway_id.as_deref())
        .s("TransitGatewayArn", v.transit_gateway_arn.as_deref())
        .e("State", v.state.as_ref())
        .s("OwnerId", v.owner_id.as_deref())
        .s("Description", v.description.as_deref())
        .t("CreationTime", v.creation_time.as_ref())
        .obj("Options", v.options.as_ref(), options)
        .list("Tags", v.tags.as_ref(), tag)
        .done()
}

pub(crate) fn transit_gateway_attachment(v: &t::TransitGatewayAttachment) -> Value {
    let association = |a: &t::TransitGatewayAttachmentAssociation| {
        Obj::new()
            .s("TransitGatewayRouteTableId", a.transit_gateway_route_table_id.as_deref())
            .s("TransitGatewayPolicyTableId", a.transit_gateway_policy_table_id.as_deref())
            .e("State", a.state.as_ref())
            .done()
    };
    Obj::new()
        .s("TransitGatewayAttachmentId", v.transit_gateway_attachment_id.as_deref())
        .s("TransitGatewayId", v.transit_gateway_id.as_deref())
        .s("TransitGatewayOwnerId", v.transit_gateway_owner_id.as_deref())
        .s("ResourceOwnerId", v.resource_owner_id.as_deref())
        .e("ResourceType", v.resource_type.as_ref())
        .s("ResourceId", v.resource_id.as_deref())
        .e("State", v.state.as_ref())
        .obj("Association", v.association.as_ref(), association)
        .t("CreationTime", v.creation_time.as_ref())
        .list("Tags", v.tags.as_ref(), tag)
        .e("NatGatewaySupport", v.nat_gateway_support.as_ref())
        .done()
}

pub(crate) fn transit_gateway_route_table(v: &t::TransitGatewayRouteTable) -> Value {
    Obj::new()
        .s("TransitGatewayRouteTableId", v.transit_gateway_route_table_id.as_deref())
        .s("TransitGatewayId", v.transit_gateway_id.as_deref())
        .e("State", v.state.as_ref())
        .n("DefaultAssociationRouteTable", v.default_association_route_table)
        .n("DefaultPropagationRouteTable", v.default_propagation_route_table)
        .t("CreationTime", v.creation_time.as_ref())
        .list("Tags", v.tags.as_ref(), tag)
        .done()
}

/// search-transit-gateway-routes `Routes[]`.
pub(crate) fn transit_gateway_route(v: &t::TransitGatewayRoute) -> Value {
    let attachment = |a: &t::TransitGatewayRouteAttachment| {
        Obj::new()
            .s("ResourceId", a.resource_id.as_deref())
            .s("TransitGatewayAttachmentId", a.transit_gateway_attachment_id.as_deref())
            .e("ResourceType", a.resource_type.as_ref())
            .done()
    };
    Obj::new()
        .s("DestinationCidrBlock", v.destination_cidr_block.as_deref())
        .s("PrefixListId", v.prefix_list_id.as_deref())
        .s("TransitGatewayRouteTableAnnouncementId", v.transit_gateway_route_table_announcement_id.as_deref())
        .list("TransitGatewayAttachments", v.transit_gateway_attachments.as_ref(), attachment)
        .e("Type", v.r#type.as_ref())
        .e("State", v.state.as_ref())
        .done()
}

/// get-transit-gateway-route-table-associations `Associations[]`.
pub(crate) fn transit_gateway_route_table_association(v: &t::TransitGatewayRouteTableAssociation) -> Value {
    Obj::new()
        .s("TransitGatewayAttachmentId", v.transit_gateway_attachment_id.as_deref())
        .s("ResourceId", v.resource_id.as_deref())
        .e("ResourceType", v.resource_type.as_ref())
        .e("State", v.state.as_ref())
        .done()
}

/// get-transit-gateway-route-table-propagations `TransitGatewayRouteTablePropagations[]`.
pub(crate) fn transit_gateway_route_table_propagation(v: &t::TransitGatewayRouteTablePropagation) -> Value {
    Obj::new()
        .s("TransitGatewayAttachmentId", v.transit_gateway_attachment_id.as_deref())
        .s("ResourceId", v.resource_id.as_deref())
        .e("ResourceType", v.resource_type.as_ref())
        .e("State", v.state.as_ref())
        .s("TransitGatewayRouteTableAnnouncementId", v.transit_gateway_route_table_announcement_id.as_deref())
        .done()
}
