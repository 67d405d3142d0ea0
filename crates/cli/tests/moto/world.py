#!/usr/bin/env python3
"""Build an AWS network "world" in a running moto server (boto3), for
crates/cli/tests/net_collect.rs and the collection benchmark.

Usage: world.py --endpoint URL [--instances N]

Provenance: the world of /work/shared/recipes/moto/moto_world.py (the small
world of tests/fixtures/aws/moto-world), copied without its dump part and
extended with what that world lacks, so every call `warden net collect`
makes returns something: a transit gateway (VPC attachment, a second route
table, association, propagation, a static and a blackhole route), a managed
prefix list used by a security group rule and a route, an egress-only
internet gateway, a NAT gateway with its Elastic IP, an Elastic IP on
web-1, and a classic ELB with web-2 registered.

moto state is reset, then seeded with 42 (ids and public IPs reproducible;
timestamps are not). `--instances N` adds two /18 subnets (a public one in
vpc-a, a private one in vpc-b) and N more instances (N network interfaces)
in batches of 100 over them (the benchmark's large worlds).
"""
import argparse
import os
import sys
import urllib.request

import boto3

REGION = "us-east-1"


def post(url):
    urllib.request.urlopen(urllib.request.Request(url, method="POST")).read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--instances", type=int, default=0)
    args = ap.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    kw = dict(endpoint_url=args.endpoint, region_name=REGION)
    post(args.endpoint + "/moto-api/reset")
    post(args.endpoint + "/moto-api/seed?a=42")
    ec2 = boto3.client("ec2", **kw)
    elb = boto3.client("elbv2", **kw)
    classic = boto3.client("elb", **kw)

    def tag(rtype, name):
        return [{"ResourceType": rtype, "Tags": [{"Key": "Name", "Value": name}]}]

    # ---------- VPCs / subnets (moto_world.py) ----------
    vpc_a = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tag("vpc", "vpc-a"))["Vpc"]["VpcId"]
    vpc_b = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=tag("vpc", "vpc-b"))["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_a, EnableDnsHostnames={"Value": True})

    def subnet(vpc, cidr, az, name, public):
        s = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az,
                              TagSpecifications=tag("subnet", name))["Subnet"]["SubnetId"]
        if public:
            ec2.modify_subnet_attribute(SubnetId=s, MapPublicIpOnLaunch={"Value": True})
        return s

    pub_a1 = subnet(vpc_a, "10.0.1.0/24", "us-east-1a", "public-a1", True)
    pub_a2 = subnet(vpc_a, "10.0.2.0/24", "us-east-1b", "public-a2", True)
    priv_a = subnet(vpc_a, "10.0.3.0/24", "us-east-1a", "private-a", False)
    priv_b = subnet(vpc_b, "10.1.1.0/24", "us-east-1a", "private-b", False)

    # ---------- IGW / VGW / peering (moto_world.py) ----------
    igw = ec2.create_internet_gateway(TagSpecifications=tag("internet-gateway", "igw-a"))["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_a)
    vgw = ec2.create_vpn_gateway(Type="ipsec.1", TagSpecifications=tag("vpn-gateway", "vgw-b"))["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpnGatewayId=vgw, VpcId=vpc_b)
    pcx = ec2.create_vpc_peering_connection(VpcId=vpc_a, PeerVpcId=vpc_b,
                                            TagSpecifications=tag("vpc-peering-connection", "a-b"))["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)

    # ---------- extension: egress-only IGW, prefix list, NAT gateway ----------
    eigw = ec2.create_egress_only_internet_gateway(VpcId=vpc_a)["EgressOnlyInternetGateway"]["EgressOnlyInternetGatewayId"]
    office = ec2.create_managed_prefix_list(PrefixListName="office", AddressFamily="IPv4", MaxEntries=5,
                                            Entries=[{"Cidr": "198.51.100.0/24", "Description": "hq"},
                                                     {"Cidr": "192.0.2.0/28"}])["PrefixList"]["PrefixListId"]
    nat_eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=pub_a1, AllocationId=nat_eip)["NatGateway"]["NatGatewayId"]

    # ---------- route tables (moto_world.py, + eigw, NAT, prefix-list routes) ----------
    rtb_pub = ec2.create_route_table(VpcId=vpc_a, TagSpecifications=tag("route-table", "rtb-public"))["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb_pub, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.create_route(RouteTableId=rtb_pub, DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId=pcx)
    ec2.create_route(RouteTableId=rtb_pub, DestinationIpv6CidrBlock="::/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=rtb_pub, SubnetId=pub_a1)
    ec2.associate_route_table(RouteTableId=rtb_pub, SubnetId=pub_a2)

    rtb_priv = ec2.create_route_table(VpcId=vpc_a, TagSpecifications=tag("route-table", "rtb-private"))["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb_priv, DestinationCidrBlock="10.1.0.0/16", VpcPeeringConnectionId=pcx)
    ec2.create_route(RouteTableId=rtb_priv, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    ec2.create_route(RouteTableId=rtb_priv, DestinationIpv6CidrBlock="::/0", EgressOnlyInternetGatewayId=eigw)
    ec2.create_route(RouteTableId=rtb_priv, DestinationPrefixListId=office, VpcPeeringConnectionId=pcx)
    ec2.associate_route_table(RouteTableId=rtb_priv, SubnetId=priv_a)

    rtb_b = ec2.create_route_table(VpcId=vpc_b, TagSpecifications=tag("route-table", "rtb-b"))["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb_b, DestinationCidrBlock="10.0.0.0/16", VpcPeeringConnectionId=pcx)
    ec2.create_route(RouteTableId=rtb_b, DestinationCidrBlock="0.0.0.0/0", GatewayId=vgw)
    ec2.associate_route_table(RouteTableId=rtb_b, SubnetId=priv_b)

    # ---------- custom NACL on private-a (moto_world.py) ----------
    acl = ec2.create_network_acl(VpcId=vpc_a, TagSpecifications=tag("network-acl", "acl-private"))["NetworkAcl"]["NetworkAclId"]
    entries = [
        (100, False, "deny", "6", "0.0.0.0/0", 22, 22),
        (110, False, "allow", "6", "10.0.0.0/16", 0, 65535),
        (120, False, "allow", "6", "10.1.0.0/16", 5432, 5432),
        (130, False, "allow", "1", "0.0.0.0/0", None, None),
        (200, False, "deny", "-1", "0.0.0.0/0", None, None),
        (100, True, "allow", "6", "0.0.0.0/0", 1024, 65535),
        (200, True, "deny", "-1", "0.0.0.0/0", None, None),
    ]
    for rule, egress, action, proto, cidr, lo, hi in entries:
        e = dict(NetworkAclId=acl, RuleNumber=rule, Egress=egress, RuleAction=action, Protocol=proto, CidrBlock=cidr)
        if lo is not None:
            e["PortRange"] = {"From": lo, "To": hi}
        if proto == "1":
            e["IcmpTypeCode"] = {"Type": -1, "Code": -1}
        ec2.create_network_acl_entry(**e)
    nacls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [priv_a]}])["NetworkAcls"]
    assoc = [a["NetworkAclAssociationId"] for n in nacls for a in n["Associations"] if a["SubnetId"] == priv_a][0]
    ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=acl)

    # ---------- security groups (moto_world.py, + a prefix-list rule) ----------
    def sg(vpc, name, desc):
        return ec2.create_security_group(VpcId=vpc, GroupName=name, Description=desc,
                                         TagSpecifications=tag("security-group", name))["GroupId"]

    alb_sg = sg(vpc_a, "alb-sg", "ALB")
    web_sg = sg(vpc_a, "web-sg", "web tier")
    app_sg = sg(vpc_a, "app-sg", "app tier")
    db_sg = sg(vpc_b, "db-sg", "db in peer vpc")
    ec2.authorize_security_group_ingress(GroupId=alb_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "http"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
         "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
    ])
    ec2.authorize_security_group_ingress(GroupId=web_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb_sg, "Description": "from alb"}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "203.0.113.0/24", "Description": "office"}]},
        {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "PrefixListIds": [{"PrefixListId": office, "Description": "rdp"}]},
    ])
    ec2.authorize_security_group_ingress(GroupId=app_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8090, "UserIdGroupPairs": [{"GroupId": web_sg}]},
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": app_sg}]},
    ])
    ec2.authorize_security_group_ingress(GroupId=db_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
    ])
    ec2.revoke_security_group_egress(GroupId=db_sg, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.authorize_security_group_egress(GroupId=db_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    # ---------- instances (moto_world.py) ----------
    ami = "ami-1e749f67"  # a moto built-in AMI

    def instance(name, subnet_id, sgs, public=True, private_ip=None, count=1):
        ni = {"DeviceIndex": 0, "SubnetId": subnet_id, "Groups": sgs, "AssociatePublicIpAddress": public}
        if private_ip:
            ni["PrivateIpAddress"] = private_ip
        r = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=count, MaxCount=count,
                              NetworkInterfaces=[ni], TagSpecifications=tag("instance", name))
        return [i["InstanceId"] for i in r["Instances"]]

    web1 = instance("web-1", pub_a1, [web_sg, app_sg], private_ip="10.0.1.10")[0]
    web2 = instance("web-2", pub_a2, [web_sg, app_sg])[0]
    instance("db-1", priv_b, [db_sg], public=True)
    web1_eni = ec2.describe_instances(InstanceIds=[web1])["Reservations"][0]["Instances"][0]["NetworkInterfaces"][0]["NetworkInterfaceId"]
    web1_eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=web1_eip, NetworkInterfaceId=web1_eni, PrivateIpAddress="10.0.1.10")

    # ---------- ALB (moto_world.py) ----------
    lb = elb.create_load_balancer(Name="web-alb", Subnets=[pub_a1, pub_a2], SecurityGroups=[alb_sg],
                                  Scheme="internet-facing", Type="application", IpAddressType="ipv4")["LoadBalancers"][0]
    tg = elb.create_target_group(Name="tg-web", Protocol="HTTP", Port=80, VpcId=vpc_a, TargetType="instance",
                                 HealthCheckProtocol="HTTP", HealthCheckPath="/health")["TargetGroups"][0]
    elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": web1, "Port": 80}, {"Id": web2, "Port": 80}])
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])

    # ---------- extension: classic ELB ----------
    classic.create_load_balancer(LoadBalancerName="legacy-ssh", Subnets=[pub_a2], SecurityGroups=[web_sg],
                                 Scheme="internet-facing",
                                 Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 2222, "InstancePort": 22}])
    classic.register_instances_with_load_balancer(LoadBalancerName="legacy-ssh", Instances=[{"InstanceId": web2}])

    # ---------- extension: transit gateway ----------
    tgw = ec2.create_transit_gateway(Description="core")["TransitGateway"]["TransitGatewayId"]
    att = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc_b, SubnetIds=[priv_b])["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    tgw_rt = ec2.create_transit_gateway_route_table(TransitGatewayId=tgw)["TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]
    ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=tgw_rt, TransitGatewayAttachmentId=att)
    ec2.enable_transit_gateway_route_table_propagation(TransitGatewayRouteTableId=tgw_rt, TransitGatewayAttachmentId=att)
    ec2.create_transit_gateway_route(DestinationCidrBlock="192.168.0.0/16", TransitGatewayRouteTableId=tgw_rt,
                                     TransitGatewayAttachmentId=att)
    ec2.create_transit_gateway_route(DestinationCidrBlock="192.168.99.0/24", TransitGatewayRouteTableId=tgw_rt,
                                     Blackhole=True)

    # ---------- the large world: N more instances, in two /18 fleet subnets ----------
    if args.instances:
        fleet_a = subnet(vpc_a, "10.0.64.0/18", "us-east-1a", "fleet-a", True)
        ec2.associate_route_table(RouteTableId=rtb_pub, SubnetId=fleet_a)
        fleet_b = subnet(vpc_b, "10.1.64.0/18", "us-east-1b", "fleet-b", False)
        subnets = [(fleet_a, [web_sg]), (fleet_a, [web_sg, app_sg]), (fleet_b, [db_sg])]
    left, i = args.instances, 0
    while left > 0:
        n = min(100, left)
        sn, groups = subnets[i % len(subnets)]
        instance(f"fleet-{i}", sn, groups, public=(i % 2 == 0), count=n)
        left -= n
        i += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
