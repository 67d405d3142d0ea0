//! The API calls: which ones, under which file name, and how each is paged
//! and converted.
//!
//! Why it exists: one table ([`Op::ALL`] and [`Op::info`]) says, per call,
//! the CLI command it stands for, the top-level key of its output, and (for
//! per-resource calls) which parent output names the resources. [`run`]
//! makes the call through the SDK, following every `NextToken`/`NextMarker`
//! with the SDK's paginator, and hands each page's records, already in the
//! CLI's shape, to the [`Sink`] that writes the file.

use std::collections::BTreeMap;

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::Filter;
use aws_smithy_async::future::pagination_stream::PaginationStream;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ec2_endpoints as eps, ec2_network as net, elb};

/// The clients of one region.
#[derive(Clone)]
pub(crate) struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub elb: aws_sdk_elasticloadbalancing::Client,
}

/// One API operation Warden calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Op {
    DescribeVpcs,
    DescribeSubnets,
    DescribeRouteTables,
    DescribeInternetGateways,
    DescribeEgressOnlyInternetGateways,
    DescribeNatGateways,
    DescribeVpnGateways,
    DescribeVpcPeeringConnections,
    DescribeTransitGateways,
    DescribeTransitGatewayAttachments,
    DescribeTransitGatewayRouteTables,
    SearchTransitGatewayRoutes,
    GetTransitGatewayRouteTableAssociations,
    GetTransitGatewayRouteTablePropagations,
    DescribeNetworkAcls,
    DescribeSecurityGroups,
    DescribeSecurityGroupRules,
    DescribeManagedPrefixLists,
    GetManagedPrefixListEntries,
    DescribeNetworkInterfaces,
    DescribeInstances,
    DescribeAddresses,
    Elbv2DescribeLoadBalancers,
    Elbv2DescribeListeners,
    Elbv2DescribeTargetGroups,
    Elbv2DescribeTargetHealth,
    ElbDescribeLoadBalancers,
}

/// What a call is, for the folder and the manifest.
pub(crate) struct OpInfo {
    /// `ec2`, `elbv2` or `elb` (the CLI's service names).
    pub service: &'static str,
    /// The API operation name.
    pub operation: &'static str,
    /// The CLI command (`describe-vpcs`); also the sub-folder of per-resource calls.
    pub command: &'static str,
    /// The file stem of a region-wide call (`describe-load-balancers-classic`
    /// keeps the classic ELB answer apart from the elbv2 one).
    pub file: &'static str,
    /// The output's list member (how the loader recognises the file).
    pub key: &'static str,
    /// Per-resource calls: the parent call and the member of its records
    /// that names each resource.
    pub parent: Option<(Op, &'static str)>,
}

impl Op {
    /// Every call, parents before children.
    pub(crate) const ALL: [Op; 27] = [
        Op::DescribeVpcs,
        Op::DescribeSubnets,
        Op::DescribeRouteTables,
        Op::DescribeInternetGateways,
        Op::DescribeEgressOnlyInternetGateways,
        Op::DescribeNatGateways,
        Op::DescribeVpnGateways,
        Op::DescribeVpcPeeringConnections,
        Op::DescribeTransitGateways,
        Op::DescribeTransitGatewayAttachments,
        Op::DescribeTransitGatewayRouteTables,
        Op::SearchTransitGatewayRoutes,
        Op::GetTransitGatewayRouteTableAssociations,
        Op::GetTransitGatewayRouteTablePropagations,
        Op::DescribeNetworkAcls,
        Op::DescribeSecurityGroups,
        Op::DescribeSecurityGroupRules,
        Op::DescribeManagedPrefixLists,
        Op::GetManagedPrefixListEntries,
        Op::DescribeNetworkInterfaces,
        Op::DescribeInstances,
        Op::DescribeAddresses,
        Op::Elbv2DescribeLoadBalancers,
        Op::Elbv2DescribeListeners,
        Op::Elbv2DescribeTargetGroups,
        Op::Elbv2DescribeTargetHealth,
        Op::ElbDescribeLoadBalancers,
    ];

