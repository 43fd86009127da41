//! RFC 4733 telephone-events the simulator sends on the caller stream: from 1 s in, each
//! digit lasts 100 ms (five 20 ms packets) followed by a 100 ms gap. Every event packet
//! carries the event's start timestamp and the duration so far (RFC 4733 2.5.1.2), the first
//! one has the marker bit (2.5.1.1), the last one the E bit and is sent three times
//! (2.5.1.4). Voice packets are suppressed while a digit plays, as real SRCs do.

use anyhow::bail;

/// Packet index (20 ms each) of the first digit: 1 s in.
pub(crate) const FIRST_PACKET: u64 = 50;
/// Packets a digit lasts (100 ms).
pub(crate) const DIGIT_PACKETS: u64 = 5;
/// Packets from one digit's start to the next's (100 ms tone + 100 ms gap).
pub(crate) const DIGIT_PERIOD: u64 = 10;
/// Volume written into the events (-10 dBm0).
const VOLUME: u8 = 10;

/// One telephone-event RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventPacket {
    pub(crate) marker: bool,
    /// The packet index whose timestamp the event carries (its start).
    pub(crate) start_packet: u64,
    pub(crate) payload: [u8; 4],
}

/// The digits to send.
#[derive(Debug, Clone, Default)]
pub(crate) struct DtmfPlan {
    events: Vec<u8>,
}

fn event_code(c: char) -> Option<u8> {
    // RFC 4733 section 3.2, table 3.
    match c {
        '0'..='9' => u8::try_from(u32::from(c) - u32::from('0')).ok(),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => u8::try_from(u32::from(c) - u32::from('A') + 12).ok(),
        'a'..='d' => u8::try_from(u32::from(c) - u32::from('a') + 12).ok(),
        _ => None,
    }
}

impl DtmfPlan {
    /// Parses `--dtmf` digits (0-9, *, #, A-D).
    pub(crate) fn parse(digits: &str) -> anyhow::Result<DtmfPlan> {
        let mut events = Vec::new();
        for c in digits.chars() {
            match event_code(c) {
                Some(e) => events.push(e),
                None => bail!("--dtmf: {c:?} is not a DTMF digit (0-9 * # A-D)"),
            }
        }
        Ok(DtmfPlan { events })
    }

    /// The event packets to send at packet index `n` instead of voice, or `None` for voice.
    /// `ticks` is the RTP timestamp increment of one 20 ms packet.
    pub(crate) fn packets_at(&self, n: u64, ticks: u32) -> Option<Vec<EventPacket>> {
        let since = n.checked_sub(FIRST_PACKET)?;
        let digit = usize::try_from(since / DIGIT_PERIOD).ok()?;
        let event = *self.events.get(digit)?;
        let j = since % DIGIT_PERIOD;
        if j >= DIGIT_PACKETS {
            return None;
        }
        let start_packet = n - j;
        let end = j + 1 == DIGIT_PACKETS;
        let duration = u16::try_from((j + 1) * u64::from(ticks)).unwrap_or(u16::MAX);
        let [d0, d1] = duration.to_be_bytes();
        let flags = (u8::from(end) << 7) | VOLUME;
        let p = EventPacket {
            marker: j == 0,
            start_packet,
            payload: [event, flags, d0, d1],
        };
        Some(if end { vec![p; 3] } else { vec![p] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapline_media::parse_telephone_events;

    #[test]
    fn digits_are_timed_and_flagged_per_rfc4733() {
        let plan = DtmfPlan::parse("1#").unwrap();
        assert_eq!(plan.events, vec![1, 11]);
        assert!(plan.packets_at(49, 160).is_none());
        let first = plan.packets_at(50, 160).unwrap();
        assert_eq!(first.len(), 1);
        assert!(first[0].marker);
        let ev = parse_telephone_events(&first[0].payload).unwrap();
        assert_eq!((ev[0].event, ev[0].end, ev[0].duration), (1, false, 160));
        let mid = plan.packets_at(52, 160).unwrap();
        assert!(!mid[0].marker);
        assert_eq!(mid[0].start_packet, 50);
        let last = plan.packets_at(54, 160).unwrap();
        assert_eq!(last.len(), 3, "end packet sent three times");
        let ev = parse_telephone_events(&last[0].payload).unwrap();
        assert_eq!((ev[0].end, ev[0].duration, ev[0].volume), (true, 800, 10));
        for gap in 55..60 {
            assert!(plan.packets_at(gap, 160).is_none(), "gap at {gap}");
        }
        let hash = plan.packets_at(60, 960).unwrap();
        assert!(hash[0].marker);
        assert_eq!(hash[0].payload[0], 11);
        assert_eq!(hash[0].start_packet, 60);
        assert!(plan.packets_at(70, 160).is_none());
    }

    #[test]
    fn rejects_non_digits() {
        assert!(DtmfPlan::parse("12x").is_err());
        assert_eq!(DtmfPlan::parse("*AD0").unwrap().events, vec![10, 12, 15, 0]);
    }
}
