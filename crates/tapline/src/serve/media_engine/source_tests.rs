use super::*;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

const SRC: &str = "192.0.2.10:40000";
const ATTACKER: &str = "198.51.100.66:5555";
const NAT: &str = "203.0.113.5:62000";

#[test]
fn auto_locks_on_the_offered_address_and_drops_the_rest() {
    let t0 = Instant::now();
    let mut f = SourceFilter::new(SourcePolicy::Auto, ip("192.0.2.10"));
    assert_eq!(f.check(t0, addr(SRC)), Verdict::Record);
    assert_eq!(f.source(), Some(addr(SRC)));
    assert_eq!(f.check(t0, addr(ATTACKER)), Verdict::Drop);
    // Same host, another port, while the source is sending: dropped too.
    let ms = Duration::from_millis;
    assert_eq!(
        f.check(t0 + ms(20), addr("192.0.2.10:40002")),
        Verdict::Drop
    );
    assert_eq!(f.check(t0 + ms(40), addr(SRC)), Verdict::Record);
    let r = f.report();
    assert_eq!(r.foreign, 2);
    assert_eq!(r.first_foreign, Some(addr(ATTACKER)));
    assert_eq!(r.latched_instead, None);
    assert!(f.accepts_rtcp(addr("192.0.2.10:40001")));
    assert!(!f.accepts_rtcp(addr(ATTACKER)));
}

#[test]
fn an_injector_sending_first_does_not_take_the_stream() {
    let t0 = Instant::now();
    let mut f = SourceFilter::new(SourcePolicy::Auto, ip("192.0.2.10"));
    assert_eq!(f.check(t0, addr(ATTACKER)), Verdict::Hold);
    assert_eq!(f.holding(), Some(addr(ATTACKER)));
    // The real source arrives within the latch delay: it wins, the held packets are foreign.
    assert_eq!(
        f.check(t0 + Duration::from_millis(300), addr(SRC)),
        Verdict::Record
    );
    assert_eq!(f.holding(), None);
    assert_eq!(f.check(t0 + LATCH_AFTER * 2, addr(ATTACKER)), Verdict::Drop);
}

#[test]
fn auto_latches_the_one_other_source_when_the_offered_address_stays_silent() {
    let t0 = Instant::now();
    let mut f = SourceFilter::new(SourcePolicy::Auto, ip("10.0.0.8"));
    let mut t = t0;
    while t < t0 + LATCH_AFTER {
        assert_eq!(f.check(t, addr(NAT)), Verdict::Hold);
        t += Duration::from_millis(20);
    }
    assert_eq!(f.check(t, addr(NAT)), Verdict::Latched);
    assert_eq!(f.check(t, addr(NAT)), Verdict::Record);
    assert_eq!(f.check(t, addr("10.0.0.8:4000")), Verdict::Drop);
    let r = f.report();
    assert_eq!(
        r.latched_instead,
        Some(("10.0.0.8".parse().unwrap(), addr(NAT)))
    );
    assert_eq!(r.source, Some(addr(NAT)));
}

#[test]
fn two_other_sources_are_ambiguous_and_nothing_is_latched() {
    let t0 = Instant::now();
    let mut f = SourceFilter::new(SourcePolicy::Auto, ip("10.0.0.8"));
    assert_eq!(f.check(t0, addr(NAT)), Verdict::Hold);
    assert_eq!(f.check(t0, addr(ATTACKER)), Verdict::Drop);
    assert_eq!(f.holding(), None, "the held packets are given up");
    assert_eq!(f.check(t0 + LATCH_AFTER * 3, addr(NAT)), Verdict::Drop);
    assert_eq!(
        f.check(t0 + LATCH_AFTER * 3, addr("10.0.0.8:7000")),
        Verdict::Record
    );
}

#[test]
fn offer_never_latches_anything_else() {
    let t0 = Instant::now();
    let mut f = SourceFilter::new(SourcePolicy::Offer, ip("10.0.0.8"));
    assert_eq!(f.check(t0, addr(NAT)), Verdict::Drop);
    assert_eq!(f.check(t0 + LATCH_AFTER * 5, addr(NAT)), Verdict::Drop);
    assert_eq!(f.report().foreign, 2);
}