    pub(crate) fn info(self) -> OpInfo {
        use Op::*;
        let ec2 =
            |operation, command, key| OpInfo { service: "ec2", operation, command, file: command, key, parent: None };
        let child = |mut i: OpInfo, parent: Op, member| {
            i.parent = Some((parent, member));
            i
        };
        match self {
            DescribeVpcs => ec2("DescribeVpcs", "describe-vpcs", "Vpcs"),
            DescribeSubnets => ec2("DescribeSubnets", "describe-subnets", "Subnets"),
            DescribeRouteTables => ec2("DescribeRouteTables", "describe-route-tables", "RouteTables"),
            DescribeInternetGateways => {
                ec2("DescribeInternetGateways", "describe-internet-gateways", "InternetGateways")
            }
            DescribeEgressOnlyInternetGateways => ec2(
                "DescribeEgressOnlyInternetGateways",
                "describe-egress-only-internet-gateways",
                "EgressOnlyInternetGateways",
            ),
            DescribeNatGateways => ec2("DescribeNatGateways", "describe-nat-gateways", "NatGateways"),
            DescribeVpnGateways => ec2("DescribeVpnGateways", "describe-vpn-gateways", "VpnGateways"),
            DescribeVpcPeeringConnections => {
                ec2("DescribeVpcPeeringConnections", "describe-vpc-peering-connections", "VpcPeeringConnections")
            }
            DescribeTransitGateways => ec2("DescribeTransitGateways", "describe-transit-gateways", "TransitGateways"),
            DescribeTransitGatewayAttachments => ec2(
                "DescribeTransitGatewayAttachments",
                "describe-transit-gateway-attachments",
                "TransitGatewayAttachments",
            ),
            DescribeTransitGatewayRouteTables => ec2(
                "DescribeTransitGatewayRouteTables",
                "describe-transit-gateway-route-tables",
                "TransitGatewayRouteTables",
            ),
            SearchTransitGatewayRoutes => child(
                ec2("SearchTransitGatewayRoutes", "search-transit-gateway-routes", "Routes"),
                DescribeTransitGatewayRouteTables,
                "TransitGatewayRouteTableId",
            ),
            GetTransitGatewayRouteTableAssociations => child(
                ec2(
                    "GetTransitGatewayRouteTableAssociations",
                    "get-transit-gateway-route-table-associations",
                    "Associations",
                ),
                DescribeTransitGatewayRouteTables,
                "TransitGatewayRouteTableId",
            ),
            GetTransitGatewayRouteTablePropagations => child(
                ec2(
                    "GetTransitGatewayRouteTablePropagations",
                    "get-transit-gateway-route-table-propagations",
                    "TransitGatewayRouteTablePropagations",
                ),
                DescribeTransitGatewayRouteTables,
                "TransitGatewayRouteTableId",
            ),
            DescribeNetworkAcls => ec2("DescribeNetworkAcls", "describe-network-acls", "NetworkAcls"),
            DescribeSecurityGroups => ec2("DescribeSecurityGroups", "describe-security-groups", "SecurityGroups"),
            DescribeSecurityGroupRules => {
                ec2("DescribeSecurityGroupRules", "describe-security-group-rules", "SecurityGroupRules")
            }
            DescribeManagedPrefixLists => {
                ec2("DescribeManagedPrefixLists", "describe-managed-prefix-lists", "PrefixLists")
            }
            GetManagedPrefixListEntries => child(
                ec2("GetManagedPrefixListEntries", "get-managed-prefix-list-entries", "Entries"),
                DescribeManagedPrefixLists,
                "PrefixListId",
            ),
            DescribeNetworkInterfaces => {
                ec2("DescribeNetworkInterfaces", "describe-network-interfaces", "NetworkInterfaces")
            }
            DescribeInstances => ec2("DescribeInstances", "describe-instances", "Reservations"),
            DescribeAddresses => ec2("DescribeAddresses", "describe-addresses", "Addresses"),
            Elbv2DescribeLoadBalancers => {
                OpInfo { service: "elbv2", ..ec2("DescribeLoadBalancers", "describe-load-balancers", "LoadBalancers") }
            }
            Elbv2DescribeListeners => OpInfo {
                service: "elbv2",
                ..child(
                    ec2("DescribeListeners", "describe-listeners", "Listeners"),
                    Elbv2DescribeLoadBalancers,
                    "LoadBalancerArn",
                )
            },
            Elbv2DescribeTargetGroups => {
                OpInfo { service: "elbv2", ..ec2("DescribeTargetGroups", "describe-target-groups", "TargetGroups") }
            }
            Elbv2DescribeTargetHealth => OpInfo {
                service: "elbv2",
                ..child(
                    ec2("DescribeTargetHealth", "describe-target-health", "TargetHealthDescriptions"),
                    Elbv2DescribeTargetGroups,
                    "TargetGroupArn",
                )
            },
            ElbDescribeLoadBalancers => OpInfo {
                service: "elb",
                file: "describe-load-balancers-classic",
                ..ec2("DescribeLoadBalancers", "describe-load-balancers", "LoadBalancerDescriptions")
            },
        }
    }

