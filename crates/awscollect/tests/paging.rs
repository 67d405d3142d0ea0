//! Paging, retries and per-call failures, against a test double of the EC2,
//! ELB and STS query APIs on loopback.
//!
//! Why a double and not moto: moto ignores `MaxResults` and never answers
//! with a `NextToken`, and it cannot be told to throttle or deny one call.
//! Real AWS cannot be used in tests. The double below is a few canned XML
//! answers in the services' wire format (the EC2 query protocol and the AWS
//! query protocol, as documented in the API references), served over real
//! HTTP to the real SDK clients: the SDK's paginators, retry policy and
//! error parsing run unchanged; only the server is scripted.
//!
//! Script: STS names account 111122223333; DescribeSecurityGroups answers
//! three pages (tokens `p2`, `p3`); DescribeVpcs is throttled once
//! (`RequestLimitExceeded`, HTTP 503) then answers; DescribeSubnets is
//! denied (`UnauthorizedOperation`, 403); DescribeNetworkInterfaces answers
//! one page then fails (`InvalidParameterValue`, 400, not retried);
//! elbv2 DescribeLoadBalancers is denied (`AccessDenied`); everything else
//! answers an empty list.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use warden_awscollect::{Credentials, Manifest, Options, collect};

/// One request the double received: its `Action` and form parameters.
#[derive(Clone, Debug)]
struct Seen {
    action: String,
    version: String,
    params: HashMap<String, String>,
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

const EC2_NS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

fn ec2_answer(action: &str, inner: &str) -> (u16, String) {
    (
        200,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><{action}Response xmlns="{EC2_NS}"><requestId>r1</requestId>{inner}</{action}Response>"#
        ),
    )
}

fn ec2_error(status: u16, code: &str) -> (u16, String) {
    (
        status,
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code><Message>{code} (scripted)</Message></Error></Errors><RequestID>r1</RequestID></Response>"#
        ),
    )
}

fn query_answer(action: &str, inner: &str) -> (u16, String) {
    (
        200,
        format!(
            "<{action}Response><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></{action}Response>"
        ),
    )
}

fn security_group(id: &str) -> String {
    format!(
        "<item><ownerId>111122223333</ownerId><groupId>{id}</groupId><groupName>{id}-name</groupName>\
         <groupDescription>d</groupDescription><vpcId>vpc-1</vpcId><ipPermissions><item><ipProtocol>tcp</ipProtocol>\
         <fromPort>22</fromPort><toPort>22</toPort><groups/><ipRanges><item><cidrIp>203.0.113.0/24</cidrIp></item></ipRanges>\
         <ipv6Ranges/><prefixListIds/></item></ipPermissions><ipPermissionsEgress/></item>"
    )
}

/// The scripted answer to one request.
fn answer(seen: &Seen, history: &[Seen]) -> (u16, String) {
    let times = history.iter().filter(|s| s.action == seen.action && s.version == seen.version).count();
    let token = seen.params.get("NextToken").map(String::as_str);
    match (seen.version.as_str(), seen.action.as_str()) {
        (_, "GetCallerIdentity") => query_answer(
            "GetCallerIdentity",
            "<Arn>arn:aws:iam::111122223333:user/auditor</Arn><UserId>AIDEXAMPLE</UserId><Account>111122223333</Account>",
        ),
        (_, "DescribeSecurityGroups") => {
            let (groups, next) = match token {
                None => (vec!["sg-1", "sg-2"], Some("p2")),
                Some("p2") => (vec!["sg-3", "sg-4"], Some("p3")),
                Some("p3") => (vec!["sg-5"], None),
                Some(other) => panic!("unexpected token {other}"),
            };
            let items: String = groups.iter().map(|g| security_group(g)).collect();
            let next = next.map(|t| format!("<nextToken>{t}</nextToken>")).unwrap_or_default();
            ec2_answer("DescribeSecurityGroups", &format!("<securityGroupInfo>{items}</securityGroupInfo>{next}"))
        }
        (_, "DescribeVpcs") if times == 0 => ec2_error(503, "RequestLimitExceeded"),
        (_, "DescribeVpcs") => ec2_answer(
            "DescribeVpcs",
            "<vpcSet><item><vpcId>vpc-1</vpcId><ownerId>111122223333</ownerId><state>available</state>\
             <cidrBlock>10.0.0.0/16</cidrBlock><isDefault>false</isDefault></item></vpcSet>",
        ),
        (_, "DescribeSubnets") => ec2_error(403, "UnauthorizedOperation"),
        (_, "DescribeNetworkInterfaces") if token.is_none() => ec2_answer(
            "DescribeNetworkInterfaces",
            "<networkInterfaceSet><item><networkInterfaceId>eni-1</networkInterfaceId><vpcId>vpc-1</vpcId>\
             </item></networkInterfaceSet><nextToken>n2</nextToken>",
        ),
        (_, "DescribeNetworkInterfaces") => ec2_error(400, "InvalidParameterValue"),
        ("2015-12-01", "DescribeLoadBalancers") => (
            403,
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>denied (scripted)</Message>\
             </Error><RequestId>r1</RequestId></ErrorResponse>"
                .into(),
        ),
        ("2015-12-01" | "2012-06-01", action) => query_answer(action, ""),
        (_, action) => ec2_answer(action, ""),
    }
}

