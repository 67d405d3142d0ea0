//! EC2 filters and endpoints as the AWS CLI prints them: network ACLs,
//! security groups and their rules, managed prefix lists, network
//! interfaces, instances and Elastic IPs.
//!
//! Why it exists: these decide which packets are admitted and where they
//! end. ACLs, security groups, rules, prefix lists, interfaces and addresses
//! are written with every member the SDK models, except interface
//! `Operator`, `ConnectionTrackingConfiguration` and `PublicIpDnsNameOptions`
//! (not network reachability). Instances carry about a hundred members;
//! the ones written are the identity, state, placement and network members
//! (everything the loader reads) plus what an assessor reads first about a
//! host: type, image, key pair, instance profile, platform, launch time,
//! metadata options (IMDSv2), monitoring, tags. Left out: block devices,
//! licences, capacity reservations, CPU/enclave/hibernation/maintenance
//! options, boot modes, accelerators, product codes, SR-IOV, usage
//! operation.

use aws_sdk_ec2::types as t;
use serde_json::Value;

use crate::cli_json::Obj;
use crate::ec2_network::tag;

pub(crate) fn network_acl(v: &t::NetworkAcl) -> Value {
    let association = |a: &t::NetworkAclAssociation| {
        Obj::new()
            .s("NetworkAclAssociationId", a.network_acl_association_id.as_deref())
            .s("NetworkAclId", a.network_acl_id.as_deref())
            .s("SubnetId", a.subnet_id.as_deref())
            .done()
    };
    let entry = |e: &t::NetworkAclEntry| {
        let icmp = |c: &t::IcmpTypeCode| Obj::new().n("Code", c.code).n("Type", c.r#type).done();
        let ports = |p: &t::PortRange| Obj::new().n("From", p.from).n("To", p.to).done();
        Obj::new()
            .s("CidrBlock", e.cidr_block.as_deref())
            .n("Egress", e.egress)
            .obj("IcmpTypeCode", e.icmp_type_code.as_ref(), icmp)
            .s("Ipv6CidrBlock", e.ipv6_cidr_block.as_deref())
            .obj("PortRange", e.port_range.as_ref(), ports)
            .s("Protocol", e.protocol.as_deref())
            .e("RuleAction", e.rule_action.as_ref())
            .n("RuleNumber", e.rule_number)
            .done()
    };
    Obj::new()
        .list("Associations", v.associations.as_ref(), association)
        .list("Entries", v.entries.as_ref(), entry)
        .n("IsDefault", v.is_default)
        .s("NetworkAclId", v.network_acl_id.as_deref())
        .list("Tags", v.tags.as_ref(), tag)
        .s("VpcId", v.vpc_id.as_deref())
        .s("OwnerId", v.owner_id.as_deref())
        .done()
}

fn ip_permission(p: &t::IpPermission) -> Value {
    let pair = |g: &t::UserIdGroupPair| {
        Obj::new()
            .s("Description", g.description.as_deref())
            .s("UserId", g.user_id.as_deref())
            .s("GroupName", g.group_name.as_deref())
            .s("GroupId", g.group_id.as_deref())
            .s("VpcId", g.vpc_id.as_deref())
            .s("VpcPeeringConnectionId", g.vpc_peering_connection_id.as_deref())
            .s("PeeringStatus", g.peering_status.as_deref())
            .done()
    };
    let v4 =
        |r: &t::IpRange| Obj::new().s("Description", r.description.as_deref()).s("CidrIp", r.cidr_ip.as_deref()).done();
    let v6 = |r: &t::Ipv6Range| {
        Obj::new().s("Description", r.description.as_deref()).s("CidrIpv6", r.cidr_ipv6.as_deref()).done()
    };
    let pl = |r: &t::PrefixListId| {
        Obj::new().s("Description", r.description.as_deref()).s("PrefixListId", r.prefix_list_id.as_deref()).done()
    };
    Obj::new()
        .s("IpProtocol", p.ip_protocol.as_deref())
        .n("FromPort", p.from_port)
        .n("ToPort", p.to_port)
        .list("UserIdGroupPairs", p.user_id_group_pairs.as_ref(), pair)
        .list("IpRanges", p.ip_ranges.as_ref(), v4)
        .list("Ipv6Ranges", p.ipv6_ranges.as_ref(), v6)
        .list("PrefixListIds", p.prefix_list_ids.as_ref(), pl)
        .done()
}

pub(crate) fn security_group(v: &t::SecurityGroup) -> Value {
    Obj::new()
        .s("GroupId", v.group_id.as_deref())
        .list("IpPermissionsEgress", v.ip_permissions_egress.as_ref(), ip_permission)
        .list("Tags", v.tags.as_ref(), tag)
        .s("VpcId", v.vpc_id.as_deref())
        .s("SecurityGroupArn", v.security_group_arn.as_deref())
        .s("OwnerId", v.owner_id.as_deref())
        .s("GroupName", v.group_name.as_deref())
        .s("Description", v.description.as_deref())
        .list("IpPermissions", v.ip_permissions.as_ref(), ip_permission)
        .done()
}

pub(crate) fn security_group_rule(v: &t::SecurityGroupRule) -> Value {
    let referenced = |g: &t::ReferencedSecurityGroup| {
        Obj::new()
            .s("GroupId", g.group_id.as_deref())
            .s("PeeringStatus", g.peering_status.as_deref())
            .s("UserId", g.user_id.as_deref())
            .s("VpcId", g.vpc_id.as_deref())
            .s("VpcPeeringConnectionId", g.vpc_peering_connection_id.as_deref())
            .done()
    };
    Obj::new()
        .s("SecurityGroupRuleId", v.security_group_rule_id.as_deref())
        .s("GroupId", v.group_id.as_deref())
        .s("GroupOwnerId", v.group_owner_id.as_deref())
        .n("IsEgress", v.is_egress)
        .s("IpProtocol", v.ip_protocol.as_deref())
        .n("FromPort", v.from_port)
        .n("ToPort", v.to_port)
        .s("CidrIpv4", v.cidr_ipv4.as_deref())
        .s("CidrIpv6", v.cidr_ipv6.as_deref())
        .s("PrefixListId", v.prefix_list_id.as_deref())
        .obj("ReferencedGroupInfo", v.referenced_group_info.as_ref(), referenced)
        .s("Description", v.description.as_deref())
        .list("Tags", v.tags.as_ref(), tag)
        .s("SecurityGroupRuleArn", v.security_group_rule_arn.as_deref())
        .done()
}

pub(crate) fn managed_prefix_list(v: &t::ManagedPrefixList) -> Value {
    Obj::new()
        .s("PrefixListId", v.prefix_list_id.as_deref())
        .s("AddressFamily", v.address_family.as_deref())
        .e("State", v.state.as_ref())
        .s("StateMessage", v.state_message.as_deref())
        .s("PrefixListArn", v.prefix_list_arn.as_deref())
        .s("PrefixListName", v.prefix_list_name.as_deref())
        .n("MaxEntries", v.max_entries)
        .n("Version", v.version)
        .list("Tags", v.tags.as_ref(), tag)
        .s("OwnerId", v.owner_id.as_deref())
        .s("IpamPrefixListResolverTargetId", v.ipam_prefix_list_resolver_target_id.as_deref())
        .n("IpamPrefixListResolverSyncEnabled", v.ipam_prefix_list_resolver_sync_enabled)
        .done()
}

/// get-managed-prefix-list-entries `Entries[]`.
pub(crate) fn prefix_list_entry(v: &t::PrefixListEntry) -> Value {
    Obj::new().s("Cidr", v.cidr.as_deref()).s("Description", v.description.as_deref()).done()
}

fn group(g: &t::GroupIdentifier) -> Value {
    Obj::new().s("GroupId", g.group_id.as_deref()).s("GroupName", g.group_name.as_deref()).done()
}

fn eni_association(a: &t::NetworkInterfaceAssociation) -> Value {
    Obj::new()
        .s("AllocationId", a.allocation_id.as_deref())
        .s("AssociationId", a.association_id.as_deref())
        .s("IpOwnerId", a.ip_owner_id.as_deref())
        .s("PublicDnsName", a.public_dns_name.as_deref())
        .s("PublicIp", a.public_ip.as_deref())
        .s("CustomerOwnedIp", a.customer_owned_ip.as_deref())
        .s("CarrierIp", a.carrier_ip.as_deref())
        .done()
}

pub(crate) fn network_interface(v: &t::NetworkInterface) -> Value {
    let attachment = |a: &t::NetworkInterfaceAttachment| {
        Obj::new()
            .t("AttachTime", a.attach_time.as_ref())
            .s("AttachmentId", a.attachment_id.as_deref())
            .n("DeleteOnTermination", a.delete_on_termination)
            .n("DeviceIndex", a.device_index)
            .n("NetworkCardIndex", a.network_card_index)
            .s("InstanceId", a.instance_id.as_deref())
            .s("InstanceOwnerId", a.instance_owner_id.as_deref())
            .e("Status", a.status.as_ref())
            .n("EnaQueueCount", a.ena_queue_count)
            .done()
    };
    let v6 = |a: &t::NetworkInterfaceIpv6Address| {
        Obj::new()
            .s("Ipv6Address", a.ipv6_address.as_deref())
            .s("PublicIpv6DnsName", a.public_ipv6_dns_name.as_deref())
            .n("IsPrimaryIpv6", a.is_primary_ipv6)
            .done()
    };
    let private = |p: &t::NetworkInterfacePrivateIpAddress| {
        Obj::new()
            .obj("Association", p.association.as_ref(), eni_association)
            .n("Primary", p.primary)
            .s("PrivateDnsName", p.private_dns_name.as_deref())
            .s("PrivateIpAddress", p.private_ip_address.as_deref())
            .done()
    };
    let v4_prefix = |p: &t::Ipv4PrefixSpecification| Obj::new().s("Ipv4Prefix", p.ipv4_prefix.as_deref()).done();
    let v6_prefix = |p: &t::Ipv6PrefixSpecification| Obj::new().s("Ipv6Prefix", p.ipv6_prefix.as_deref()).done();
    Obj::new()
        .obj("Association", v.association.as_ref(), eni_association)
        .obj("Attachment", v.attachment.as_ref(), attachment)
        .s("AvailabilityZone", v.availability_zone.as_deref())
        .s("AvailabilityZoneId", v.availability_zone_id.as_deref())
        .s("Description", v.description.as_deref())
        .list("Groups", v.groups.as_ref(), group)
        .e("InterfaceType", v.interface_type.as_ref())
        .list("Ipv6Addresses", v.ipv6_addresses.as_ref(), v6)
        .s("MacAddress", v.mac_address.as_deref())
        .s("NetworkInterfaceId", v.network_interface_id.as_deref())
        .s("OutpostArn", v.outpost_arn.as_deref())
        .s("OwnerId", v.owner_id.as_deref())
        .s("PrivateDnsName", v.private_dns_name.as_deref())
        .s("PublicDnsName", v.public_dns_name.as_deref())
        .s("PrivateIpAddress", v.private_ip_address.as_deref())
        .list("PrivateIpAddresses", v.private_ip_addresses.as_ref(), private)
        .list("Ipv4Prefixes", v.ipv4_prefixes.as_ref(), v4_prefix)
        .list("Ipv6Prefixes", v.ipv6_prefixes.as_ref(), v6_prefix)
        .s("RequesterId", v.requester_id.as_deref())
        .n("RequesterManaged", v.requester_managed)
        .n("SourceDestCheck", v.source_dest_check)
        .e("Status", v.status.as_ref())
        .s("SubnetId", v.subnet_id.as_deref())
        .list("TagSet", v.tag_set.as_ref(), tag)
        .s("VpcId", v.vpc_id.as_deref())
        .n("DenyAllIgwTraffic", v.deny_all_igw_traffic)
        .n("Ipv6Native", v.ipv6_native)
        .s("Ipv6Address", v.ipv6_address.as_deref())
        .strs("AssociatedSubnets", v.associated_subnets.as_ref())
        .done()
}

fn instance_interface(n: &t::InstanceNetworkInterface) -> Value {
    let association = |a: &t::InstanceNetworkInterfaceAssociation| {
        Obj::new()
            .s("CarrierIp", a.carrier_ip.as_deref())
            .s("CustomerOwnedIp", a.customer_owned_ip.as_deref())
            .s("IpOwnerId", a.ip_owner_id.as_deref())
            .s("PublicDnsName", a.public_dns_name.as_deref())
            .s("PublicIp", a.public_ip.as_deref())
            .done()
    };
    let attachment = |a: &t::InstanceNetworkInterfaceAttachment| {
        Obj::new()
            .t("AttachTime", a.attach_time.as_ref())
            .s("AttachmentId", a.attachment_id.as_deref())
            .n("DeleteOnTermination", a.delete_on_termination)
            .n("DeviceIndex", a.device_index)
            .e("Status", a.status.as_ref())
            .n("NetworkCardIndex", a.network_card_index)
            .n("EnaQueueCount", a.ena_queue_count)
            .done()
    };
    let v6 = |a: &t::InstanceIpv6Address| {
        Obj::new().s("Ipv6Address", a.ipv6_address.as_deref()).n("IsPrimaryIpv6", a.is_primary_ipv6).done()
    };
    let private = |p: &t::InstancePrivateIpAddress| {
        Obj::new()
            .obj("Association", p.association.as_ref(), association)
            .n("Primary", p.primary)
            .s("PrivateDnsName", p.private_dns_name.as_deref())
            .s("PrivateIpAddress", p.private_ip_address.as_deref())
            .done()
    };
    let v4_prefix = |p: &t::InstanceIpv4Prefix| Obj::new().s("Ipv4Prefix", p.ipv4_prefix.as_deref()).done();
    let v6_prefix = |p: &t::InstanceIpv6Prefix| Obj::new().s("Ipv6Prefix", p.ipv6_prefix.as_deref()).done();
    Obj::new()
        .obj("Association", n.association.as_ref(), association)
        .obj("Attachment", n.attachment.as_ref(), attachment)
        .s("Description", n.description.as_deref())
        .list("Groups", n.groups.as_ref(), group)
        .list("Ipv6Addresses", n.ipv6_addresses.as_ref(), v6)
        .s("MacAddress", n.mac_address.as_deref())
        .s("NetworkInterfaceId", n.network_interface_id.as_deref())
        .s("OwnerId", n.owner_id.as_deref())
        .s("PrivateDnsName", n.private_dns_name.as_deref())
        .s("PrivateIpAddress", n.private_ip_address.as_deref())
        .list("PrivateIpAddresses", n.private_ip_addresses.as_ref(), private)
        .n("SourceDestCheck", n.source_dest_check)
        .e("Status", n.status.as_ref())
        .s("SubnetId", n.subnet_id.as_deref())
        .s("VpcId", n.vpc_id.as_deref())
        .s("InterfaceType", n.interface_type.as_deref())
        .list("Ipv4Prefixes", n.ipv4_prefixes.as_ref(), v4_prefix)
        .list("Ipv6Prefixes", n.ipv6_prefixes.as_ref(), v6_prefix)
        .done()
}

fn instance(i: &t::Instance) -> Value {
    let state = |s: &t::InstanceState| Obj::new().n("Code", s.code).e("Name", s.name.as_ref()).done();
    let placement = |p: &t::Placement| {
        Obj::new()
            .s("AvailabilityZoneId", p.availability_zone_id.as_deref())
            .s("Affinity", p.affinity.as_deref())
            .s("GroupName", p.group_name.as_deref())
            .n("PartitionNumber", p.partition_number)
            .s("HostId", p.host_id.as_deref())
            .e("Tenancy", p.tenancy.as_ref())
            .s("SpreadDomain", p.spread_domain.as_deref())
            .s("HostResourceGroupArn", p.host_resource_group_arn.as_deref())
            .s("GroupId", p.group_id.as_deref())
            .s("AvailabilityZone", p.availability_zone.as_deref())
            .done()
    };
    let profile = |p: &t::IamInstanceProfile| Obj::new().s("Arn", p.arn.as_deref()).s("Id", p.id.as_deref()).done();
    let metadata = |m: &t::InstanceMetadataOptionsResponse| {
        Obj::new()
            .e("State", m.state.as_ref())
            .e("HttpTokens", m.http_tokens.as_ref())
            .n("HttpPutResponseHopLimit", m.http_put_response_hop_limit)
            .e("HttpEndpoint", m.http_endpoint.as_ref())
            .e("HttpProtocolIpv6", m.http_protocol_ipv6.as_ref())
            .e("InstanceMetadataTags", m.instance_metadata_tags.as_ref())
            .done()
    };
    let monitoring = |m: &t::Monitoring| Obj::new().e("State", m.state.as_ref()).done();
    let reason = |r: &t::StateReason| Obj::new().s("Code", r.code.as_deref()).s("Message", r.message.as_deref()).done();
    Obj::new()
        .e("Architecture", i.architecture.as_ref())
        .s("ClientToken", i.client_token.as_deref())
        .n("EbsOptimized", i.ebs_optimized)
        .n("EnaSupport", i.ena_support)
        .e("Hypervisor", i.hypervisor.as_ref())
        .obj("IamInstanceProfile", i.iam_instance_profile.as_ref(), profile)
        .e("InstanceLifecycle", i.instance_lifecycle.as_ref())
        .list("NetworkInterfaces", i.network_interfaces.as_ref(), instance_interface)
        .s("OutpostArn", i.outpost_arn.as_deref())
        .s("RootDeviceName", i.root_device_name.as_deref())
        .e("RootDeviceType", i.root_device_type.as_ref())
        .list("SecurityGroups", i.security_groups.as_ref(), group)
        .n("SourceDestCheck", i.source_dest_check)
        .s("SpotInstanceRequestId", i.spot_instance_request_id.as_deref())
        .obj("StateReason", i.state_reason.as_ref(), reason)
        .list("Tags", i.tags.as_ref(), tag)
        .e("VirtualizationType", i.virtualization_type.as_ref())
        .obj("MetadataOptions", i.metadata_options.as_ref(), metadata)
        .s("PlatformDetails", i.platform_details.as_deref())
        .s("Ipv6Address", i.ipv6_address.as_deref())
        .s("InstanceId", i.instance_id.as_deref())
        .s("ImageId", i.image_id.as_deref())
        .obj("State", i.state.as_ref(), state)
        .s("PrivateDnsName", i.private_dns_name.as_deref())
        .s("PublicDnsName", i.public_dns_name.as_deref())
        .s("StateTransitionReason", i.state_transition_reason.as_deref())
        .s("KeyName", i.key_name.as_deref())
        .n("AmiLaunchIndex", i.ami_launch_index)
        .e("InstanceType", i.instance_type.as_ref())
        .t("LaunchTime", i.launch_time.as_ref())
        .obj("Placement", i.placement.as_ref(), placement)
        .e("Platform", i.platform.as_ref())
        .obj("Monitoring", i.monitoring.as_ref(), monitoring)
        .s("SubnetId", i.subnet_id.as_deref())
        .s("VpcId", i.vpc_id.as_deref())
        .s("PrivateIpAddress", i.private_ip_address.as_deref())
        .s("PublicIpAddress", i.public_ip_address.as_deref())
        .done()
}

pub(crate) fn reservation(r: &t::Reservation) -> Value {
    Obj::new()
        .s("ReservationId", r.reservation_id.as_deref())
        .s("OwnerId", r.owner_id.as_deref())
        .s("RequesterId", r.requester_id.as_deref())
        .list("Groups", r.groups.as_ref(), group)
        .list("Instances", r.instances.as_ref(), instance)
        .done()
}

pub(crate) fn address(a: &t::Address) -> Value {
    Obj::new()
        .s("AllocationId", a.allocation_id.as_deref())
        .s("AssociationId", a.association_id.as_deref())
        .e("Domain", a.domain.as_ref())
        .s("NetworkInterfaceId", a.network_interface_id.as_deref())
        .s("NetworkInterfaceOwnerId", a.network_interface_owner_id.as_deref())
        .s("PrivateIpAddress", a.private_ip_address.as_deref())
        .list("Tags", a.tags.as_ref(), tag)
        .s("PublicIpv4Pool", a.public_ipv4_pool.as_deref())
        .s("NetworkBorderGroup", a.network_border_group.as_deref())
        .s("CustomerOwnedIp", a.customer_owned_ip.as_deref())
        .s("CustomerOwnedIpv4Pool", a.customer_owned_ipv4_pool.as_deref())
        .s("CarrierIp", a.carrier_ip.as_deref())
        .s("SubnetId", a.subnet_id.as_deref())
        .e("ServiceManaged", a.service_managed.as_ref())
        .s("InstanceId", a.instance_id.as_deref())
        .s("PublicIp", a.public_ip.as_deref())
        .done()
}