    /// Calls whose records tell the account (`OwnerId`).
    pub(crate) fn names_owner(self) -> bool {
        matches!(
            self,
            Op::DescribeVpcs | Op::DescribeSubnets | Op::DescribeSecurityGroups | Op::DescribeNetworkInterfaces
        )
    }
}

/// Why a call failed, as the SDK reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallError {
    /// The AWS error code (`UnauthorizedOperation`, `Throttling`, ...), when
    /// the service answered; absent for connection, timeout or credential
    /// failures.
    pub code: Option<String>,
    /// The SDK's message with its causes.
    pub message: String,
}

impl CallError {
    /// The error code and message when the service answered with one;
    /// otherwise the error's chain of causes (and the HTTP status, if any),
    /// without the raw response the SDK's own report carries.
    pub(crate) fn from_sdk<E: ProvideErrorMetadata + std::error::Error + 'static>(
        e: &SdkError<E, HttpResponse>,
    ) -> Self {
        let status = e.raw_response().map(|r| r.status().as_u16());
        let code = e.code().map(str::to_string);
        let mut message = match (&code, e.message()) {
            (Some(code), Some(text)) => format!("{code}: {text}"),
            (Some(code), None) => code.clone(),
            _ => {
                let mut chain = e.to_string();
                let mut cause = std::error::Error::source(e);
                while let Some(c) = cause {
                    chain.push_str(": ");
                    chain.push_str(&c.to_string());
                    cause = c.source();
                }
                chain
            }
        };
        if let Some(status) = status {
            message.push_str(&format!(" (HTTP {status})"));
        }
        CallError { code, message }
    }
}

/// Receives a call's records page by page.
pub(crate) trait Sink: Send {
    /// One page's records, in the CLI's shape. An error stops the call.
    fn page(&mut self, records: Vec<Value>) -> Result<(), CallError>;
    /// The call succeeded but its answer is known to be incomplete (the
    /// AWS CLI drops such flags when it pages, so they go to the manifest).
    fn incomplete(&mut self, why: String);
}

/// Pages and records a call produced.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub pages: u32,
    pub items: usize,
}

/// Drains a paginator: every page's records go to `sink`; the first error
/// (after the SDK's retries) ends the call.
async fn drain<O, E>(
    mut pages: PaginationStream<Result<O, SdkError<E, HttpResponse>>>,
    sink: &mut dyn Sink,
    take: impl Fn(&O, &mut dyn Sink) -> Vec<Value>,
) -> Result<Counts, (Counts, CallError)>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut counts = Counts::default();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(e) => return Err((counts, CallError::from_sdk(&e))),
        };
        let records = take(&page, sink);
        counts.pages += 1;
        counts.items += records.len();
        if let Err(e) = sink.page(records) {
            return Err((counts, e));
        }
    }
    Ok(counts)
}

/// A call without pagination.
fn single<O, E>(
    answer: Result<O, SdkError<E, HttpResponse>>,
    sink: &mut dyn Sink,
    take: impl Fn(&O) -> Vec<Value>,
) -> Result<Counts, (Counts, CallError)>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let answer = answer.map_err(|e| (Counts::default(), CallError::from_sdk(&e)))?;
    let records = take(&answer);
    let counts = Counts { pages: 1, items: records.len() };
    sink.page(records).map_err(|e| (Counts { pages: 1, items: 0 }, e))?;
    Ok(counts)
}

fn each<T>(items: &[T], f: fn(&T) -> Value) -> Vec<Value> {
    items.iter().map(f).collect()
}

// Page sizes: the largest each API accepts (botocore's model: EC2 mostly
// 5..=1000, route tables 5..=100, egress-only gateways 5..=255, prefix lists
// 1..=100; ELB 1..=400), so a large estate takes few requests.
const EC2_PAGE: i32 = 1000;
const ROUTE_TABLE_PAGE: i32 = 100;
const EIGW_PAGE: i32 = 255;
const PREFIX_LIST_PAGE: i32 = 100;
const ELB_PAGE: i32 = 400;

