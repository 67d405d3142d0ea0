//! Endpoints: network interfaces, instances and Elastic IPs.
//!
//! Why it exists: interfaces are where packets start and end. They come from
//! describe-network-interfaces; an instance that names an interface no such
//! file has gets one synthesized from its own `NetworkInterfaces[]` entry
//! (the same fields), and describe-addresses adds Elastic IPs. moto leaves
//! `Instance.SecurityGroups` empty when an instance is launched with
//! `NetworkInterfaces`, so groups are always taken from the interface.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::vpc::parse_v4;
use super::{Builder, Source, required, shapes as s};
use crate::model::{Instance, Interface};

impl Builder {
    fn interface_from(&mut self, id: &str, src: &Source, v: s::NetworkInterface) -> Interface {
        let mut private_ips: Vec<Ipv4Addr> = Vec::new();
        let mut public_ips: Vec<(Ipv4Addr, Ipv4Addr)> = Vec::new();
        let bad_ip = |b: &mut Builder, what: &str, ip: &str| {
            b.warn(id, &src.file, format!("{what} `{ip}` is not an IPv4 address; ignored"));
        };
        let primary = v.private_ip_address.as_deref().and_then(parse_v4);
        if let Some(p) = primary {
            private_ips.push(p);
        }
        for p in v.private_ip_addresses {
            let Some(text) = p.private_ip_address else { continue };
            let Some(ip) = parse_v4(&text) else {
                bad_ip(self, "private IP", &text);
                continue;
            };
            if !private_ips.contains(&ip) {
                private_ips.push(ip);
            }
            if let Some(public) = p.association.and_then(|a| a.public_ip) {
                match parse_v4(&public) {
                    Some(pub_ip) if !public_ips.contains(&(pub_ip, ip)) => public_ips.push((pub_ip, ip)),
                    Some(_) => {}
                    None => bad_ip(self, "public IP", &public),
                }
            }
        }
        // The interface-level association belongs to the primary private IP
        // (moto gives only this one in describe-network-interfaces).
        if let Some(public) = v.association.and_then(|a| a.public_ip) {
            match (parse_v4(&public), primary.or(private_ips.first().copied())) {
                (Some(pub_ip), Some(private)) => {
                    if !public_ips.iter().any(|(p, _)| *p == pub_ip) {
                        public_ips.push((pub_ip, private));
                    }
                }
                (None, _) => bad_ip(self, "public IP", &public),
                (Some(_), None) => self.warn(id, &src.file, format!("public IP {public} but no private IP")),
            }
        }
        let mut ipv6_ips: Vec<Ipv6Addr> = Vec::new();
        for a in v.ipv6_addresses.into_iter().filter_map(|a| a.ipv6_address) {
            match a.trim().parse() {
                Ok(ip) if !ipv6_ips.contains(&ip) => ipv6_ips.push(ip),
                Ok(_) => {}
                Err(_) => self.warn(id, &src.file, format!("IPv6 address `{a}` is invalid; ignored")),
            }
        }
        let mut security_group_ids: Vec<String> = Vec::new();
        for g in v.groups.into_iter().filter_map(|g| g.group_id) {
            if !security_group_ids.contains(&g) {
                security_group_ids.push(g);
            }
        }
        Interface {
            id: id.to_string(),
            vpc_id: v.vpc_id.unwrap_or_default(),
            subnet_id: v.subnet_id.unwrap_or_default(),
            private_ips,
            ipv6_ips,
            public_ips,
            security_group_ids,
            instance_id: v.attachment.and_then(|a| a.instance_id).filter(|i| !i.is_empty()),
            interface_type: v.interface_type.unwrap_or_else(|| "interface".into()),
            description: v.description.unwrap_or_default(),
        }
    }

    pub(super) fn interface(&mut self, src: &Source, v: s::NetworkInterface) {
        let Some(id) = required(self, src, "NetworkInterfaceId", v.network_interface_id.clone()) else { return };
        if !self.claim(&id, src) {
            return;
        }
        let eni = self.interface_from(&id, src, v);
        self.net.interfaces.insert(id, eni);
    }