fn serve(mut stream: TcpStream, history: Arc<Mutex<Vec<Seen>>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let params: HashMap<String, String> = String::from_utf8(body)
        .unwrap()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    let seen = Seen {
        action: params.get("Action").cloned().unwrap_or_default(),
        version: params.get("Version").cloned().unwrap_or_default(),
        params,
    };
    let (status, body) = {
        let mut h = history.lock().unwrap();
        let reply = answer(&seen, &h);
        h.push(seen);
        reply
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body.as_bytes()));
}

/// Starts the double; returns its URL and what it received.
fn start() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let history = Arc::new(Mutex::new(Vec::new()));
    let h = history.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let h = h.clone();
            std::thread::spawn(move || serve(stream, h));
        }
    });
    (url, history)
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_retries_and_per_call_failures() {
    let (url, history) = start();
    let tmp = tempfile::tempdir().unwrap();
    let options = Options {
        regions: vec!["us-east-1".into()],
        endpoint_url: Some(url),
        static_credentials: Some(Credentials::new("AKIDTEST", "secret", None, None, "test")),
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        ..Default::default()
    };
    let (folder, manifest) = collect(&options, &tmp.path().join("out")).await.unwrap();
    let region = folder.join("111122223333/us-east-1");
    let on_disk: Manifest = serde_json::from_value(read(&folder.join("warden-collect.json"))).unwrap();
    assert_eq!(on_disk, manifest);
    assert!(manifest.partial);
    let r = &manifest.regions[0];
    assert_eq!((r.account.as_deref(), r.account_from.as_str()), (Some("111122223333"), "sts"));
    let call = |op: &str| r.calls.iter().find(|c| c.operation == op && c.service != "elbv2").unwrap();

    // Three pages merged into one CLI-shaped file, in order.
    let sgs = read(&region.join("describe-security-groups.json"));
    let ids: Vec<&str> =
        sgs["SecurityGroups"].as_array().unwrap().iter().map(|g| g["GroupId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["sg-1", "sg-2", "sg-3", "sg-4", "sg-5"]);
    assert_eq!(sgs.as_object().unwrap().len(), 1, "no NextToken in the file, as the CLI prints it");
    assert_eq!(sgs["SecurityGroups"][0]["IpPermissions"][0]["IpRanges"][0]["CidrIp"], "203.0.113.0/24");
    assert_eq!(sgs["SecurityGroups"][0]["IpPermissions"][0]["FromPort"], 22);
    let sg_call = call("DescribeSecurityGroups");
    assert_eq!((sg_call.pages, sg_call.items, sg_call.error.is_none()), (3, 5, true));
    let h = history.lock().unwrap().clone();
    let sg_requests: Vec<&Seen> = h.iter().filter(|s| s.action == "DescribeSecurityGroups").collect();
    let tokens: Vec<Option<&str>> = sg_requests.iter().map(|s| s.params.get("NextToken").map(String::as_str)).collect();
    assert_eq!(tokens, [None, Some("p2"), Some("p3")]);
    assert!(sg_requests.iter().all(|s| s.params.get("MaxResults").map(String::as_str) == Some("1000")));

    // Throttled once, retried by the SDK's standard policy, then answered.
    assert_eq!(h.iter().filter(|s| s.action == "DescribeVpcs").count(), 2);
    let vpcs = read(&region.join("describe-vpcs.json"));
    assert_eq!(vpcs["Vpcs"][0]["VpcId"], "vpc-1");
    assert_eq!(vpcs["Vpcs"][0]["IsDefault"], false);
    assert!(call("DescribeVpcs").error.is_none());

    // Denied: recorded with its code, no file, not retried.
    let subnets = call("DescribeSubnets");
    assert_eq!(subnets.error.as_ref().and_then(|e| e.code.as_deref()), Some("UnauthorizedOperation"));
    assert_eq!(subnets.file, None);
    assert!(!region.join("describe-subnets.json").exists());
    assert_eq!(h.iter().filter(|s| s.action == "DescribeSubnets").count(), 1);

    // A failure on page 2: the call fails as a whole, no half file.
    let enis = call("DescribeNetworkInterfaces");
    assert_eq!(enis.error.as_ref().and_then(|e| e.code.as_deref()), Some("InvalidParameterValue"));
    assert_eq!((enis.pages, enis.file.as_deref()), (1, None));
    assert!(!region.join("describe-network-interfaces.json").exists());
    assert!(!region.join("describe-network-interfaces.json.partial").exists());

    // elbv2 denied: no children asked (no load balancer is known).
    let lbs = r.calls.iter().find(|c| c.service == "elbv2" && c.operation == "DescribeLoadBalancers").unwrap();
    assert_eq!(lbs.error.as_ref().and_then(|e| e.code.as_deref()), Some("AccessDenied"));
    assert!(!r.calls.iter().any(|c| c.operation == "DescribeListeners"));

    // Every other call succeeded with an empty list, in the CLI's shape.
    let tgws = read(&region.join("describe-transit-gateways.json"));
    assert_eq!(tgws, serde_json::json!({"TransitGateways": []}));
    let classic = read(&region.join("describe-load-balancers-classic.json"));
    assert_eq!(classic, serde_json::json!({"LoadBalancerDescriptions": []}));
    let failed: Vec<&str> = r.calls.iter().filter(|c| c.error.is_some()).map(|c| c.command.as_str()).collect();
    assert_eq!(
        failed.len(),
        3,
        "only the scripted failures: {failed:?} (subnets, network interfaces, elbv2 load balancers)"
    );
}
