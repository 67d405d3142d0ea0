//! Load balancers as the AWS CLI prints them: elbv2 load balancers,
//! listeners, target groups and target health, and classic ELBs.
//!
//! Why it exists: a load balancer is a path from its listeners to its
//! targets, and the loader reads these records by their CLI member names.
//! Written: every member the SDK models except listener `MutualAuthentication`
//! and the `Authenticate*Config`/`JwtValidationConfig` of actions (identity
//! provider settings, no bearing on reachability), load balancer `IpamPools`,
//! and target health `AnomalyDetection`/`AdministrativeOverride`.

use aws_sdk_elasticloadbalancing::types as classic;
use aws_sdk_elasticloadbalancingv2::types as v2;
use serde_json::Value;

use crate::cli_json::Obj;

pub(crate) fn load_balancer(v: &v2::LoadBalancer) -> Value {
    let address = |a: &v2::LoadBalancerAddress| {
        Obj::new()
            .s("IpAddress", a.ip_address.as_deref())
            .s("AllocationId", a.allocation_id.as_deref())
            .s("PrivateIPv4Address", a.private_ipv4_address.as_deref())
            .s("IPv6Address", a.ipv6_address.as_deref())
            .done()
    };
    let zone = |z: &v2::AvailabilityZone| {
        Obj::new()
            .s("ZoneName", z.zone_name.as_deref())
            .s("SubnetId", z.subnet_id.as_deref())
            .s("OutpostId", z.outpost_id.as_deref())
            .list("LoadBalancerAddresses", z.load_balancer_addresses.as_ref(), address)
            .strs("SourceNatIpv6Prefixes", z.source_nat_ipv6_prefixes.as_ref())
            .done()
    };
    let state =
        |s: &v2::LoadBalancerState| Obj::new().e("Code", s.code.as_ref()).s("Reason", s.reason.as_deref()).done();
    Obj::new()
        .s("LoadBalancerArn", v.load_balancer_arn.as_deref())
        .s("DNSName", v.dns_name.as_deref())
        .s("CanonicalHostedZoneId", v.canonical_hosted_zone_id.as_deref())
        .t("CreatedTime", v.created_time.as_ref())
        .s("LoadBalancerName", v.load_balancer_name.as_deref())
        .e("Scheme", v.scheme.as_ref())
        .s("VpcId", v.vpc_id.as_deref())
        .obj("State", v.state.as_ref(), state)
        .e("Type", v.r#type.as_ref())
        .list("AvailabilityZones", v.availability_zones.as_ref(), zone)
        .strs("SecurityGroups", v.security_groups.as_ref())
        .e("IpAddressType", v.ip_address_type.as_ref())
        .s("CustomerOwnedIpv4Pool", v.customer_owned_ipv4_pool.as_deref())
        .s(
            "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic",
            v.enforce_security_group_inbound_rules_on_private_link_traffic.as_deref(),
        )
        .e("EnablePrefixForIpv6SourceNat", v.enable_prefix_for_ipv6_source_nat.as_ref())
        .done()
}

fn action(a: &v2::Action) -> Value {
    let redirect = |r: &v2::RedirectActionConfig| {
        Obj::new()
            .s("Protocol", r.protocol.as_deref())
            .s("Port", r.port.as_deref())
            .s("Host", r.host.as_deref())
            .s("Path", r.path.as_deref())
            .s("Query", r.query.as_deref())
            .e("StatusCode", r.status_code.as_ref())
            .done()
    };
    let fixed = |f: &v2::FixedResponseActionConfig| {
        Obj::new()
            .s("MessageBody", f.message_body.as_deref())
            .s("StatusCode", f.status_code.as_deref())
            .s("ContentType", f.content_type.as_deref())
            .done()
    };
    let forward = |f: &v2::ForwardActionConfig| {
        let tuple = |t: &v2::TargetGroupTuple| {
            Obj::new().s("TargetGroupArn", t.target_group_arn.as_deref()).n("Weight", t.weight).done()
        };
        let sticky = |s: &v2::TargetGroupStickinessConfig| {
            Obj::new().n("Enabled", s.enabled).n("DurationSeconds", s.duration_seconds).done()
        };
        Obj::new()
            .list("TargetGroups", f.target_groups.as_ref(), tuple)
            .obj("TargetGroupStickinessConfig", f.target_group_stickiness_config.as_ref(), sticky)
            .done()
    };
    Obj::new()
        .e("Type", a.r#type.as_ref())
        .s("TargetGroupArn", a.target_group_arn.as_deref())
        .n("Order", a.order)
        .obj("RedirectConfig", a.redirect_config.as_ref(), redirect)
        .obj("FixedResponseConfig", a.fixed_response_config.as_ref(), fixed)
        .obj("ForwardConfig", a.forward_config.as_ref(), forward)
        .done()
}

pub(crate) fn listener(v: &v2::Listener) -> Value {
    let certificate = |c: &v2::Certificate| {
        Obj::new().s("CertificateArn", c.certificate_arn.as_deref()).n("IsDefault", c.is_default).done()
    };
    Obj::new()
        .s("ListenerArn", v.listener_arn.as_deref())
        .s("LoadBalancerArn", v.load_balancer_arn.as_deref())
        .n("Port", v.port)
        .e("Protocol", v.protocol.as_ref())
        .list("Certificates", v.certificates.as_ref(), certificate)
        .s("SslPolicy", v.ssl_policy.as_deref())
        .list("DefaultActions", v.default_actions.as_ref(), action)
        .strs("AlpnPolicy", v.alpn_policy.as_ref())
        .done()
}

pub(crate) fn target_group(v: &v2::TargetGroup) -> Value {
    let matcher =
        |m: &v2::Matcher| Obj::new().s("HttpCode", m.http_code.as_deref()).s("GrpcCode", m.grpc_code.as_deref()).done();
    Obj::new()
        .s("TargetGroupArn", v.target_group_arn.as_deref())
        .s("TargetGroupName", v.target_group_name.as_deref())
        .e("Protocol", v.protocol.as_ref())
        .n("Port", v.port)
        .s("VpcId", v.vpc_id.as_deref())
        .e("HealthCheckProtocol", v.health_check_protocol.as_ref())
        .s("HealthCheckPort", v.health_check_port.as_deref())
        .n("HealthCheckEnabled", v.health_check_enabled)
        .n("HealthCheckIntervalSeconds", v.health_check_interval_seconds)
        .n("HealthCheckTimeoutSeconds", v.health_check_timeout_seconds)
        .n("HealthyThresholdCount", v.healthy_threshold_count)
        .n("UnhealthyThresholdCount", v.unhealthy_threshold_count)
        .s("HealthCheckPath", v.health_check_path.as_deref())
        .obj("Matcher", v.matcher.as_ref(), matcher)
        .strs("LoadBalancerArns", v.load_balancer_arns.as_ref())
        .e("TargetType", v.target_type.as_ref())
        .s("ProtocolVersion", v.protocol_version.as_deref())
        .e("IpAddressType", v.ip_address_type.as_ref())
        .n("TargetControlPort", v.target_control_port)
        .done()
}

pub(crate) fn target_health(v: &v2::TargetHealthDescription) -> Value {
    let target = |t: &v2::TargetDescription| {
        Obj::new()
            .s("Id", t.id.as_deref())
            .n("Port", t.port)
            .s("AvailabilityZone", t.availability_zone.as_deref())
            .s("QuicServerId", t.quic_server_id.as_deref())
            .done()
    };
    let health = |h: &v2::TargetHealth| {
        Obj::new()
            .e("State", h.state.as_ref())
            .e("Reason", h.reason.as_ref())
            .s("Description", h.description.as_deref())
            .done()
    };
    Obj::new()
        .obj("Target", v.target.as_ref(), target)
        .s("HealthCheckPort", v.health_check_port.as_deref())
        .obj("TargetHealth", v.target_health.as_ref(), health)
        .done()
}

/// Classic ELB `LoadBalancerDescriptions[]`.
pub(crate) fn classic_load_balancer(v: &classic::LoadBalancerDescription) -> Value {
    let listener = |d: &classic::ListenerDescription| {
        let l = |l: &classic::Listener| {
            Obj::new()
                .s("Protocol", Some(&l.protocol))
                .n("LoadBalancerPort", Some(l.load_balancer_port))
                .s("InstanceProtocol", l.instance_protocol.as_deref())
                .n("InstancePort", Some(l.instance_port))
                .s("SSLCertificateId", l.ssl_certificate_id.as_deref())
                .done()
        };
        Obj::new().obj("Listener", d.listener.as_ref(), l).strs("PolicyNames", d.policy_names.as_ref()).done()
    };
    let policies = |p: &classic::Policies| {
        let app = |a: &classic::AppCookieStickinessPolicy| {
            Obj::new().s("PolicyName", a.policy_name.as_deref()).s("CookieName", a.cookie_name.as_deref()).done()
        };
        let lb = |a: &classic::LbCookieStickinessPolicy| {
            Obj::new()
                .s("PolicyName", a.policy_name.as_deref())
                .n("CookieExpirationPeriod", a.cookie_expiration_period)
                .done()
        };
        Obj::new()
            .list("AppCookieStickinessPolicies", p.app_cookie_stickiness_policies.as_ref(), app)
            .list("LBCookieStickinessPolicies", p.lb_cookie_stickiness_policies.as_ref(), lb)
            .strs("OtherPolicies", p.other_policies.as_ref())
            .done()
    };
    let backend = |b: &classic::BackendServerDescription| {
        Obj::new().n("InstancePort", b.instance_port).strs("PolicyNames", b.policy_names.as_ref()).done()
    };
    let instance = |i: &classic::Instance| Obj::new().s("InstanceId", i.instance_id.as_deref()).done();
    let health = |h: &classic::HealthCheck| {
        Obj::new()
            .s("Target", Some(&h.target))
            .n("Interval", Some(h.interval))
            .n("Timeout", Some(h.timeout))
            .n("UnhealthyThreshold", Some(h.unhealthy_threshold))
            .n("HealthyThreshold", Some(h.healthy_threshold))
            .done()
    };
    let source = |s: &classic::SourceSecurityGroup| {
        Obj::new().s("OwnerAlias", s.owner_alias.as_deref()).s("GroupName", s.group_name.as_deref()).done()
    };
    Obj::new()
        .s("LoadBalancerName", v.load_balancer_name.as_deref())
        .s("DNSName", v.dns_name.as_deref())
        .s("CanonicalHostedZoneName", v.canonical_hosted_zone_name.as_deref())
        .s("CanonicalHostedZoneNameID", v.canonical_hosted_zone_name_id.as_deref())
        .list("ListenerDescriptions", v.listener_descriptions.as_ref(), listener)
        .obj("Policies", v.policies.as_ref(), policies)
        .list("BackendServerDescriptions", v.backend_server_descriptions.as_ref(), backend)
        .strs("AvailabilityZones", v.availability_zones.as_ref())
        .strs("Subnets", v.subnets.as_ref())
        .s("VPCId", v.vpc_id.as_deref())
        .list("Instances", v.instances.as_ref(), instance)
        .obj("HealthCheck", v.health_check.as_ref(), health)
        .obj("SourceSecurityGroup", v.source_security_group.as_ref(), source)
        .strs("SecurityGroups", v.security_groups.as_ref())
        .t("CreatedTime", v.created_time.as_ref())
        .s("Scheme", v.scheme.as_deref())
        .done()
}