    pub(super) fn reservation(&mut self, src: &Source, r: s::Reservation) {
        for (i, value) in r.instances.into_iter().enumerate() {
            match serde_json::from_value::<s::Instance>(value) {
                Ok(inst) => self.instance(src, inst),
                Err(e) => self.warn(&format!("{}[{i}]", src.file), &src.file, format!("instance skipped: {e}")),
            }
        }
    }

    fn instance(&mut self, src: &Source, v: s::Instance) {
        let Some(id) = required(self, src, "InstanceId", v.instance_id) else { return };
        if !self.claim(&id, src) {
            return;
        }
        let running = v.state.and_then(|s| s.name).as_deref() == Some("running");
        let name = v.tags.into_iter().find(|t| t.key.as_deref() == Some("Name")).and_then(|t| t.value);
        let only_one = v.network_interfaces.len() == 1;
        let instance_groups: Vec<String> = v.security_groups.into_iter().filter_map(|g| g.group_id).collect();
        let mut interface_ids = Vec::new();
        let mut nis = v.network_interfaces;
        // The primary interface (device index 0) first: load balancers send to it.
        nis.sort_by_key(|ni| ni.attachment.as_ref().and_then(|a| a.device_index).unwrap_or(i64::MAX));
        for ni in nis {
            let Some(eni_id) = ni.network_interface_id.clone().filter(|e| !e.is_empty()) else {
                self.warn(&id, &src.file, "an interface without NetworkInterfaceId ignored".into());
                continue;
            };
            if let Some(eni) = self.net.interfaces.get_mut(&eni_id) {
                match &eni.instance_id {
                    None => eni.instance_id = Some(id.clone()),
                    Some(other) if *other != id => {
                        let message = format!("interface {eni_id} is attached to {other} per its own record");
                        self.warn_res(&id, message);
                    }
                    Some(_) => {}
                }
            } else {
                let mut eni = self.interface_from(&eni_id, src, ni);
                eni.instance_id = Some(id.clone());
                if eni.security_group_ids.is_empty() && only_one {
                    eni.security_group_ids = instance_groups.clone();
                }
                self.origin.entry(eni_id.clone()).or_insert_with(|| src.file.clone());
                self.synthesized.insert(eni_id.clone(), id.clone());
                self.net.interfaces.insert(eni_id.clone(), eni);
            }
            if !interface_ids.contains(&eni_id) {
                interface_ids.push(eni_id);
            }
        }
        if interface_ids.is_empty() && running {
            self.warn(&id, &src.file, "running instance with no network interface".into());
        }
        self.net.instances.insert(id.clone(), Instance { id, running, interface_ids, name });
    }

    /// An Elastic IP: adds its public IP to the interface it is associated with.
    pub(super) fn address(&mut self, src: &Source, v: s::Address) {
        let resource = v.allocation_id.clone().or(v.public_ip.clone()).unwrap_or_else(|| src.file.clone());
        let Some(public) = v.public_ip.as_deref().and_then(parse_v4) else {
            return self.warn(&resource, &src.file, format!("PublicIp {:?} is not an IPv4 address", v.public_ip));
        };
        let eni_id = match (v.network_interface_id, v.instance_id) {
            (Some(eni), _) => eni,
            (None, Some(inst)) => match self.net.instances.get(&inst).and_then(|i| i.interface_ids.first()) {
                Some(eni) => eni.clone(),
                None => return self.warn(&resource, &src.file, format!("associated with unknown instance {inst}")),
            },
            (None, None) => return, // not associated: reaches nothing
        };
        let Some(eni) = self.net.interfaces.get(&eni_id) else {
            return self.warn(&resource, &src.file, format!("associated with unknown network interface {eni_id}"));
        };
        let private = match v.private_ip_address.as_deref() {
            Some(p) => parse_v4(p),
            None => eni.private_ips.first().copied(),
        };
        let Some(private) = private else {
            return self.warn(&resource, &src.file, format!("no valid private IP to map {public} to on {eni_id}"));
        };
        if !eni.private_ips.contains(&private) {
            let message = format!("private IP {private} is not one of {eni_id}'s addresses");
            self.warn(&resource, &src.file, message);
        }
        let Some(eni) = self.net.interfaces.get_mut(&eni_id) else { return };
        eni.public_ips.retain(|(p, _)| *p != public);
        eni.public_ips.push((public, private));
    }
}
