//! Load balancers: ALBs and NLBs (elbv2), classic ELBs, listeners, target
//! groups and their registered targets.
//!
//! Why it exists: a load balancer is a path from its listeners to its
//! targets. elbv2 answers come in four calls: load balancers, listeners
//! (merged, or one file per load balancer), target groups, and target health
//! (one file per target group, which the answer does not name: the file stem
//! is the group's sanitized ARN). Classic ELBs carry listeners and instances
//! in one record, and are keyed `classic/<name>`.

use super::{Builder, Source, required, sanitize, shapes as s};
use crate::model::{Listener, LoadBalancer, LoadBalancerKind, Protocol, Target, TargetGroup};

/// Listener protocol(s): HTTP, HTTPS, TLS, TCP, SSL → TCP; UDP → UDP; TCP_UDP → both.
fn listener_protocols(p: &str) -> Option<Vec<Protocol>> {
    Some(match p.to_ascii_uppercase().as_str() {
        "HTTP" | "HTTPS" | "TLS" | "TCP" | "SSL" => vec![Protocol::Tcp],
        "UDP" => vec![Protocol::Udp],
        "TCP_UDP" => vec![Protocol::Tcp, Protocol::Udp],
        _ => return None,
    })
}

fn port(p: Option<i64>) -> Option<u16> {
    p.and_then(|p| u16::try_from(p).ok())
}

impl Builder {
    pub(super) fn load_balancer(&mut self, src: &Source, v: s::LoadBalancer) {
        let Some(id) = required(self, src, "LoadBalancerArn", v.load_balancer_arn) else { return };
        let kind = match v.kind.as_deref() {
            Some("application") => LoadBalancerKind::Application,
            Some("network") => LoadBalancerKind::Network,
            other => {
                let message = format!("load balancer type {other:?} not modelled; skipped");
                return self.warn(&id, &src.file, message);
            }
        };
        if !self.claim(&id, src) {
            return;
        }
        let lb = LoadBalancer {
            id: id.clone(),
            name: v.load_balancer_name.unwrap_or_default(),
            kind,
            internet_facing: v.scheme.as_deref() == Some("internet-facing"),
            vpc_id: v.vpc_id.unwrap_or_default(),
            subnet_ids: v.availability_zones.into_iter().filter_map(|z| z.subnet_id).collect(),
            security_group_ids: v.security_groups,
            listeners: Vec::new(),
        };
        self.net.load_balancers.insert(id, lb);
    }

    pub(super) fn classic_load_balancer(&mut self, src: &Source, v: s::ClassicLb) {
        let Some(name) = required(self, src, "LoadBalancerName", v.load_balancer_name) else { return };
        let id = format!("classic/{name}");
        if !self.claim(&id, src) {
            return;
        }
        let instance_ids: Vec<String> = v.instances.into_iter().filter_map(|i| i.instance_id).collect();
        let mut listeners = Vec::new();
        for l in v.listener_descriptions.into_iter().filter_map(|d| d.listener) {
            let (Some(protocols), Some(lb_port)) =
                (l.protocol.as_deref().and_then(listener_protocols), port(l.load_balancer_port))
            else {
                let message =
                    format!("listener {:?}:{:?} skipped (protocol or port)", l.protocol, l.load_balancer_port);
                self.warn(&id, &src.file, message);
                continue;
            };
            for protocol in protocols {
                listeners.push(Listener {
                    protocol,
                    port: lb_port,
                    target_group_ids: Vec::new(),
                    instance_port: port(l.instance_port),
                    instance_ids: instance_ids.clone(),
                });
            }
        }
        let lb = LoadBalancer {
            id: id.clone(),
            name,
            kind: LoadBalancerKind::Classic,
            internet_facing: v.scheme.as_deref() == Some("internet-facing"),
            vpc_id: v.vpc_id.unwrap_or_default(),
            subnet_ids: v.subnets,
            security_group_ids: v.security_groups,
            listeners,
        };
        self.net.load_balancers.insert(id, lb);
    }

    pub(super) fn listener(&mut self, src: &Source, v: s::Listener) {
        let resource = v.listener_arn.clone().or(v.load_balancer_arn.clone()).unwrap_or_else(|| src.file.clone());
        if let Some(arn) = &v.listener_arn
            && !self.listeners_seen.insert(arn.clone())
        {
            return; // the same listener from a merged file and a per-LB file
        }
        let Some(lb_arn) = v.load_balancer_arn else {
            return self.warn(&resource, &src.file, "listener without LoadBalancerArn skipped".into());
        };
        let (Some(protocols), Some(lport)) = (v.protocol.as_deref().and_then(listener_protocols), port(v.port)) else {
            let message = format!("listener {:?}:{:?} skipped (protocol or port not modelled)", v.protocol, v.port);
            return self.warn(&resource, &src.file, message);
        };
        let mut tgs: Vec<String> = Vec::new();
        for a in v.default_actions {
            let forward = a.forward_config.map(|f| f.target_groups).unwrap_or_default();
            for tg in a.target_group_arn.into_iter().chain(forward.into_iter().filter_map(|t| t.target_group_arn)) {
                if !tgs.contains(&tg) {
                    tgs.push(tg);
                }
            }
        }
        let Some(lb) = self.net.load_balancers.get_mut(&lb_arn) else {
            return self.warn(&resource, &src.file, format!("listener of unknown load balancer {lb_arn}"));
        };
        for protocol in protocols {
            lb.listeners.push(Listener {
                protocol,
                port: lport,
                target_group_ids: tgs.clone(),
                instance_port: None,
                instance_ids: Vec::new(),
            });
        }
    }

    pub(super) fn target_group(&mut self, src: &Source, v: s::TargetGroup) {
        let Some(id) = required(self, src, "TargetGroupArn", v.target_group_arn) else { return };
        if !self.claim(&id, src) {
            return;
        }
        // TCP_UDP groups carry both; the model has one protocol per group and
        // the listeners say which half is used. Lambda groups have none.
        let protocol = match v.protocol.as_deref().map(str::to_ascii_uppercase).as_deref() {
            None => Protocol::All,
            Some("UDP" | "GENEVE") => Protocol::Udp,
            Some(_) => Protocol::Tcp,
        };
        let tg = TargetGroup {
            id: id.clone(),
            protocol,
            port: port(v.port),
            target_type: v.target_type.unwrap_or_else(|| "instance".into()),
            targets: Vec::new(),
        };
        self.net.target_groups.insert(id, tg);
    }

    /// A describe-target-health answer: the file stem names the target group.
    pub(super) fn target_health(&mut self, src: &Source, v: s::TargetHealth) {
        let Some(tg_id) = self.net.target_groups.keys().find(|k| sanitize(k) == src.stem).cloned() else {
            let message = format!("no known target group's sanitized ARN is `{}` (the file name)", src.stem);
            if !self.net.warnings.iter().any(|w| w.resource == src.file && w.message == message) {
                self.warn(&src.file, &src.file, message);
            }
            return;
        };
        let state = v.target_health.and_then(|h| h.state);
        let Some(target) = v.target.and_then(|t| Some(Target { id: t.id?, port: port(t.port), state })) else {
            return self.warn(&tg_id, &src.file, "target health without Target.Id skipped".into());
        };
        if let Some(tg) = self.net.target_groups.get_mut(&tg_id)
            && !tg.targets.iter().any(|t| t.id == target.id && t.port == target.port)
        {
            tg.targets.push(target);
        }
    }
}