/// Makes one call (`resource` names the resource of a per-resource call)
/// and passes its records to `sink`.
pub(crate) async fn run(
    c: &Clients,
    op: Op,
    resource: Option<&str>,
    sink: &mut dyn Sink,
) -> Result<Counts, (Counts, CallError)> {
    use Op::*;
    let id = resource.unwrap_or_default().to_string();
    match op {
        DescribeVpcs => {
            let p = c.ec2.describe_vpcs().into_paginator().page_size(EC2_PAGE).send();
            drain(p, sink, |o, _| each(o.vpcs(), net::vpc)).await
        }
        DescribeSubnets => {
            let p = c.ec2.describe_subnets().into_paginator().page_size(EC2_PAGE).send();
            drain(p, sink, |o, _| each(o.subnets(), net::subnet)).await
        }
        DescribeRouteTables => {
            let p = c.ec2.describe_route_tables().into_paginator().page_size(ROUTE_TABLE_PAGE).send();
            drain(p, sink, |o, _| each(o.route_tables(), net::route_table)).await
        }
        DescribeInternetGateways => {
            let p = c.ec2.describe_internet_gateways().into_paginator().page_size(EC2_PAGE).send();
            drain(p, sink, |o, _| each(o.internet_gateways(), net::internet_gateway)).await
        }
        DescribeEgressOnlyInternetGateways => {
            let p = c.ec2.describe_egress_only_internet_gateways().into_paginator().page_size(EIGW_PAGE).send();
            drain(p, sink, |o, _| each(o.egress_only_internet_gateways(), net::egress_only_internet_gateway)).await
        }
        DescribeNatGateways => {
            let p = c.ec2.describe_nat_gateways().into_paginator().page_size(EC2_PAGE).send();
            drain(p, sink, |o, _| each(o.nat_gateways(), net::nat_gateway)).await
        }
        DescribeVpnGateways => {
            single(c.ec2.describe_vpn_gateways().send().await, sink, |o| each(o.vpn_gateways(), net::vpn_gateway))
        }
        DescribeVpcPeeringConnections => {
            let p = c.ec2.describe_vpc_peering_connections().into_paginator().page_size(EC2_PAGE).send();
            drain(p, sink, |o, _| each(o.vpc_peering_connections(), net::vpc_peering_connection)).await
        }
        DescribeTransitGateways => {
            let p = c.ec2.describe_transit_gateways().into_paginator().page_size(EC2_PAGE).send();
            drain(p, sink, |o, _| each(o.transit_gateways(), net::transit_gateway)).await
        }
        DescribeTransitGatewayAttachments => {
            let p = c.ec2.describe_transit_gateway_attachments().into_paginator().page_size(EC2_PAGE).send();
            drain(p, sink, |o, _| each(o.transit_gateway_attachments(), net::transit_gateway_attachment)).await
        }
        DescribeTransitGatewayRouteTables => {
            let p = c.ec2.describe_transit_gateway_route_tables().into_paginator().page_size(EC2_PAGE).send();
            drain(p, sink, |o, _| each(o.transit_gateway_route_tables(), net::transit_gateway_route_table)).await
        }
        SearchTransitGatewayRoutes => {
            // The API requires a filter; static and propagated is every route.
            // No page size: the API's default is its maximum (1,000), and
            // moto 5.2 fails on MaxResults here.
            let by_type = Filter::builder().name("type").values("static").values("propagated").build();
            let p = c
                .ec2
                .search_transit_gateway_routes()
                .transit_gateway_route_table_id(id)
                .filters(by_type)
                .into_paginator()
                .send();
            drain(p, sink, |o, sink| {
                if o.additional_routes_available == Some(true) {
                    sink.incomplete(
                        "AdditionalRoutesAvailable: the table has more routes than one search returns".into(),
                    );
                }
                each(o.routes(), net::transit_gateway_route)
            })
            .await
        }
        GetTransitGatewayRouteTableAssociations => {
            let p = c
                .ec2
                .get_transit_gateway_route_table_associations()
                .transit_gateway_route_table_id(id)
                .into_paginator()
                .page_size(EC2_PAGE)
                .send();
            drain(p, sink, |o, _| each(o.associations(), net::transit_gateway_route_table_association)).await
        }
        GetTransitGatewayRouteTablePropagations => {
            let p = c
                .ec2
                .get_transit_gateway_route_table_propagations()
                .transit_gateway_route_table_id(id)
                .into_paginator()
                .page_size(EC2_PAGE)
                .send();
            drain(p, sink, |o, _| {
                each(o.transit_gateway_route_table_propagations(), net::transit_gateway_route_table_propagation)
            })
            .await
        }
        DescribeNetworkAcls => {
            let p = c.ec2.describe_network_acls().into_paginator().page_size(EC2_PAGE).send();
            drain(p, sink, |o, _| each(o.network_acls(), eps::network_acl)).await
        }
        DescribeSecurityGroups => {
            let p = c.ec2.describe_security_groups().into_paginator().page_size(EC2_PAGE).send();
            drain(p, sink, |o, _| each(o.security_groups(), eps::security_group)).await
        }
        DescribeSecurityGroupRules => {
            let p = c.ec2.describe_security_group_rules().into_paginator().page_size(EC2_PAGE).send();
            drain(p, sink, |o, _| each(o.security_group_rules(), eps::security_group_rule)).await
        }
        DescribeManagedPrefixLists => {
            let p = c.ec2.describe_managed_prefix_lists().into_paginator().page_size(PREFIX_LIST_PAGE).send();
            drain(p, sink, |o, _| each(o.prefix_lists(), eps::managed_prefix_list)).await
        }
        GetManagedPrefixListEntries => {
            let p = c
                .ec2
                .get_managed_prefix_list_entries()
                .prefix_list_id(id)
                .into_paginator()
                .page_size(PREFIX_LIST_PAGE)
                .send();
            drain(p, sink, |o, _| each(o.entries(), eps::prefix_list_entry)).await
        }
        DescribeNetworkInterfaces => {
            let p = c.ec2.describe_network_interfaces().into_paginator().page_size(EC2_PAGE).send();
            drain(p, sink, |o, _| each(o.network_interfaces(), eps::network_interface)).await
        }
        DescribeInstances => {
            let p = c.ec2.describe_instances().into_paginator().page_size(EC2_PAGE).send();
            drain(p, sink, |o, _| each(o.reservations(), eps::reservation)).await
        }
        DescribeAddresses => {
            single(c.ec2.describe_addresses().send().await, sink, |o| each(o.addresses(), eps::address))
        }
        Elbv2DescribeLoadBalancers => {
            let p = c.elbv2.describe_load_balancers().page_size(ELB_PAGE).into_paginator().send();
            drain(p, sink, |o, _| each(o.load_balancers(), elb::load_balancer)).await
        }
        Elbv2DescribeListeners => {
            let p = c.elbv2.describe_listeners().load_balancer_arn(id).page_size(ELB_PAGE).into_paginator().send();
            drain(p, sink, |o, _| each(o.listeners(), elb::listener)).await
        }
        Elbv2DescribeTargetGroups => {
            let p = c.elbv2.describe_target_groups().page_size(ELB_PAGE).into_paginator().send();
            drain(p, sink, |o, _| each(o.target_groups(), elb::target_group)).await
        }
        Elbv2DescribeTargetHealth => {
            let answer = c.elbv2.describe_target_health().target_group_arn(id).send().await;
            single(answer, sink, |o| each(o.target_health_descriptions(), elb::target_health))
        }
        ElbDescribeLoadBalancers => {
            let p = c.elb.describe_load_balancers().page_size(ELB_PAGE).into_paginator().send();
            drain(p, sink, |o, _| each(o.load_balancer_descriptions(), elb::classic_load_balancer)).await
        }
    }
}

/// The ids the per-resource calls need, gathered from their parents' records.
#[derive(Debug, Default)]
pub(crate) struct Children(pub BTreeMap<Op, Vec<String>>);

impl Children {
    /// Notes the resource names `op`'s records carry for its children.
    pub(crate) fn note(&mut self, op: Op, records: &[Value]) {
        for child in Op::ALL {
            if let Some((parent, member)) = child.info().parent
                && parent == op
            {
                let ids = self.0.entry(child).or_default();
                for r in records {
                    if let Some(id) = r.get(member).and_then(Value::as_str).filter(|s| !s.is_empty())
                        && !ids.iter().any(|x| x == id)
                    {
                        ids.push(id.to_string());
                    }
                }
            }
        }
    }
}