#[test]
fn latch_takes_the_first_sender_and_any_takes_all() {
    let t0 = Instant::now();
    let mut f = SourceFilter::new(SourcePolicy::Latch, ip("10.0.0.8"));
    assert_eq!(f.check(t0, addr(NAT)), Verdict::Record);
    assert_eq!(f.check(t0, addr(SRC)), Verdict::Drop);
    let mut any = SourceFilter::new(SourcePolicy::Any, ip("10.0.0.8"));
    assert_eq!(any.check(t0, addr(NAT)), Verdict::Record);
    assert_eq!(any.check(t0, addr(SRC)), Verdict::Record);
    assert_eq!(any.report().foreign, 0);
}

#[test]
fn without_an_offered_address_the_first_sender_is_latched() {
    let t0 = Instant::now();
    let mut f = SourceFilter::new(SourcePolicy::Auto, None);
    assert_eq!(f.check(t0, addr(SRC)), Verdict::Record);
    assert_eq!(f.check(t0, addr(ATTACKER)), Verdict::Drop);
}

#[test]
fn a_quiet_source_may_move_to_another_port_of_its_host() {
    let t0 = Instant::now();
    let mut f = SourceFilter::new(SourcePolicy::Auto, ip("192.0.2.10"));
    assert_eq!(f.check(t0, addr(SRC)), Verdict::Record);
    let moved = addr("192.0.2.10:41000");
    assert_eq!(f.check(t0 + RELOCK_QUIET, moved), Verdict::Record);
    assert_eq!(f.source(), Some(moved));
    assert_eq!(
        f.check(t0 + RELOCK_QUIET, addr(SRC)),
        Verdict::Drop,
        "the old port is foreign now"
    );
}

#[test]
fn a_reoffer_moving_the_stream_awaits_the_new_address() {
    let t0 = Instant::now();
    let mut f = SourceFilter::new(SourcePolicy::Offer, ip("192.0.2.10"));
    assert_eq!(f.check(t0, addr(SRC)), Verdict::Record);
    f.reoffered(ip("192.0.2.10"));
    assert_eq!(
        f.check(t0, addr(SRC)),
        Verdict::Record,
        "same address: kept"
    );
    f.reoffered(ip("192.0.2.20"));
    assert_eq!(f.check(t0, addr(SRC)), Verdict::Drop);
    assert_eq!(f.check(t0, addr("192.0.2.20:50000")), Verdict::Record);
}

#[test]
fn policies_parse() {
    assert_eq!("AUTO".parse::<SourcePolicy>(), Ok(SourcePolicy::Auto));
    assert_eq!("offer".parse::<SourcePolicy>(), Ok(SourcePolicy::Offer));
    assert!("nope".parse::<SourcePolicy>().is_err());
    assert_eq!(SourcePolicy::default(), SourcePolicy::Auto);
}

#[test]
fn a_held_source_is_latched_when_the_stream_ends_first() {
    let t0 = Instant::now();
    let mut f = SourceFilter::new(SourcePolicy::Auto, ip("10.0.0.8"));
    assert_eq!(f.check(t0, addr(NAT)), Verdict::Hold);
    assert_eq!(f.latch_at_end(t0), Some(addr(NAT)));
    assert_eq!(f.report().latched_instead.map(|(_, a)| a), Some(addr(NAT)));
    let mut ambiguous = SourceFilter::new(SourcePolicy::Auto, ip("10.0.0.8"));
    ambiguous.check(t0, addr(NAT));
    ambiguous.check(t0, addr(ATTACKER));
    assert_eq!(ambiguous.latch_at_end(t0), None);
    let mut offer = SourceFilter::new(SourcePolicy::Offer, ip("10.0.0.8"));
    offer.check(t0, addr(NAT));
    assert_eq!(offer.latch_at_end(t0), None);
}
