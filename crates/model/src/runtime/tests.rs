//! Merging, deltas, the remote-address cap and the JSON form, on hand-built records.

use super::*;

fn listener(port: u16) -> ListenerRecord {
    ListenerRecord {
        transport: Transport::Tcp,
        address: "0.0.0.0".into(),
        port,
        uid: 0,
        pid: Some(1),
        exe: Some("/usr/sbin/sshd".into()),
        seen: Seen::default(),
    }
}

fn outbound(remote: &str, port: u16, connections: u64) -> ConnectionRecord {
    ConnectionRecord {
        direction: Direction::Outbound,
        service_port: port,
        remote_address: remote.into(),
        exe: Some("/usr/bin/curl".into()),
        local_address: "10.0.0.1".into(),
        remote_port: port,
        pid: Some(7),
        connections,
        seen: Seen::default(),
    }
}

fn delta(seq: u64, at: u64) -> RuntimeDelta {
    RuntimeDelta {
        schema_version: RUNTIME_SCHEMA_VERSION,
        sampler: "s1".into(),
        seq,
        at,
        interval_secs: 10,
        resync: seq == 1,
        ..RuntimeDelta::default()
    }
}

#[test]
fn present_records_advance_without_being_resent() {
    let mut obs = RuntimeObservations::default();
    let mut d1 = delta(1, 100);
    d1.listeners.upserts.push(listener(22));
    assert_eq!(obs.merge(&d1), MergeResult::Applied);
    assert_eq!(obs.merge(&delta(2, 110)), MergeResult::Applied);
    let mut d3 = delta(3, 120);
    d3.listeners.gone.push(listener(22).key());
    obs.merge(&d3);
    obs.merge(&delta(4, 130));
    let r = obs.listeners.get(&listener(22).key()).unwrap();
    assert_eq!(r.seen, Seen { first_seen: 100, last_seen: 110, samples: 2, present: false });
    assert_eq!((obs.samples, obs.first_sample, obs.last_sample, obs.gaps), (4, Some(100), Some(130), 0));
}

#[test]
fn repeated_deltas_are_ignored_and_gaps_counted() {
    let mut obs = RuntimeObservations::default();
    obs.merge(&delta(1, 100));
    assert_eq!(obs.merge(&delta(1, 100)), MergeResult::Duplicate);
    obs.merge(&delta(4, 140));
    assert_eq!((obs.samples, obs.gaps), (2, 2));
    let mut other = delta(7, 150);
    other.sampler = "s2".into();
    obs.merge(&other);
    assert_eq!(obs.gaps, 3, "a new sampler must start with seq 1 and resync");
    let mut wrong = delta(8, 160);
    wrong.schema_version = 99;
    assert_eq!(obs.merge(&wrong), MergeResult::UnsupportedVersion);
}

#[test]
fn counters_add_up_and_descriptions_follow_the_latest() {
    let mut obs = RuntimeObservations::default();
    let mut d1 = delta(1, 100);
    d1.connections.upserts.push(outbound("192.0.2.1", 80, 2));
    obs.merge(&d1);
    let mut d2 = delta(2, 110);
    let mut later = outbound("192.0.2.1", 80, 3);
    later.pid = Some(9);
    d2.connections.upserts.push(later);
    obs.merge(&d2);
    let r = obs.connections.iter().next().unwrap();
    assert_eq!((r.connections, r.pid, r.seen.samples), (5, Some(9), 2));
}

#[test]
fn remote_addresses_beyond_the_cap_fold_into_one_record() {
    let mut obs = RuntimeObservations::default();
    let mut d1 = delta(1, 100);
    for i in 0..(MAX_REMOTES_PER_SERVICE + 10) {
        d1.connections.upserts.push(outbound(&format!("198.51.100.{i}"), 80, 1));
    }
    d1.connections.upserts.push(outbound("203.0.113.1", 443, 1));
    obs.merge(&d1);
    assert_eq!(obs.connections.len(), MAX_REMOTES_PER_SERVICE + 2);
    let overflow = obs.connections.iter().find(|r| r.remote_address == OVERFLOW_ADDRESS).unwrap();
    assert_eq!(overflow.connections, 10);
    // Folding what was already folded changes nothing (sampler and receiver agree).
    let again = fold_connections(&obs.connections, obs.connections.iter().cloned());
    assert_eq!(again.len(), obs.connections.len());
}

#[test]
fn diff_sends_only_changes() {
    let mut obs = RuntimeObservations::default();
    let mut d1 = delta(1, 100);
    d1.listeners.upserts.push(listener(22));
    d1.listeners.upserts.push(listener(80));
    obs.merge(&d1);
    let current: BTreeMap<_, _> = [listener(22), listener(443)].into_iter().map(|r| (r.key(), r)).collect();
    let d = obs.listeners.diff(&current);
    assert_eq!(d.upserts.iter().map(|r| r.port).collect::<Vec<_>>(), [443]);
    assert_eq!(d.gone, [listener(80).key()]);
    let mut moved = listener(22);
    moved.pid = Some(2);
    let current: BTreeMap<_, _> = [(moved.key(), moved)].into_iter().collect();
    assert_eq!(obs.listeners.diff(&current).upserts.len(), 1, "a changed owner is resent");
}

