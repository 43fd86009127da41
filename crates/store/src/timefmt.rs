//! Timestamps are stored and emitted as RFC 3339 UTC text with millisecond
//! precision (`2026-11-26T05:39:44.123Z`). A fixed-width format keeps text
//! ordering equal to chronological ordering, so `ORDER BY started_at` works.

use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

use crate::StoreError;

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Format `t` in UTC with exactly three fractional digits (truncated).
pub(crate) fn format_ts(t: OffsetDateTime) -> Result<String, StoreError> {
    Ok(t.to_offset(time::UtcOffset::UTC).format(FORMAT)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_utc_with_millis() {
        let t = datetime!(2026-11-26 07:39:44.123456 +02:00);
        assert_eq!(format_ts(t).unwrap(), "2026-11-26T05:39:44.123Z");
    }

    #[test]
    fn pads_zero_millis() {
        let t = datetime!(2026-01-02 03:04:05 UTC);
        assert_eq!(format_ts(t).unwrap(), "2026-01-02T03:04:05.000Z");
    }
}