#[test]
fn counter_changes_travel_as_counts_and_volatile_fields_stay() {
    let mut obs = RuntimeObservations::default();
    let mut d1 = delta(1, 100);
    d1.connections.upserts.push(outbound("192.0.2.1", 80, 1));
    obs.merge(&d1);
    let mut again = outbound("192.0.2.1", 80, 2);
    again.pid = Some(99);
    again.remote_port = 81;
    let current: BTreeMap<_, _> = [(again.key(), again.clone())].into_iter().collect();
    let d = obs.connections.diff(&current);
    assert!(d.upserts.is_empty() && d.gone.is_empty());
    assert_eq!(d.counts, [(again.key(), 2)]);
    let mut d2 = delta(2, 110);
    d2.connections = d;
    obs.merge(&d2);
    let r = obs.connections.get(&again.key()).unwrap();
    assert_eq!((r.connections, r.pid, r.seen.samples), (3, Some(7), 2), "pid is volatile: not resent");
}

#[test]
fn json_round_trips_and_deltas_stay_small() {
    let mut obs = RuntimeObservations::default();
    let mut d1 = delta(1, 100);
    d1.listeners.upserts.push(listener(22));
    d1.connections.upserts.push(outbound("192.0.2.1", 23, 1));
    obs.merge(&d1);
    let text = serde_json::to_string(&obs).unwrap();
    let back: RuntimeObservations = serde_json::from_str(&text).unwrap();
    assert_eq!(back, obs);
    let steady = serde_json::to_string(&delta(2, 110)).unwrap();
    assert!(steady.len() < 100, "{steady}");
    let d: RuntimeDelta = serde_json::from_str(&serde_json::to_string(&d1).unwrap()).unwrap();
    assert_eq!(d, d1);
}

proptest::proptest! {
    /// Whatever the sequence of samples, deltas computed by `diff` and
    /// merged (by the sampler and, through JSON, by a receiver) give
    /// every record exactly the tally of the samples it was in.
    #[test]
    fn deltas_reproduce_the_samples(samples in proptest::collection::vec(proptest::collection::btree_set(0u16..12, 0..6), 1..15)) {
        let mut sampler = RuntimeObservations::default();
        let mut receiver = RuntimeObservations::default();
        for (i, ports) in samples.iter().enumerate() {
            let current: BTreeMap<_, _> = ports.iter().map(|p| (listener(*p).key(), listener(*p))).collect();
            let mut d = delta(i as u64 + 1, 100 + 10 * i as u64);
            d.listeners = sampler.listeners.diff(&current);
            sampler.merge(&d);
            let wire: RuntimeDelta = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
            receiver.merge(&wire);
        }
        proptest::prop_assert_eq!(&receiver, &sampler);
        for port in 0u16..12 {
            let times: Vec<u64> = samples.iter().enumerate().filter(|(_, s)| s.contains(&port)).map(|(i, _)| 100 + 10 * i as u64).collect();
            let record = receiver.listeners.get(&listener(port).key());
            match (times.first(), times.last(), record) {
                (None, _, None) => {}
                (Some(first), Some(last), Some(r)) => {
                    proptest::prop_assert_eq!((r.seen.first_seen, r.seen.last_seen, r.seen.samples as usize), (*first, *last, times.len()));
                    proptest::prop_assert_eq!(r.seen.present, samples.last().unwrap().contains(&port));
                }
                other => proptest::prop_assert!(false, "port {port}: {other:?}"),
            }
        }
    }
}

fn shared_object(pid: u32) -> SharedObjectRecord {
    SharedObjectRecord {
        path: "/usr/lib/x86_64-linux-gnu/libc.so.6".into(),
        loaded_by: "/usr/bin/make".into(),
        chain: vec![
            FileMode { mode: 0o100_755, uid: 0, gid: 0 },
            FileMode { mode: 0o040_755, uid: 0, gid: 0 },
            FileMode { mode: 0o040_755, uid: 0, gid: 0 },
            FileMode { mode: 0o040_755, uid: 0, gid: 0 },
            FileMode { mode: 0o040_755, uid: 0, gid: 0 },
        ],
        stat_error: None,
        pid,
        seen: Seen::default(),
    }
}

#[test]
fn a_shared_object_mapped_by_a_new_pid_is_not_resent() {
    let mut obs = RuntimeObservations::default();
    let first: BTreeMap<_, _> = [(shared_object(100).key(), shared_object(100))].into();
    let mut d1 = delta(1, 100);
    d1.shared_objects = obs.shared_objects.diff(&first);
    assert_eq!(d1.shared_objects.upserts.len(), 1);
    obs.merge(&d1);
    let later: BTreeMap<_, _> = [(shared_object(250).key(), shared_object(250))].into();
    assert!(obs.shared_objects.diff(&later).is_empty(), "only the pid changed");
}

#[test]
fn a_file_mode_is_a_three_number_array() {
    let json = serde_json::to_string(&shared_object(7)).unwrap();
    assert!(json.contains(r#""chain":[[33261,0,0],[16877,0,0],"#), "{json}");
    let back: SharedObjectRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back, shared_object(7));
    assert!(serde_json::from_str::<FileMode>(r#"{"mode":1,"uid":0,"gid":0}"#).is_err(), "version 1 form refused");
}
